/**
 * Sign In With Solana (SIWS): the Wallet Standard `solana:signIn` input, its message text (the
 * EIP-4361 format with "Solana account"), a strict parser, and the checks a server makes on a
 * signed message. No I/O: the nonce's single use is the caller's job.
 */

/** The `solana:signIn` input the server issues; every field is set, so the message is fixed. */
export interface SignInInput {
	domain: string;
	address: string;
	statement: string;
	uri: string;
	version: "1";
	chainId: string;
	nonce: string;
	issuedAt: string;
	expirationTime: string;
}

/** Any message in the SIWS format: only `domain` and `address` are required by the grammar. */
export interface SignInFields {
	domain: string;
	address: string;
	statement?: string;
	uri?: string;
	version?: string;
	chainId?: string;
	nonce?: string;
	issuedAt?: string;
	expirationTime?: string;
	notBefore?: string;
	requestId?: string;
	resources?: string[];
}

const HEADER = " wants you to sign in with your Solana account:";

/** The tagged fields, in the order the format requires. */
const FIELDS = [
	["uri", "URI"],
	["version", "Version"],
	["chainId", "Chain ID"],
	["nonce", "Nonce"],
	["issuedAt", "Issued At"],
	["expirationTime", "Expiration Time"],
	["notBefore", "Not Before"],
	["requestId", "Request ID"],
] as const satisfies readonly (readonly [keyof SignInFields, string])[];

/** The cluster names wallets use as a SIWS chain id; mainnet-beta is "mainnet". */
export function chainIdForCluster(cluster: string | undefined): string {
	switch (cluster) {
		case "devnet":
		case "testnet":
		case "localnet":
			return cluster;
		default:
			return "mainnet";
	}
}

/** The server's sign-in request: issued now, valid for `ttlMs`. */
export function createSignInInput(params: {
	domain: string;
	address: string;
	statement: string;
	uri: string;
	chainId: string;
	nonce: string;
	now: number;
	ttlMs: number;
}): SignInInput {
	return {
		domain: params.domain,
		address: params.address,
		statement: params.statement,
		uri: params.uri,
		version: "1",
		chainId: params.chainId,
		nonce: params.nonce,
		issuedAt: new Date(params.now).toISOString(),
		expirationTime: new Date(params.now + params.ttlMs).toISOString(),
	};
}

/**
 * The exact text a wallet signs for `fields`, as `@solana/wallet-standard-util` builds it:
 *
 * ```
 * ${domain} wants you to sign in with your Solana account:
 * ${address}
 *
 * ${statement}
 *
 * URI: … / Version: … / Chain ID: … / Nonce: … / Issued At: … / Expiration Time: … / …
 * ```
 */
export function formatSignInMessage(fields: SignInFields): string {
	let message = `${fields.domain}${HEADER}\n${fields.address}`;
	if (fields.statement) message += `\n\n${fields.statement}`;
	const lines: string[] = [];
	for (const [key, tag] of FIELDS) {
		const value = fields[key];
		if (value) lines.push(`${tag}: ${value}`);
	}
	if (fields.resources?.length) {
		lines.push("Resources:", ...fields.resources.map((r) => `- ${r}`));
	}
	if (lines.length > 0) message += `\n\n${lines.join("\n")}`;
	return message;
}

/**
 * Parses a SIWS message strictly: fields in order, each at most once, no stray lines. Returns
 * null for anything else, so a message is accepted only in the one form its fields print to.
 */
export function parseSignInMessage(text: string): SignInFields | null {
	const blocks = text.split("\n\n");
	const head = blocks[0]?.split("\n") ?? [];
	if (head.length !== 2) return null;
	const [first, address] = head as [string, string];
	if (!first.endsWith(HEADER)) return null;
	const domain = first.slice(0, -HEADER.length);
	if (!domain || /\s/.test(domain) || !address || /\s/.test(address)) return null;
	const fields: SignInFields = { domain, address };

	let rest = blocks.slice(1);
	if (rest.length > 2) return null;
	// One block left is the statement or the fields; the fields' first line names its tag.
	if (rest.length === 2 || (rest.length === 1 && !startsWithField(rest[0] as string))) {
		const statement = rest[0] as string;
		if (!statement || statement.includes("\n")) return null;
		fields.statement = statement;
		rest = rest.slice(1);
	}
	if (rest.length === 1 && !parseFields(rest[0] as string, fields)) return null;

	// The one form these fields print to: refuses anything the grammar leaves ambiguous.
	return formatSignInMessage(fields) === text ? fields : null;
}

function startsWithField(block: string): boolean {
	return FIELDS.some(([, tag]) => block.startsWith(`${tag}: `)) || /^Resources:(\n|$)/.test(block);
}

function parseFields(block: string, into: SignInFields): boolean {
	const lines = block.split("\n");
	let next = 0;
	let i = 0;
	for (; i < lines.length; i++) {
		const line = lines[i] as string;
		if (line === "Resources:") break;
		const index = FIELDS.findIndex(([, tag], at) => at >= next && line.startsWith(`${tag}: `));
		if (index < 0) return false;
		const [key, tag] = FIELDS[index] as (typeof FIELDS)[number];
		const value = line.slice(tag.length + 2);
		if (!value) return false;
		into[key] = value;
		next = index + 1;
	}
	if (i < lines.length) {
		const resources = lines.slice(i + 1);
		if (resources.length === 0 || !resources.every((r) => r.startsWith("- ") && r.length > 2))
			return false;
		into.resources = resources.map((r) => r.slice(2));
	}
	return lines.length > 0;
}

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

function parseTime(value: string | undefined): number | null {
	if (value === undefined || !ISO_8601.test(value)) return null;
	const ms = Date.parse(value);
	return Number.isNaN(ms) ? null : ms;
}

export type SignInRefusal =
	| "malformed"
	| "domain_mismatch"
	| "address_mismatch"
	| "chain_mismatch"
	| "expired"
	| "not_yet_valid"
	| "bad_signature";

export type SignInCheck =
	| { ok: true; fields: SignInFields & { nonce: string; issuedAt: string; expirationTime: string } }
	| { ok: false; reason: SignInRefusal; message: string };

/** How far a wallet's or our clock may drift before `Issued At` counts as in the future. */
export const CLOCK_SKEW_MS = 60_000;

/**
 * Checks a signed SIWS message: it parses, names our domain, the signer's address and our chain,
 * is current (issued no later than `now` plus the skew, not expired, past any Not Before), and
 * carries a valid ed25519 signature by `publicKey` over the exact bytes. The nonce is returned
 * for the caller to consume.
 */
export async function checkSignIn(params: {
	signedMessage: Uint8Array;
	signature: Uint8Array;
	/** The address's 32 bytes. */
	publicKey: Uint8Array;
	expected: { domain: string; address: string; chainId: string };
	now: number;
	skewMs?: number;
}): Promise<SignInCheck> {
	const skew = params.skewMs ?? CLOCK_SKEW_MS;
	let text: string;
	try {
		text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(params.signedMessage);
	} catch {
		return refuse("malformed", "The signed message is not UTF-8 text.");
	}
	const fields = parseSignInMessage(text);
	if (!fields)
		return refuse("malformed", "The signed message is not a Sign In With Solana message.");
	const { nonce, issuedAt, expirationTime } = fields;
	const issued = parseTime(issuedAt);
	const expires = parseTime(expirationTime);
	if (
		!nonce ||
		!issuedAt ||
		!expirationTime ||
		issued === null ||
		expires === null ||
		fields.version !== "1"
	) {
		return refuse(
			"malformed",
			"The signed message lacks a nonce, a version 1, or valid Issued At and Expiration Time.",
		);
	}
	if (fields.domain !== params.expected.domain) {
		return refuse("domain_mismatch", `The message is for '${fields.domain}', not this site.`);
	}
	if (fields.address !== params.expected.address) {
		return refuse("address_mismatch", "The message names another address than the one signing in.");
	}
	if (fields.chainId !== params.expected.chainId) {
		return refuse("chain_mismatch", `The message is for the chain '${fields.chainId ?? ""}'.`);
	}
	if (expires <= params.now) return refuse("expired", "The sign-in request has expired.");
	const notBefore = fields.notBefore === undefined ? issued : parseTime(fields.notBefore);
	if (notBefore === null) return refuse("malformed", "The Not Before time is not valid.");
	if (issued > params.now + skew || notBefore > params.now + skew) {
		return refuse("not_yet_valid", "The sign-in request is not valid yet.");
	}
	if (!(await verifyEd25519(params.publicKey, params.signature, params.signedMessage))) {
		return refuse("bad_signature", "The signature does not match the message and address.");
	}
	return { ok: true, fields: { ...fields, nonce, issuedAt, expirationTime } };
}

function refuse(reason: SignInRefusal, message: string): SignInCheck {
	return { ok: false, reason, message };
}

/** Ed25519 through Web Crypto (workerd and Node both implement it); a bad key is a bad signature. */
export async function verifyEd25519(
	publicKey: Uint8Array,
	signature: Uint8Array,
	message: Uint8Array,
): Promise<boolean> {
	if (publicKey.byteLength !== 32 || signature.byteLength !== 64) return false;
	try {
		const key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, [
			"verify",
		]);
		return await crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
	} catch {
		return false;
	}
}
