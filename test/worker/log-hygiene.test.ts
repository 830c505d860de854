import { env } from "cloudflare:workers";
import { getAddressDecoder } from "@solana/kit";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { admin, call, createMerchant, createPayment, json, unknownKey } from "./helpers/api";
import { deliver, deliverAll, eventsFor, stripe } from "./helpers/stripe";
import { createEndpoint, runWebhooks, sink } from "./helpers/webhooks";

/**
 * Everything the gateway writes to the console during a full flow (merchant and keys, payments,
 * a card payment, a webhook endpoint and a delivery, a customer with an email, a wallet sign-in,
 * failed authentication, a key rotation) is captured here and searched for secrets.
 */
const lines: string[] = [];
const spies: ReturnType<typeof vi.spyOn>[] = [];

beforeAll(() => {
	for (const method of ["log", "info", "warn", "error", "debug"] as const) {
		const original = console[method].bind(console);
		spies.push(
			vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
				lines.push(args.map((a) => (typeof a === "string" ? a : safeString(a))).join(" "));
				original(...args);
			}),
		);
	}
});

afterAll(() => {
	for (const spy of spies) spy.mockRestore();
});

function safeString(value: unknown): string {
	if (value instanceof Error) return `${value.name}: ${value.message}\n${value.stack ?? ""}`;
	try {
		return JSON.stringify(value);
	} catch {
		return String(value);
	}
}

async function newWallet() {
	const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
		"sign",
		"verify",
	])) as CryptoKeyPair;
	const raw = new Uint8Array((await crypto.subtle.exportKey("raw", pair.publicKey)) as ArrayBuffer);
	return {
		address: getAddressDecoder().decode(raw),
		sign: async (message: Uint8Array) =>
			new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, pair.privateKey, message)),
	};
}

const base64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));

describe("log hygiene", () => {
	it("logs no API key, webhook secret, card number, settlement key, JWT or email in a full flow", async () => {
		const secrets: string[] = [];
		const m = await createMerchant("Hygiene");
		secrets.push(...m.keys.map((k) => k.secret));

		// Keys: an extra one, rolled, revoked.
		const extra = await json<{ id: string; secret: string }>(
			await admin("POST", `/admin/v1/merchants/${m.merchant.id}/keys`, {
				type: "secret",
				livemode: false,
			}),
		);
		const rolled = await json<{ key: { id: string; secret: string } }>(
			await admin("POST", `/admin/v1/merchants/${m.merchant.id}/keys/${extra.id}/roll`, {
				expires_in: 0,
			}),
		);
		secrets.push(extra.secret, rolled.key.secret);
		await admin("POST", `/admin/v1/merchants/${m.merchant.id}/keys/${rolled.key.id}/revoke`);
		// Failed authentication with keys that look real, and one that is revoked.
		await call("GET", "/v1/payments", { key: unknownKey() });
		await call("GET", "/v1/payments", { key: rolled.key.secret });
		await call("GET", "/v1/payments", { key: extra.secret });

		// A customer with an email, and a wallet sign-in on a payment's checkout.
		const email = "jenny.rosen.hygiene@example.com";
		await call("POST", "/v1/customers", { key: m.sk, body: { email, name: "Jenny" } });
		await call("GET", `/v1/customers?email=${encodeURIComponent(email)}`, { key: m.sk });
		const p = await createPayment(m.sk, { description: "Order 42" });
		const checkout = await (await call("GET", `/checkout/${p.id}`)).text();
		const token = /eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/.exec(checkout)?.[0];
		if (token) {
			secrets.push(token);
			await call("POST", `/v1/payments/${p.id}/quote`, { key: token, body: { token: "USDC" } });
			await call("POST", `/v1/payments/${p.id}/quote`, { key: `${token}x`, body: {} });
		}
		const wallet = await newWallet();
		const challenge = await json<{ message: string }>(
			await call("POST", `/checkout/${p.id}/sign-in/challenge`, {
				body: { address: wallet.address },
			}),
		);
		const message = new TextEncoder().encode(challenge.message);
		const signedIn = await call("POST", `/checkout/${p.id}/sign-in`, {
			body: {
				address: wallet.address,
				signed_message: base64(message),
				signature: base64(await wallet.sign(message)),
			},
		});
		const session = /sp_session=([^;]+)/.exec(signedIn.headers.get("Set-Cookie") ?? "")?.[1];
		expect(session).toBeDefined();
		secrets.push(session as string);
		await call("GET", `/checkout/${p.id}/me`, { headers: { Cookie: `sp_session=${session}x` } });

		// A card payment with 4242 4242 4242 4242, and a Stripe webhook with a bad signature.
		const card = await createPayment(m.sk, { amount: 5000, payment_method_types: ["card"] });
		const opened = await json<{ client_secret: string }>(
			await call("POST", `/checkout/${card.id}/card`, { body: {} }),
		);
		secrets.push(opened.client_secret);
		const intentId = opened.client_secret.slice(0, opened.client_secret.indexOf("_secret_"));
		const pm = await stripe.paymentMethods
			.create({
				type: "card",
				card: { number: "4242424242424242", exp_month: 12, exp_year: 2034, cvc: "123" },
			})
			.catch(() => ({ id: "pm_card_visa" }));
		await stripe.paymentIntents.confirm(intentId, { payment_method: pm.id });
		await deliverAll(intentId);
		const [event] = await eventsFor(intentId);
		if (event) await deliver(event, { secret: "whsec_wrongwrongwrongwrongwrong" });

		// A webhook endpoint with its secret, and a delivery signed with it.
		const receiver = sink();
		const endpoint = await createEndpoint(m.sk, { url: receiver.url });
		secrets.push(endpoint.secret);
		const { results } = await env.DB.prepare(
			"SELECT id FROM events WHERE merchant_id = ? ORDER BY id DESC LIMIT 1",
		)
			.bind(m.merchant.id)
			.all<{ id: string }>();
		if (results[0]) await runWebhooks([{ body: { kind: "event", event_id: results[0].id } }]);
		await admin("POST", "/admin/v1/encryption/rotate", { limit: 500 });

		const output = lines.join("\n");
		// The capture sees the Worker's own log lines (the rotation job logs each batch).
		expect(output).toContain("encryption rotation batch");
		for (const secret of secrets) expect(output).not.toContain(secret);
		expect(output).not.toMatch(/\b[sp]k_(test|live)_[0-9A-Za-z]{16,}/);
		expect(output).not.toMatch(/whsec_[A-Za-z0-9+/=]{8,}/);
		expect(output).not.toMatch(/4242[ -]?4242[ -]?4242[ -]?4242/);
		expect(output).not.toMatch(/eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\./);
		expect(output).not.toMatch(/[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z]{2,}/);
		expect(output).not.toContain(env.SETTLEMENT_WALLET_KEY as string);
		expect(output).not.toContain(env.ADMIN_TOKEN as string);
		expect(output).not.toContain(env.SESSION_SECRET as string);
		expect(output).not.toContain((env.ENCRYPTION_KEYS as string).split(":")[1]);
		expect(output).not.toContain(env.STRIPE_SECRET_KEY as string);
		expect(output).not.toContain(env.STRIPE_WEBHOOK_SECRET as string);
	});
});
