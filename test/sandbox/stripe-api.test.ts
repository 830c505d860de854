import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { canonicalParams, Params, parseForm } from "../../sandbox/stripe/form.js";
import { IDEMPOTENCY_TTL_MS } from "../../sandbox/stripe/idempotency.js";
import { card, rejection, useStripeSandbox } from "./stripe-helpers.js";

// The request pipeline: form encoding, API-key auth, idempotent replays, expand, error shapes.

let clock = Date.UTC(2026, 5, 1, 12, 0, 0);

const { sandbox, stripe } = await useStripeSandbox({ now: () => clock });

/** stripe-node with another API key, pointed at the emulator without retries. */
function clientWithKey(apiKey: string): Stripe {
	return new Stripe(apiKey, {
		httpClient: Stripe.createFetchHttpClient(),
		host: "127.0.0.1",
		port: Number(new URL(sandbox.urls.stripe).port),
		protocol: "http",
		maxNetworkRetries: 0,
	});
}

/** With the fetch client, lastResponse.headers is a fetch Headers object despite its type. */
function header(response: { headers: unknown }, name: string): string | null {
	const headers = response.headers as Headers | Record<string, string>;
	return headers instanceof Headers ? headers.get(name) : (headers[name] ?? null);
}

describe("form encoding", () => {
	it("parses bracketed keys, appended lists and percent-encoding", () => {
		const form = parseForm(
			"amount=100&metadata[order]=a+b%26c&expand[]=latest_charge&expand[]=payment_method&card%5Bnumber%5D=4242&types[0]=card&types[1]=link",
		);
		expect(form).toEqual({
			amount: "100",
			metadata: { order: "a b&c" },
			expand: { 0: "latest_charge", 1: "payment_method" },
			card: { number: "4242" },
			types: { 0: "card", 1: "link" },
		});
		const params = new Params(form);
		expect(params.list("expand")).toEqual(["latest_charge", "payment_method"]);
		expect(params.metadata()).toEqual({ clear: false, set: { order: "a b&c" } });
		expect(params.object("card")?.name("number")).toBe("card[number]");
	});

	it("compares parameters regardless of order", () => {
		expect(canonicalParams(parseForm("a=1&m[x]=2&m[y]=3"))).toBe(
			canonicalParams(parseForm("m[y]=3&a=1&m[x]=2")),
		);
		expect(canonicalParams(parseForm("a=1"))).not.toBe(canonicalParams(parseForm("a=2")));
	});
});

describe("authentication", () => {
	const post = (authorization?: string) =>
		fetch(`${sandbox.urls.stripe}/v1/payment_intents`, {
			method: "POST",
			headers: {
				"content-type": "application/x-www-form-urlencoded",
				...(authorization ? { authorization } : {}),
			},
			body: "amount=1000&currency=usd",
		});

	it("answers 401 without a key, with a live or publishable key, or a malformed one", async () => {
		const missing = await post();
		expect(missing.status).toBe(401);
		expect(missing.headers.get("request-id")).toMatch(/^req_/);
		expect(
			((await missing.json()) as { error: { type: string; message: string } }).error,
		).toMatchObject({
			type: "invalid_request_error",
			message: expect.stringContaining("You did not provide an API key."),
		});
		const live = await post("Bearer sk_live_abcdefgh1234");
		expect(live.status).toBe(401);
		expect(((await live.json()) as { error: { message: string } }).error.message).toBe(
			"Invalid API Key provided: sk_live_********1234",
		);
		const publishable = await post("Bearer pk_test_abc");
		expect(((await publishable.json()) as { error: { message: string } }).error.message).toContain(
			"cannot be made with a publishable API key",
		);
		expect((await post("Token sk_test_abc")).status).toBe(401);
	});

	it("accepts any sk_test_ key as Bearer or as curl's Basic user", async () => {
		expect((await post("Bearer sk_test_other")).status).toBe(200);
		const basic = `Basic ${Buffer.from("sk_test_curl:").toString("base64")}`;
		expect((await post(basic)).status).toBe(200);
	});

	it("lets a pk_test_ key retrieve and confirm an intent with its client secret, as Stripe.js does", async () => {
		const intent = await stripe.paymentIntents.create(card);
		const url = `${sandbox.urls.stripe}/v1/payment_intents/${intent.id}`;
		const pk = {
			authorization: "Bearer pk_test_checkout",
			"content-type": "application/x-www-form-urlencoded",
		};
		expect((await fetch(url, { headers: pk })).status).toBe(400);
		expect(
			(await fetch(`${url}?client_secret=${intent.id}_secret_wrong`, { headers: pk })).status,
		).toBe(400);
		const read = await fetch(`${url}?client_secret=${intent.client_secret}`, { headers: pk });
		expect(read.status).toBe(200);
		const confirmed = await fetch(`${url}/confirm`, {
			method: "POST",
			headers: pk,
			body: `client_secret=${intent.client_secret}&payment_method=pm_card_visa`,
		});
		expect(((await confirmed.json()) as Stripe.PaymentIntent).status).toBe("succeeded");
		expect((await post("Bearer pk_test_checkout")).status).toBe(401);
	});

	it("surfaces as StripeAuthenticationError in stripe-node", async () => {
		const bad = clientWithKey("sk_live_nope1234");
		const error = await rejection(bad.paymentIntents.list());
		expect(error).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
		expect(error.statusCode).toBe(401);
	});
});

describe("idempotency", () => {
	it("replays the first response for the same key and parameters, creating nothing new", async () => {
		const before = sandbox.stripe.store.paymentIntents.size;
		const first = await stripe.paymentIntents.create(
			{ ...card, metadata: { order: "1" } },
			{ idempotencyKey: "order-1" },
		);
		const second = await stripe.paymentIntents.create(
			{ metadata: { order: "1" }, ...card },
			{ idempotencyKey: "order-1" },
		);
		expect(second.id).toBe(first.id);
		expect(second.client_secret).toBe(first.client_secret);
		expect(header(second.lastResponse, "idempotent-replayed")).toBe("true");
		expect(header(second.lastResponse, "original-request")).toBe(first.lastResponse.requestId);
		expect(second.lastResponse.requestId).not.toBe(first.lastResponse.requestId);
		expect(second.lastResponse.idempotencyKey).toBe("order-1");
		expect(header(first.lastResponse, "idempotent-replayed")).toBeNull();
		expect(sandbox.stripe.store.paymentIntents.size).toBe(before + 1);
		expect(
			[...sandbox.stripe.store.events.values()].find(
				(e) => e.request?.idempotency_key === "order-1",
			)?.type,
		).toBe("payment_intent.created");
	});

	it("refuses the same key with other parameters or on another endpoint", async () => {
		const first = await stripe.paymentIntents.create(card, { idempotencyKey: "order-2" });
		const changed = await rejection(
			stripe.paymentIntents.create({ ...card, amount: 1001 }, { idempotencyKey: "order-2" }),
		);
		expect(changed).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
		expect(changed.statusCode).toBe(400);
		expect(changed.message).toBe(
			"Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than 'order-2' if you meant to execute a different request.",
		);
		const elsewhere = await rejection(
			stripe.paymentIntents.cancel(first.id, {}, { idempotencyKey: "order-2" }),
		);
		expect(elsewhere).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
		expect(elsewhere.message).toContain("same endpoint");
		expect((await stripe.paymentIntents.retrieve(first.id)).status).toBe("requires_payment_method");
	});

	it("replays a decline instead of charging the card again", async () => {
		const params = { ...card, payment_method: "pm_card_chargeDeclined", confirm: true };
		const first = await rejection(
			stripe.paymentIntents.create(params, { idempotencyKey: "decline-1" }),
		);
		const again = await rejection(
			stripe.paymentIntents.create(params, { idempotencyKey: "decline-1" }),
		);
		expect(first.statusCode).toBe(402);
		expect(again.statusCode).toBe(402);
		expect(again.charge).toBe(first.charge);
		expect(header({ headers: again.headers }, "idempotent-replayed")).toBe("true");
	});

	it("stores nothing for a request that fails validation, so it can be fixed and retried", async () => {
		const invalid = await rejection(
			stripe.paymentIntents.create({ currency: "usd" } as Stripe.PaymentIntentCreateParams, {
				idempotencyKey: "fix-me",
			}),
		);
		expect(invalid.code).toBe("parameter_missing");
		const fixed = await stripe.paymentIntents.create(card, { idempotencyKey: "fix-me" });
		expect(fixed.status).toBe("requires_payment_method");
	});

	it("forgets a key after 24 hours, and scopes keys to the API key", async () => {
		const first = await stripe.paymentIntents.create(card, { idempotencyKey: "daily" });
		clock += IDEMPOTENCY_TTL_MS - 1_000;
		expect((await stripe.paymentIntents.create(card, { idempotencyKey: "daily" })).id).toBe(
			first.id,
		);
		const otherKey = clientWithKey("sk_test_other_account");
		expect((await otherKey.paymentIntents.create(card, { idempotencyKey: "daily" })).id).not.toBe(
			first.id,
		);
		clock += 2_000;
		const later = await stripe.paymentIntents.create(
			{ ...card, amount: 2000 },
			{ idempotencyKey: "daily" },
		);
		expect(later.id).not.toBe(first.id);
		expect(later.amount).toBe(2000);
	});

	it("refuses keys longer than 255 characters", async () => {
		const error = await rejection(
			stripe.paymentIntents.create(card, { idempotencyKey: "k".repeat(256) }),
		);
		expect(error.statusCode).toBe(400);
	});
});

describe("expand and errors", () => {
	it("expands ids on lists with data.* and refuses fields that are not ids", async () => {
		await stripe.paymentIntents.create({ ...card, payment_method: "pm_card_visa", confirm: true });
		const list = await stripe.paymentIntents.list({ limit: 1, expand: ["data.latest_charge"] });
		expect((list.data[0]?.latest_charge as Stripe.Charge | undefined)?.object).toBe("charge");
		const error = await rejection(
			stripe.paymentIntents.list({ limit: 1, expand: ["data.status"] }),
		);
		expect(error.message).toBe("This property cannot be expanded (status).");
	});

	it("answers an unknown route with Stripe's 404 and a request id", async () => {
		const error = await rejection(stripe.rawRequest("GET", "/v1/nope"));
		expect(error.statusCode).toBe(404);
		expect(error.requestId).toMatch(/^req_/);
	});
});
