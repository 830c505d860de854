import { getAddressEncoder, getBase58Encoder, address as toAddress } from "@solana/kit";
import { getConfig } from "../config";
import type { EventRow } from "../db/events";
import { announcementStatements } from "../db/payout-destination-announcements";
import {
	getChallenge,
	insertChallenge,
	openChallengeCount,
} from "../db/payout-destination-challenges";
import {
	addFromChallenge,
	findWalletDestination,
	getDestination,
	hasDefault,
	listDestinations,
	makeDefault,
	removeDestination,
} from "../db/payout-destinations";
import { newId, randomBase62 } from "../domain/ids";
import type { Owner } from "../domain/owner";
import {
	type PayoutDestinationRow,
	toApiDestination,
	usableAfterFor,
} from "../domain/payout-destination";
import { nonceOfProofMessage, payoutProofMessage } from "../domain/payout-destination-proof";
import { verifyEd25519 } from "../domain/siws";
import type { Env } from "../env";
import { ApiError, notFound } from "../lib/errors";
import type { AuditActor } from "./audit";
import { publishEvents } from "./events";
import { getMerchant } from "./merchants";
import { assertRefundDestination } from "./refunds";

/** How long a wallet has to sign the issued message. */
export const PROOF_CHALLENGE_TTL_SECONDS = 10 * 60;
/** Open challenges per merchant: enough for real retries, not a D1 write amplifier. */
const MAX_OPEN_CHALLENGES = 50;
/** Destinations (not removed) per merchant and mode: more is a mistake, or an attack. */
export const MAX_DESTINATIONS = 50;

/** Refuses a new destination past MAX_DESTINATIONS in this mode. */
export async function checkDestinationRoom(env: Env, owner: Owner): Promise<void> {
	const rows = await listDestinations(env.DB, owner.merchantId, owner.livemode, {
		limit: MAX_DESTINATIONS,
	});
	if (rows.length >= MAX_DESTINATIONS) {
		throw new ApiError(
			"resource_conflict",
			`At most ${MAX_DESTINATIONS} payout destinations per mode; remove one first.`,
		);
	}
}

export interface ProofChallenge {
	object: "payout_destination_challenge";
	address: string;
	nonce: string;
	/** The exact text to sign: its UTF-8 bytes. */
	message: string;
	expires_at: number;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Issues the message a wallet signs to become a payout destination of this merchant and mode. */
export async function createProofChallenge(
	env: Env,
	owner: Owner,
	address: string,
): Promise<ProofChallenge> {
	const now = nowSeconds();
	if ((await openChallengeCount(env.DB, owner.merchantId, now)) >= MAX_OPEN_CHALLENGES) {
		throw new ApiError("rate_limited", "Too many open payout destination challenges; retry later.");
	}
	// Payouts go to a wallet: never a program, a mint, a token account or the gateway's own wallet.
	await assertRefundDestination(env, address, {
		param: "address",
		hint: "Name the wallet that owns the token accounts, not an account of a program.",
	});
	const merchant = await getMerchant(env.DB, owner.merchantId);
	// 22 base62 characters: about 131 bits.
	const nonce = randomBase62(22);
	const expires = now + PROOF_CHALLENGE_TTL_SECONDS;
	const message = payoutProofMessage({
		domain: new URL(env.PUBLIC_BASE_URL).host,
		merchantId: owner.merchantId,
		merchantName: merchant?.name ?? "",
		livemode: owner.livemode,
		address,
		nonce,
		issuedAt: now,
		expiresAt: expires,
	});
	await insertChallenge(env.DB, {
		nonce,
		merchant_id: owner.merchantId,
		livemode: owner.livemode ? 1 : 0,
		address,
		message,
		expires,
		created: now,
	});
	return { object: "payout_destination_challenge", address, nonce, message, expires_at: expires };
}

/** A 64-byte ed25519 signature in base58 (Solana's usual text form) or base64; null otherwise. */
export function decodeSignature(text: string): Uint8Array | null {
	try {
		if (/^[1-9A-HJ-NP-Za-km-z]{64,90}$/.test(text)) {
			const bytes = new Uint8Array(getBase58Encoder().encode(text));
			if (bytes.length === 64) return bytes;
		}
		if (/^[A-Za-z0-9+/]{86}==$/.test(text)) {
			return Uint8Array.from(atob(text), (ch) => ch.charCodeAt(0));
		}
	} catch {
		return null;
	}
	return null;
}

function refuse(message: string, param: string): ApiError {
	return new ApiError("parameter_invalid", message, param);
}

/**
 * Adds a wallet destination from a proof: an ed25519 signature by `address` over the exact bytes
 * of a message this gateway issued to this merchant, mode and address, unexpired and unused. The
 * nonce is consumed only after the signature is good (a forgery cannot burn it), by a conditional
 * update, so of a replay or two racing proofs exactly one adds a destination.
 */
export async function addWalletDestination(
	env: Env,
	owner: Owner,
	actor: AuditActor,
	proof: { address: string; message: string; signature: string },
): Promise<PayoutDestinationRow> {
	const signature = decodeSignature(proof.signature);
	if (!signature) {
		throw refuse(
			"The signature must be a 64-byte ed25519 signature, base58 or base64.",
			"signature",
		);
	}
	const nonce = nonceOfProofMessage(proof.message);
	const challenge = nonce ? await getChallenge(env.DB, nonce) : null;
	if (!challenge || challenge.message !== proof.message) {
		throw refuse(
			"The message was not issued by this gateway (or was changed); request a challenge and sign its message exactly.",
			"message",
		);
	}
	if (challenge.merchant_id !== owner.merchantId) {
		throw refuse("The message was issued to another merchant.", "message");
	}
	if ((challenge.livemode === 1) !== owner.livemode) {
		throw refuse(
			`The message was issued for ${challenge.livemode === 1 ? "live" : "test"} mode; this request is in ${owner.livemode ? "live" : "test"} mode.`,
			"message",
		);
	}
	if (challenge.address !== proof.address) {
		throw refuse(
			`The message was issued for another address (${challenge.address}), not ${proof.address}.`,
			"address",
		);
	}
	const now = nowSeconds();
	if (challenge.used !== null) {
		throw refuse("This message was already used; request a new challenge.", "message");
	}
	if (challenge.expires <= now) {
		throw refuse("This message has expired; request a new challenge.", "message");
	}
	const publicKey = new Uint8Array(getAddressEncoder().encode(toAddress(proof.address)));
	const bytes = new TextEncoder().encode(proof.message);
	if (!(await verifyEd25519(publicKey, signature, bytes))) {
		throw refuse(`The signature was not made by ${proof.address} over this message.`, "signature");
	}
	if (await findWalletDestination(env.DB, owner.merchantId, owner.livemode, proof.address)) {
		throw new ApiError(
			"resource_conflict",
			`${proof.address} is already a payout destination in this mode.`,
			"address",
		);
	}
	await checkDestinationRoom(env, owner);
	const row = await newDestinationRow(env, owner, now, {
		id: newId("payoutDestination"),
		type: "solana_wallet",
		address: proof.address,
		stripe_account_id: null,
		status: "active",
	});
	const { statements, event } = announcement(env, actor, row, "created");
	const consumed = await addFromChallenge(env.DB, { nonce: challenge.nonce, now, row }, statements);
	if (!consumed) {
		throw refuse("This message was already used; request a new challenge.", "message");
	}
	await publishEvents(env, [event]);
	return row;
}

/**
 * A new destination's row: the merchant's first of its type in this mode becomes the default,
 * and it is usable only after the cooling-off period.
 */
export async function newDestinationRow(
	env: Env,
	owner: Owner,
	now: number,
	fields: Pick<PayoutDestinationRow, "id" | "type" | "address" | "stripe_account_id" | "status">,
): Promise<PayoutDestinationRow> {
	return {
		id: fields.id,
		merchant_id: owner.merchantId,
		livemode: owner.livemode ? 1 : 0,
		type: fields.type,
		address: fields.address,
		stripe_account_id: fields.stripe_account_id,
		status: fields.status,
		is_default: (await hasDefault(env.DB, owner.merchantId, owner.livemode, fields.type)) ? 0 : 1,
		usable_after: usableAfterFor(
			owner.livemode,
			now,
			getConfig(env).PAYOUT_DESTINATION_COOLING_OFF_SECONDS,
		),
		created: now,
		updated: now,
		removed: null,
	};
}

/** One destination of this merchant and mode (removed ones too), or a 404. */
export async function loadDestination(
	env: Env,
	owner: Owner,
	id: string,
): Promise<PayoutDestinationRow> {
	const row = await getDestination(env.DB, owner.merchantId, owner.livemode, id);
	if (!row) throw notFound("payout destination", id);
	return row;
}

export function listPayoutDestinations(
	env: Env,
	owner: Owner,
	options: { includeRemoved?: boolean; limit?: number } = {},
): Promise<PayoutDestinationRow[]> {
	return listDestinations(env.DB, owner.merchantId, owner.livemode, options);
}

/** Removes a destination; a pending or in-transit payout to it makes this a 409. */
export async function removePayoutDestination(
	env: Env,
	owner: Owner,
	actor: AuditActor,
	id: string,
): Promise<PayoutDestinationRow> {
	const before = await loadDestination(env, owner, id);
	const now = nowSeconds();
	const row: PayoutDestinationRow = {
		...before,
		status: "removed",
		is_default: 0,
		removed: now,
		updated: now,
	};
	const { statements, event } = announcement(env, actor, row, "removed");
	const result = await removeDestination(env.DB, { ...owner, id, now }, statements);
	if (result === "not_found") throw notFound("payout destination", id);
	if (result === "in_use") {
		throw new ApiError(
			"resource_conflict",
			"A pending or in-transit payout goes to this destination; remove it once that payout is paid, failed or canceled.",
			"id",
		);
	}
	await publishEvents(env, [event]);
	return row;
}

/**
 * Makes a destination the default of its type. In live mode its cooling-off period starts again:
 * redirecting payouts is exactly what an account takeover would do.
 */
export async function makeDefaultDestination(
	env: Env,
	owner: Owner,
	actor: AuditActor,
	id: string,
): Promise<PayoutDestinationRow> {
	const before = await loadDestination(env, owner, id);
	if (before.status === "removed") {
		throw new ApiError("resource_conflict", "This payout destination was removed.", "id");
	}
	if (before.is_default === 1) return before;
	const now = nowSeconds();
	const usableAfter = usableAfterFor(
		owner.livemode,
		now,
		getConfig(env).PAYOUT_DESTINATION_COOLING_OFF_SECONDS,
	);
	const row: PayoutDestinationRow = {
		...before,
		is_default: 1,
		usable_after: Math.max(before.usable_after, usableAfter),
		updated: now,
	};
	const { statements, event } = announcement(env, actor, row, "updated", { default: true });
	const changed = await makeDefault(env.DB, { ...owner, id, now, usableAfter }, statements);
	if (changed) await publishEvents(env, [event]);
	return loadDestination(env, owner, id);
}

/** The event type (and audit action) of each change, written out for the event-type scan. */
const CHANGE_TYPES = {
	created: "payout_destination.created",
	updated: "payout_destination.updated",
	removed: "payout_destination.removed",
} as const;

/**
 * A change's announcement, made at once and before it can move money: an event (webhooks) and an
 * audit log entry naming who made it, as statements for the change's own D1 batch (see
 * announcementStatements), and the event to publish once the batch has landed.
 */
export function announcement(
	env: Pick<Env, "DB">,
	actor: AuditActor,
	row: PayoutDestinationRow,
	change: keyof typeof CHANGE_TYPES,
	details: Record<string, unknown> = {},
): { statements: D1PreparedStatement[]; event: EventRow } {
	const nowMs = Date.now();
	const created = Math.floor(nowMs / 1000);
	const livemode = row.livemode === 1;
	const event: EventRow = {
		id: newId("event", nowMs),
		merchant_id: row.merchant_id,
		livemode,
		type: CHANGE_TYPES[change],
		object_id: row.id,
		object_version: null,
		data: JSON.stringify(toApiDestination(row)),
		created,
	};
	const statements = announcementStatements(env.DB, {
		event,
		audit: {
			id: newId("auditLog", nowMs),
			merchant_id: row.merchant_id,
			livemode,
			action: CHANGE_TYPES[change],
			actor_type: actor.type,
			actor_id: actor.id,
			actor_role: actor.role ?? null,
			object_id: row.id,
			details: {
				type: row.type,
				...(row.address ? { address: row.address } : {}),
				...(row.stripe_account_id ? { stripe_account: row.stripe_account_id } : {}),
				status: row.status,
				default: row.is_default === 1,
				usable_after: row.usable_after,
				...details,
			},
			created,
		},
	});
	return { statements, event };
}
