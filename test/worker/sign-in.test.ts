import { env } from "cloudflare:workers";
import { getAddressDecoder } from "@solana/kit";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { formatSignInMessage, type SignInInput } from "../../src/domain/siws";
import {
	call,
	createMerchant,
	createPayment,
	expectApiError,
	json,
	type PaymentJson,
} from "./helpers/api";
import { paymentObject } from "./helpers/objects";

interface Wallet {
	address: string;
	sign(message: Uint8Array): Promise<Uint8Array>;
}

interface Challenge {
	input: SignInInput;
	message: string;
}

interface MeJson {
	customer: {
		id: string;
		name: string | null;
		preferred_token: string | null;
		wallets: { address: string; verified: boolean }[];
	};
	payments: {
		id: string;
		amount: number;
		currency: string;
		status: string;
		created: number;
		description: string | null;
	}[];
}

type Merchant = Awaited<ReturnType<typeof createMerchant>>;

/** A wallet as Phantom holds one: an ed25519 key pair made by Web Crypto. */
async function newWallet(): Promise<Wallet> {
	const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
		"sign",
		"verify",
	])) as CryptoKeyPair;
	const raw = new Uint8Array((await crypto.subtle.exportKey("raw", pair.publicKey)) as ArrayBuffer);
	return {
		address: getAddressDecoder().decode(raw),
		sign: async (message) =>
			new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, pair.privateKey, message)),
	};
}

const encode = (text: string) => new TextEncoder().encode(text);
const base64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
const DOMAIN = () => new URL(env.PUBLIC_BASE_URL).host;

async function challengeFor(paymentId: string, address: string): Promise<Challenge> {
	const res = await call("POST", `/checkout/${paymentId}/sign-in/challenge`, {
		body: { address },
	});
	if (res.status !== 200) throw new Error(`challenge failed: ${res.status} ${await res.text()}`);
	return json<Challenge>(res);
}

/** Signs `message` with `signer` and posts it, as the checkout page does with the wallet's output. */
async function postSignIn(
	paymentId: string,
	signer: Wallet,
	message: string | Uint8Array,
	options: { address?: string; signature?: Uint8Array } = {},
): Promise<Response> {
	const bytes = typeof message === "string" ? encode(message) : message;
	return call("POST", `/checkout/${paymentId}/sign-in`, {
		body: {
			address: options.address ?? signer.address,
			signed_message: base64(bytes),
			signature: base64(options.signature ?? (await signer.sign(bytes))),
		},
	});
}

function sessionCookie(res: Response): string {
	const header = res.headers.get("Set-Cookie") ?? "";
	const match = /^sp_session=([^;]+)/.exec(header);
	if (!match?.[1]) throw new Error(`no session cookie in ${header}`);
	return match[1];
}

/** The whole flow: challenge, wallet signature, sign-in. Returns the session cookie's value. */
async function signIn(paymentId: string, wallet: Wallet): Promise<string> {
	const { message } = await challengeFor(paymentId, wallet.address);
	const res = await postSignIn(paymentId, wallet, message);
	if (res.status !== 200) throw new Error(`sign-in failed: ${res.status} ${await res.text()}`);
	return sessionCookie(res);
}

function me(paymentId: string, session?: string): Promise<Response> {
	return call("GET", `/checkout/${paymentId}/me`, {
		headers: session ? { Cookie: `sp_session=${session}` } : {},
	});
}

async function createCustomer(key: string, body: Record<string, unknown>) {
	const res = await call("POST", "/v1/customers", { key, body });
	if (res.status !== 200) throw new Error(`customer failed: ${res.status} ${await res.text()}`);
	return json<{ id: string; wallets: { address: string; verified_at: number | null }[] }>(res);
}

let m: Merchant;
let other: Merchant;
let wallet: Wallet;
let payment: PaymentJson;

beforeAll(async () => {
	m = await createMerchant("Sign-in Shop");
	other = await createMerchant("Other Shop");
	wallet = await newWallet();
	payment = await createPayment(m.sk, { description: "Today's order" });
});

describe("POST /checkout/:id/sign-in/challenge", () => {
	it("issues a SIWS input for our domain and chain, and its exact message", async () => {
		const before = Date.now();
		const { input, message } = await challengeFor(payment.id, wallet.address);
		expect(input).toStrictEqual({
			domain: DOMAIN(),
			address: wallet.address,
			statement:
				"Sign in to pay Sign-in Shop with this wallet and see your past payments. This sends no transaction and costs nothing.",
			uri: new URL(`/checkout/${payment.id}`, env.PUBLIC_BASE_URL).toString(),
			version: "1",
			chainId: "localnet",
			nonce: expect.stringMatching(/^[0-9A-Za-z]{22}$/),
			issuedAt: expect.any(String),
			expirationTime: expect.any(String),
		});
		const issued = Date.parse(input.issuedAt);
		expect(issued).toBeGreaterThanOrEqual(before - 1);
		expect(Date.parse(input.expirationTime) - issued).toBe(5 * 60 * 1000);
		expect(message).toBe(
			[
				`${DOMAIN()} wants you to sign in with your Solana account:`,
				wallet.address,
				"",
				input.statement,
				"",
				`URI: ${input.uri}`,
				"Version: 1",
				"Chain ID: localnet",
				`Nonce: ${input.nonce}`,
				`Issued At: ${input.issuedAt}`,
				`Expiration Time: ${input.expirationTime}`,
			].join("\n"),
		);
		const row = await env.DB.prepare(
			"SELECT payment_id, merchant_id, livemode, address, expires_at FROM sign_in_nonces WHERE nonce = ?",
		)
			.bind(input.nonce)
			.first();
		expect(row).toEqual({
			payment_id: payment.id,
			merchant_id: m.merchant.id,
			livemode: 0,
			address: wallet.address,
			expires_at: Math.floor(Date.parse(input.expirationTime) / 1000),
		});
	});

	it("issues a fresh nonce every time", async () => {
		const a = await challengeFor(payment.id, wallet.address);
		const b = await challengeFor(payment.id, wallet.address);
		expect(a.input.nonce).not.toBe(b.input.nonce);
	});

	it("refuses an address that is not a Solana address, and an unknown payment", async () => {
		await expectApiError(
			await call("POST", `/checkout/${payment.id}/sign-in/challenge`, {
				body: { address: "0xabc" },
			}),
			"parameter_invalid",
			"address",
		);
		await expectApiError(
			await call("POST", "/checkout/pay_01JD4X7K3M9ZQ8W6V5T4S3R2P1N0M9/sign-in/challenge", {
				body: { address: wallet.address },
			}),
			"resource_missing",
			"id",
		);
	});

	it("limits open challenges per payment", async () => {
		const p = await createPayment(m.sk);
		const w = await newWallet();
		for (let i = 0; i < 20; i++) await challengeFor(p.id, w.address);
		await expectApiError(
			await call("POST", `/checkout/${p.id}/sign-in/challenge`, { body: { address: w.address } }),
			"rate_limited",
		);
	});
});

describe("POST /checkout/:id/sign-in", () => {
	it("signs in a wallet the merchant already knows: wallet verified, past payments shown", async () => {
		const payer = await newWallet();
		const customer = await createCustomer(m.sk, {
			email: "payer@example.com",
			name: "Pat Payer",
			preferred_token: "USDC",
			wallets: [payer.address],
		});
		const older = await createPayment(m.sk, { customer: customer.id, amount: 1200 });
		const newer = await createPayment(m.sk, {
			customer: customer.id,
			amount: 3400,
			currency: "eur",
			description: "Second order",
		});
		await createPayment(m.sk); // not this customer's
		const checkout = await createPayment(m.sk);

		const { message } = await challengeFor(checkout.id, payer.address);
		const res = await postSignIn(checkout.id, payer, message);
		expect(res.status).toBe(200);
		expect(res.headers.get("Cache-Control")).toBe("no-store");
		const expected: MeJson = {
			customer: {
				id: customer.id,
				name: "Pat Payer",
				preferred_token: "USDC",
				wallets: [{ address: payer.address, verified: true }],
			},
			payments: [newer, older].map((p) => ({
				id: p.id,
				amount: p.amount,
				currency: p.currency,
				status: "requires_payment",
				created: p.created,
				description: (p.description as string | null) ?? null,
			})),
		};
		expect(await json(res)).toStrictEqual(expected);

		const session = sessionCookie(res);
		const viewed = await me(checkout.id, session);
		expect(viewed.status).toBe(200);
		expect(await json(viewed)).toStrictEqual(expected);

		const stored = await json<{ wallets: { address: string; verified_at: number | null }[] }>(
			await call("GET", `/v1/customers/${customer.id}`, { key: m.sk }),
		);
		expect(stored.wallets[0]?.verified_at).toEqual(expect.any(Number));
	});

	it("creates a customer for a new wallet, with the wallet verified", async () => {
		const payer = await newWallet();
		const session = await signIn(payment.id, payer);
		const body = await json<MeJson>(await me(payment.id, session));
		expect(body).toStrictEqual({
			customer: {
				id: expect.stringMatching(/^cus_/),
				name: null,
				preferred_token: null,
				wallets: [{ address: payer.address, verified: true }],
			},
			payments: [],
		});
		const customer = await json<{ wallets: { verified_at: number | null }[]; livemode: boolean }>(
			await call("GET", `/v1/customers/${body.customer.id}`, { key: m.sk }),
		);
		expect(customer.livemode).toBe(false);
		expect(customer.wallets[0]?.verified_at).toEqual(expect.any(Number));
		// Signing in again finds the same customer.
		const again = await json<MeJson>(await me(payment.id, await signIn(payment.id, payer)));
		expect(again.customer.id).toBe(body.customer.id);
	});

	it("sets a Secure, HttpOnly, SameSite=Lax session cookie on /checkout for 12 hours", async () => {
		const payer = await newWallet();
		const { message } = await challengeFor(payment.id, payer.address);
		const res = await postSignIn(payment.id, payer, message);
		const cookie = res.headers.get("Set-Cookie") ?? "";
		const attributes = cookie.split("; ").slice(1).sort();
		expect(attributes).toEqual([
			"HttpOnly",
			"Max-Age=43200",
			"Path=/checkout",
			"SameSite=Lax",
			"Secure",
		]);
		const token = sessionCookie(res);
		expect(decodeProtectedHeader(token)).toEqual({ alg: "HS256", typ: "payer-session+jwt" });
		const claims = decodeJwt(token);
		expect(claims).toStrictEqual({
			sub: expect.stringMatching(/^cus_/),
			merchant: m.merchant.id,
			livemode: false,
			wallet: payer.address,
			iss: env.PUBLIC_BASE_URL,
			aud: "checkout",
			iat: expect.any(Number),
			exp: expect.any(Number),
			jti: expect.any(String),
		});
		expect((claims.exp as number) - (claims.iat as number)).toBe(12 * 60 * 60);
	});

	it("refuses a replayed nonce", async () => {
		const payer = await newWallet();
		const { message } = await challengeFor(payment.id, payer.address);
		expect((await postSignIn(payment.id, payer, message)).status).toBe(200);
		const replay = await postSignIn(payment.id, payer, message);
		const error = await expectApiError(replay, "sign_in_invalid");
		expect(error.message).toContain("already used");
		expect(replay.headers.get("Set-Cookie")).toBeNull();
	});

	it("refuses an expired message", async () => {
		const payer = await newWallet();
		const { input } = await challengeFor(payment.id, payer.address);
		const past = Date.now() - 10 * 60 * 1000;
		const expired = formatSignInMessage({
			...input,
			issuedAt: new Date(past).toISOString(),
			expirationTime: new Date(past + 5 * 60 * 1000).toISOString(),
		});
		const error = await expectApiError(
			await postSignIn(payment.id, payer, expired),
			"sign_in_invalid",
		);
		expect(error.message).toBe("The sign-in request has expired.");
	});

	it("refuses a nonce whose challenge has expired, even in a message that says otherwise", async () => {
		const payer = await newWallet();
		const { input, message } = await challengeFor(payment.id, payer.address);
		await env.DB.prepare("UPDATE sign_in_nonces SET expires_at = ? WHERE nonce = ?")
			.bind(Math.floor(Date.now() / 1000) - 1, input.nonce)
			.run();
		await expectApiError(await postSignIn(payment.id, payer, message), "sign_in_invalid");
	});

	it("refuses a message issued in the future beyond 60 s of skew", async () => {
		const payer = await newWallet();
		const { input } = await challengeFor(payment.id, payer.address);
		const future = formatSignInMessage({
			...input,
			issuedAt: new Date(Date.now() + 2 * 60 * 1000).toISOString(),
		});
		const error = await expectApiError(
			await postSignIn(payment.id, payer, future),
			"sign_in_invalid",
		);
		expect(error.message).toBe("The sign-in request is not valid yet.");
	});

	it("refuses a message for another domain", async () => {
		const payer = await newWallet();
		const { input } = await challengeFor(payment.id, payer.address);
		const phished = formatSignInMessage({ ...input, domain: "pay.evil.example" });
		const error = await expectApiError(
			await postSignIn(payment.id, payer, phished),
			"sign_in_invalid",
		);
		expect(error.message).toContain("pay.evil.example");
	});

	it("refuses a message naming another address than the one signing in", async () => {
		const payer = await newWallet();
		const victim = await newWallet();
		const { message } = await challengeFor(payment.id, victim.address);
		// The message names the victim's address; the attacker signs it and posts their own.
		const error = await expectApiError(
			await postSignIn(payment.id, payer, message),
			"sign_in_invalid",
		);
		expect(error.message).toContain("another address");
		// Posting the victim's address with the attacker's signature fails the signature check.
		const forged = await postSignIn(payment.id, payer, message, { address: victim.address });
		expect((await expectApiError(forged, "sign_in_invalid")).message).toContain("signature");
	});

	it("refuses a nonce issued for another address", async () => {
		const payer = await newWallet();
		const someone = await newWallet();
		const { input } = await challengeFor(payment.id, someone.address);
		const borrowed = formatSignInMessage({ ...input, address: payer.address });
		const error = await expectApiError(
			await postSignIn(payment.id, payer, borrowed),
			"sign_in_invalid",
		);
		expect(error.message).toContain("not issued here");
	});

	it("refuses a nonce issued at another merchant", async () => {
		const payer = await newWallet();
		const theirs = await createPayment(other.sk);
		const { message } = await challengeFor(theirs.id, payer.address);
		await expectApiError(await postSignIn(payment.id, payer, message), "sign_in_invalid");
		// The nonce was not spent by the refused attempt: it still works where it was issued.
		expect((await postSignIn(theirs.id, payer, message)).status).toBe(200);
	});

	it("refuses a tampered message", async () => {
		const payer = await newWallet();
		const { message } = await challengeFor(payment.id, payer.address);
		const signature = await payer.sign(encode(message));
		const tampered = message.replace("Sign in to pay", "Sign in to pay nothing to");
		const error = await expectApiError(
			await postSignIn(payment.id, payer, tampered, { signature }),
			"sign_in_invalid",
		);
		expect(error.message).toBe("The signature does not match the message and address.");
		// A refused signature does not burn the nonce: the genuine message still signs in.
		expect((await postSignIn(payment.id, payer, message, { signature })).status).toBe(200);
	});

	it("refuses a bad signature, and one of the wrong size as a parameter error", async () => {
		const payer = await newWallet();
		const { message } = await challengeFor(payment.id, payer.address);
		const random = crypto.getRandomValues(new Uint8Array(64));
		await expectApiError(
			await postSignIn(payment.id, payer, message, { signature: random }),
			"sign_in_invalid",
		);
		await expectApiError(
			await postSignIn(payment.id, payer, message, { signature: random.slice(0, 32) }),
			"parameter_invalid",
			"signature",
		);
	});

	it("refuses bytes that are not a sign-in message", async () => {
		const payer = await newWallet();
		const error = await expectApiError(
			await postSignIn(payment.id, payer, "please sign this"),
			"sign_in_invalid",
		);
		expect(error.message).toContain("not a Sign In With Solana message");
	});
});

describe("GET /checkout/:id/me", () => {
	it("is 401 without a session, with a forged one, and with one signed by another secret", async () => {
		await expectApiError(await me(payment.id), "session_required");
		await expectApiError(await me(payment.id, "not.a.jwt"), "session_required");
		const session = await signIn(payment.id, await newWallet());
		const [header, payload] = session.split(".");
		await expectApiError(
			await me(payment.id, `${header}.${payload}.c2lnbmF0dXJl`),
			"session_required",
		);
	});

	it("is 401 for a session of merchant A on a payment of merchant B", async () => {
		const session = await signIn(payment.id, wallet);
		const theirs = await createPayment(other.sk);
		await expectApiError(await me(theirs.id, session), "session_required");
		// Nor in the other mode of the same merchant.
		const live = await createPayment(m.skLive);
		await expectApiError(await me(live.id, session), "session_required");
		expect((await me(payment.id, session)).status).toBe(200);
	});

	it("never attaches the payer to the payment being viewed", async () => {
		const p = await createPayment(m.sk);
		const session = await signIn(p.id, await newWallet());
		const before = await paymentObject(p.id).get();
		expect((await me(p.id, session)).status).toBe(200);
		const after = await paymentObject(p.id).get();
		expect(after).toEqual(before);
		expect(after?.customer ?? null).toBeNull();
	});

	it("ends the session when the merchant removes the wallet or deletes the customer", async () => {
		const payer = await newWallet();
		const session = await signIn(payment.id, payer);
		const { customer } = await json<MeJson>(await me(payment.id, session));
		await call("POST", `/v1/customers/${customer.id}`, { key: m.sk, body: { wallets: [] } });
		await expectApiError(await me(payment.id, session), "session_required");

		const second = await signIn(payment.id, payer);
		const { customer: recreated } = await json<MeJson>(await me(payment.id, second));
		await call("DELETE", `/v1/customers/${recreated.id}`, { key: m.sk });
		await expectApiError(await me(payment.id, second), "session_required");
	});
});

describe("POST /checkout/:id/sign-out", () => {
	it("clears the cookie and revokes the session: the old token no longer works", async () => {
		const session = await signIn(payment.id, await newWallet());
		expect((await me(payment.id, session)).status).toBe(200);
		const res = await call("POST", `/checkout/${payment.id}/sign-out`, {
			headers: { Cookie: `sp_session=${session}` },
		});
		expect(res.status).toBe(204);
		expect(res.headers.get("Set-Cookie")).toMatch(/^sp_session=; Max-Age=0; .*Path=\/checkout/);
		await expectApiError(await me(payment.id), "session_required");
		await expectApiError(await me(payment.id, session), "session_required");
		const { jti, exp } = decodeJwt(session);
		expect(
			await env.DB.prepare("SELECT expires_at FROM revoked_sessions WHERE jti = ?")
				.bind(jti)
				.first(),
		).toEqual({ expires_at: exp });
	});

	it("is 204 without a session", async () => {
		expect((await call("POST", `/checkout/${payment.id}/sign-out`)).status).toBe(204);
	});
});
