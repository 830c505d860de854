/**
 * Prefixed, creation-sortable identifiers: `pay_` + 10 Crockford base32 characters of the
 * millisecond timestamp + 20 characters (100 bits) of randomness. Lexicographic order equals
 * creation order to the millisecond, which keeps cursor pagination on the primary key cheap.
 */
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

export const ID_PREFIXES = {
	merchant: "mch",
	apiKey: "key",
	payment: "pay",
	customer: "cus",
	event: "evt",
	refund: "re",
	transfer: "tr",
	request: "req",
	queueFailure: "qf",
	paymentLink: "plink",
	webhookEndpoint: "we",
	webhookAttempt: "wha",
	webhookRedelivery: "whr",
	conversion: "conv",
	auditLog: "aud",
	report: "rpt",
	user: "usr",
	invitation: "inv",
	passkey: "psk",
	challenge: "wac",
	payoutDestination: "pd",
	payout: "po",
} as const;

export type IdKind = keyof typeof ID_PREFIXES;

export function newId(kind: IdKind, now: number = Date.now()): string {
	return `${ID_PREFIXES[kind]}_${encodeTime(now)}${randomBase32(20)}`;
}

export function isId(kind: IdKind, value: string): boolean {
	return new RegExp(`^${ID_PREFIXES[kind]}_[0-9A-HJKMNP-TV-Z]{30}$`).test(value);
}

/** Milliseconds since the epoch encoded in an id's time part. */
export function idTime(id: string): number {
	const body = id.slice(id.indexOf("_") + 1, id.indexOf("_") + 11);
	let ms = 0;
	for (const ch of body) ms = ms * 32 + ALPHABET.indexOf(ch);
	return ms;
}

function encodeTime(ms: number): string {
	let out = "";
	let rest = ms;
	for (let i = 0; i < 10; i++) {
		out = ALPHABET[rest % 32] + out;
		rest = Math.floor(rest / 32);
	}
	return out;
}

function randomBase32(length: number): string {
	const bytes = crypto.getRandomValues(new Uint8Array(length));
	let out = "";
	for (const b of bytes) out += ALPHABET[b & 31];
	return out;
}

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** A random base62 string of `length` characters (about 5.95 bits each), for secrets. */
export function randomBase62(length: number): string {
	const out: string[] = [];
	while (out.length < length) {
		// Rejection sampling keeps every character uniform: 248 = 62 * 4.
		for (const b of crypto.getRandomValues(new Uint8Array(length * 2))) {
			if (b < 248 && out.length < length) out.push(BASE62[b % 62] as string);
		}
	}
	return out.join("");
}

/**
 * The smallest id of `kind` minted at or after `ms`: turns a `created` range into an id range,
 * which the (merchant, mode, id) indexes answer without scanning.
 */
export function lowestIdAt(kind: IdKind, ms: number): string {
	return `${ID_PREFIXES[kind]}_${encodeTime(Math.max(0, ms))}`;
}
