import { expect } from "vitest";
import { ADMIN_TOKEN, call, json } from "./api";
import { BASE, Browser } from "./dashboard";

// A software authenticator for the Worker suite: real ES256 keys, real CBOR attestation ("none")
// and real signatures, so the gateway's @simplewebauthn/server verifies them exactly as it does
// a browser's. The browser suite uses Chromium's virtual authenticator instead.

const enc = new TextEncoder();

function b64url(bytes: Uint8Array): string {
	let binary = "";
	for (const b of bytes) binary += String.fromCharCode(b);
	return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function concat(...parts: Uint8Array[]): Uint8Array {
	const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
	let at = 0;
	for (const p of parts) {
		out.set(p, at);
		at += p.length;
	}
	return out;
}

/** The CBOR the attestation needs: small maps of ints, strings and byte strings. */
function cbor(value: unknown): Uint8Array {
	const head = (major: number, n: number): Uint8Array => {
		if (n < 24) return new Uint8Array([(major << 5) | n]);
		if (n < 256) return new Uint8Array([(major << 5) | 24, n]);
		return new Uint8Array([(major << 5) | 25, n >> 8, n & 255]);
	};
	if (typeof value === "number") return value >= 0 ? head(0, value) : head(1, -1 - value);
	if (typeof value === "string")
		return concat(head(3, enc.encode(value).length), enc.encode(value));
	if (value instanceof Uint8Array) return concat(head(2, value.length), value);
	if (value instanceof Map) {
		const parts = [head(5, value.size)];
		for (const [k, v] of value) parts.push(cbor(k), cbor(v));
		return concat(...parts);
	}
	throw new Error(`cbor: cannot encode ${typeof value}`);
}

async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
	return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

/** WebCrypto signs ECDSA as r‖s; WebAuthn wants ASN.1 DER. */
function derSignature(raw: Uint8Array): Uint8Array {
	const int = (bytes: Uint8Array) => {
		let b = bytes;
		while (b.length > 1 && b[0] === 0 && ((b[1] as number) & 0x80) === 0) b = b.slice(1);
		if (((b[0] as number) & 0x80) !== 0) b = concat(new Uint8Array([0]), b);
		return concat(new Uint8Array([0x02, b.length]), b);
	};
	const body = concat(int(raw.slice(0, 32)), int(raw.slice(32)));
	return concat(new Uint8Array([0x30, body.length]), body);
}

interface Credential {
	id: Uint8Array;
	key: CryptoKeyPair;
	counter: number;
	userHandle: string;
}

type CreationOptions = { challenge: string; rp: { id: string }; user: { id: string } };
type RequestOptions = { challenge: string; rpId: string; allowCredentials?: { id: string }[] };

export class Authenticator {
	readonly credentials: Credential[] = [];

	constructor(readonly origin = BASE) {}

	async create(options: CreationOptions) {
		const key = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
			"sign",
			"verify",
		])) as CryptoKeyPair;
		const jwk = (await crypto.subtle.exportKey("jwk", key.publicKey)) as JsonWebKey;
		const fromB64 = (s: string) =>
			Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));
		const credential: Credential = {
			id: crypto.getRandomValues(new Uint8Array(16)),
			key,
			counter: 0,
			userHandle: options.user.id,
		};
		this.credentials.push(credential);
		const cose = cbor(
			new Map<number, unknown>([
				[1, 2],
				[3, -7],
				[-1, 1],
				[-2, fromB64(jwk.x as string)],
				[-3, fromB64(jwk.y as string)],
			]),
		);
		const authData = concat(
			await sha256(enc.encode(options.rp.id)),
			new Uint8Array([0x45, 0, 0, 0, 0]),
			new Uint8Array(16),
			new Uint8Array([0, credential.id.length]),
			credential.id,
			cose,
		);
		const clientData = enc.encode(
			JSON.stringify({
				type: "webauthn.create",
				challenge: options.challenge,
				origin: this.origin,
			}),
		);
		const attestation = cbor(
			new Map<string, unknown>([
				["fmt", "none"],
				["attStmt", new Map()],
				["authData", authData],
			]),
		);
		return {
			id: b64url(credential.id),
			rawId: b64url(credential.id),
			type: "public-key",
			response: {
				clientDataJSON: b64url(clientData),
				attestationObject: b64url(attestation),
				transports: ["internal"],
			},
			clientExtensionResults: {},
		};
	}

	/** An assertion by `credential` (default: the first allowed one, or the first of all). */
	async get(options: RequestOptions, credential?: Credential) {
		const allowed = options.allowCredentials?.map((c) => c.id);
		const cred =
			credential ??
			this.credentials.find((c) => !allowed || allowed.includes(b64url(c.id))) ??
			this.credentials[0];
		if (!cred) throw new Error("no credential");
		cred.counter += 1;
		const n = cred.counter;
		const authData = concat(
			await sha256(enc.encode(options.rpId)),
			new Uint8Array([0x05, n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]),
		);
		const clientData = enc.encode(
			JSON.stringify({ type: "webauthn.get", challenge: options.challenge, origin: this.origin }),
		);
		const signed = concat(authData, await sha256(clientData));
		const raw = new Uint8Array(
			await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, cred.key.privateKey, signed),
		);
		return {
			id: b64url(cred.id),
			rawId: b64url(cred.id),
			type: "public-key",
			response: {
				clientDataJSON: b64url(clientData),
				authenticatorData: b64url(authData),
				signature: b64url(derSignature(raw)),
				userHandle: cred.userHandle,
			},
			clientExtensionResults: {},
		};
	}
}

/** A person in the Worker suite: their browser (cookie), authenticator and ids. */
export interface Person {
	browser: Browser;
	authenticator: Authenticator;
	userId: string;
	email: string;
	recoveryCodes: string[];
}

/** The admin API's invitation for `email` as `role` at the merchant: its id and secret. */
export async function adminInvitation(merchantId: string, email: string, role = "owner") {
	const res = await call("POST", `/admin/v1/merchants/${merchantId}/invitations`, {
		key: ADMIN_TOKEN,
		body: { email, role },
	});
	expect(res.status, await res.clone().text()).toBe(201);
	const body = await json<{ url: string; invitation: { id: string } }>(res);
	return { id: body.invitation.id, token: new URL(body.url).hash.slice(1), url: body.url };
}

/** Registers a new person's passkey through an invitation, as the join page's script does. */
export async function registerThroughInvitation(
	invitation: { id: string; token: string },
	email: string,
	authenticator = new Authenticator(),
	browser = new Browser(),
): Promise<Person> {
	const options = await browser.postJson("/dashboard/auth/register/options", {
		kind: "invitation",
		invitation: invitation.id,
		token: invitation.token,
	});
	expect(options.status, await options.clone().text()).toBe(200);
	const { challenge_id, options: creation } = await options.json<{
		challenge_id: string;
		options: CreationOptions;
	}>();
	const response = await authenticator.create(creation);
	const verified = await browser.postJson("/dashboard/auth/register/verify", {
		challenge_id,
		response,
		name: "Test passkey",
	});
	expect(verified.status, await verified.clone().text()).toBe(200);
	const body = await verified.json<{ recovery_codes: string[] }>();
	const userId = atob(creation.user.id.replace(/-/g, "+").replace(/_/g, "/"));
	return { browser, authenticator, userId, email, recoveryCodes: body.recovery_codes };
}

/** A new person with `role` at the merchant, signed in (the registration signs them in). */
export async function person(merchantId: string, role: string, email?: string): Promise<Person> {
	const address = email ?? `${role}-${crypto.randomUUID().slice(0, 8)}@team.example`;
	return registerThroughInvitation(await adminInvitation(merchantId, address, role), address);
}

/** Signs in with a passkey in a fresh (or given) browser. */
export async function passkeySignIn(
	authenticator: Authenticator,
	browser = new Browser(),
): Promise<{ res: Response; browser: Browser }> {
	const options = await browser.postJson("/dashboard/auth/sign-in/options", {});
	expect(options.status).toBe(200);
	const { challenge_id, options: request } = await options.json<{
		challenge_id: string;
		options: RequestOptions;
	}>();
	const response = await authenticator.get(request);
	const res = await browser.postJson("/dashboard/auth/sign-in/verify", {
		challenge_id,
		response,
		next: "/dashboard",
	});
	return { res, browser };
}

/** Passes a step-up with the person's passkey. */
export async function stepUpWith(p: Person, csrf: string): Promise<Response> {
	const options = await p.browser.postJson("/dashboard/auth/step-up/options", {}, csrf);
	expect(options.status, await options.clone().text()).toBe(200);
	const { challenge_id, options: request } = await options.json<{
		challenge_id: string;
		options: RequestOptions;
	}>();
	return p.browser.postJson(
		"/dashboard/auth/step-up/verify",
		{ challenge_id, response: await p.authenticator.get(request) },
		csrf,
	);
}

/** The cookie of an owner's session switched to live mode (live mode needs a person). */
export async function liveSessionCookie(merchantId: string): Promise<string> {
	const { browser } = await person(merchantId, "owner");
	const res = await browser.post("/dashboard/mode", { csrf: await browser.csrf(), mode: "live" });
	expect(res.status).toBe(303);
	return browser.cookie as string;
}
