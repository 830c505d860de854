import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ledgerTotals, merchantBalance } from "../../src/db/ledger";
import type { CardPaymentDetails } from "../../src/domain/card-details";
import { call, createMerchant, createPayment, json, type PaymentJson } from "./helpers/api";
import { eventTypes, fireDueJobs, paymentObject } from "./helpers/objects";
import {
	authenticate,
	deliver,
	deliverAll,
	dispute,
	eventsFor,
	signature,
	stripe,
} from "./helpers/stripe";

type CardPayment = PaymentJson & { card: CardPaymentDetails | null; capture_method: string };

async function cardPayment(key: string, body: Record<string, unknown> = {}): Promise<CardPayment> {
	return (await createPayment(key, { payment_method_types: ["card"], ...body })) as CardPayment;
}

/** What the checkout's card tab does first: get the intent's client secret. */
async function openCard(id: string) {
	const res = await call("POST", `/checkout/${id}/card`, { body: {} });
	expect(res.status, await res.clone().text()).toBe(200);
	return json<{ client_secret: string; publishable_key: string; js_url: string }>(res);
}

function intentIdOf(clientSecret: string): string {
	return clientSecret.slice(0, clientSecret.indexOf("_secret_"));
}

async function retrieve(key: string, id: string): Promise<CardPayment> {
	return json<CardPayment>(await call("GET", `/v1/payments/${id}`, { key }));
}

describe("card payments through Stripe", () => {
	it("pays by card: intent on first use, success by webhook, Stripe's fee in the ledger", async () => {
		const m = await createMerchant();
		const p = await cardPayment(m.sk, { amount: 10_000 });
		const card = await openCard(p.id);
		expect(card.publishable_key).toMatch(/^pk_test_/);
		const intentId = intentIdOf(card.client_secret);
		const intent = await stripe.paymentIntents.retrieve(intentId);
		expect(intent).toMatchObject({
			amount: 10_000,
			currency: "usd",
			metadata: { payment_id: p.id },
		});

		await stripe.paymentIntents.confirm(intentId, { payment_method: "pm_card_visa" });
		await deliverAll(intentId);
		const paid = await retrieve(m.sk, p.id);
		expect(paid.status).toBe("succeeded");
		expect(paid.amount_received).toBe(10_000);
		expect(paid.card).toMatchObject({
			payment_intent: intentId,
			intent_status: "succeeded",
			fee: 320,
		});
		expect(await eventTypes(p.id)).toContain("payment.succeeded");
		// Captured into pending, Stripe's fee out of it; available once Stripe pays out.
		const before = await merchantBalance(env.DB, m.merchant.id, false);
		expect(before.pending).toEqual([{ currency: "usd", amount: 9680n }]);
		expect(before.available).toEqual([]);
		await fireDueJobs(p.id, ["card_available"]);
		const after = await merchantBalance(env.DB, m.merchant.id, false);
		expect(after.available).toEqual([{ currency: "usd", amount: 9680n }]);
		expect(after.pending).toEqual([{ currency: "usd", amount: 0n }]);
		expect(await ledgerTotals(env.DB)).toSatisfy((totals: Map<string, bigint>) =>
			[...totals.values()].every((v) => v === 0n),
		);
	});

	it("creates one intent per payment however often the card tab asks", async () => {
		const m = await createMerchant();
		const p = await cardPayment(m.sk);
		const [a, b] = await Promise.all([openCard(p.id), openCard(p.id)]);
		const c = await openCard(p.id);
		expect(intentIdOf(a.client_secret)).toBe(intentIdOf(b.client_secret));
		expect(intentIdOf(c.client_secret)).toBe(intentIdOf(a.client_secret));
		const list = await stripe.paymentIntents.list({ limit: 100 });
		expect(list.data.filter((i) => i.metadata.payment_id === p.id)).toHaveLength(1);
	});

	it("keeps a declined payment open with the reason, then accepts another card", async () => {
		const m = await createMerchant();
		const p = await cardPayment(m.sk);
		const intentId = intentIdOf((await openCard(p.id)).client_secret);
		await expect(
			stripe.paymentIntents.confirm(intentId, { payment_method: "pm_card_chargeDeclined" }),
		).rejects.toMatchObject({ type: "StripeCardError" });
		await deliverAll(intentId);
		const declined = await retrieve(m.sk, p.id);
		expect(declined.status).toBe("requires_payment");
		expect(declined.failure_code).toBe("generic_decline");
		expect(await eventTypes(p.id)).toContain("payment.payment_failed");

		await stripe.paymentIntents.confirm(intentId, { payment_method: "pm_card_visa" });
		await deliverAll(intentId);
		const paid = await retrieve(m.sk, p.id);
		expect(paid.status).toBe("succeeded");
		expect(paid.failure_code).toBeNull();
	});

	it("waits for 3-D Secure and succeeds once the payer authenticates", async () => {
		const m = await createMerchant();
		const p = await cardPayment(m.sk);
		const intentId = intentIdOf((await openCard(p.id)).client_secret);
		const pending = await stripe.paymentIntents.confirm(intentId, {
			payment_method: "pm_card_authenticationRequired",
			return_url: p.checkout_url,
		});
		expect(pending.status).toBe("requires_action");
		await deliverAll(intentId);
		expect((await retrieve(m.sk, p.id)).status).toBe("requires_payment");
		await authenticate(intentId, "succeed");
		await deliverAll(intentId);
		expect((await retrieve(m.sk, p.id)).status).toBe("succeeded");
	});

	it("cancels: the intent is canceled at Stripe first", async () => {
		const m = await createMerchant();
		const p = await cardPayment(m.sk);
		const intentId = intentIdOf((await openCard(p.id)).client_secret);
		const res = await call("POST", `/v1/payments/${p.id}/cancel`, {
			key: m.sk,
			body: { cancellation_reason: "requested_by_customer" },
		});
		expect(res.status, await res.clone().text()).toBe(200);
		expect((await json<CardPayment>(res)).status).toBe("canceled");
		expect((await stripe.paymentIntents.retrieve(intentId)).status).toBe("canceled");
		// The webhooks that follow change nothing.
		await deliverAll(intentId);
		expect((await retrieve(m.sk, p.id)).status).toBe("canceled");
	});
});

describe("authorise now, capture later", () => {
	it("captures part of an authorisation", async () => {
		const m = await createMerchant();
		const p = await cardPayment(m.sk, { amount: 5000, capture_method: "manual" });
		expect(p.capture_method).toBe("manual");
		const intentId = intentIdOf((await openCard(p.id)).client_secret);
		await stripe.paymentIntents.confirm(intentId, { payment_method: "pm_card_visa" });
		await deliverAll(intentId);
		const authorised = await retrieve(m.sk, p.id);
		expect(authorised.status).toBe("requires_capture");
		expect(authorised.card?.amount_capturable).toBe(5000);

		const tooMuch = await call("POST", `/v1/payments/${p.id}/capture`, {
			key: m.sk,
			body: { amount: 6000 },
		});
		expect(tooMuch.status).toBe(400);
		const res = await call("POST", `/v1/payments/${p.id}/capture`, {
			key: m.sk,
			body: { amount: 4000 },
		});
		expect(res.status, await res.clone().text()).toBe(200);
		const captured = await json<CardPayment>(res);
		expect(captured).toMatchObject({ status: "succeeded", amount_received: 4000 });
		await deliverAll(intentId);
		expect((await retrieve(m.sk, p.id)).amount_received).toBe(4000);
		const again = await call("POST", `/v1/payments/${p.id}/capture`, { key: m.sk, body: {} });
		expect(again.status).toBe(409);
	});

	it("releases the authorisation when the payment expires", async () => {
		const m = await createMerchant();
		const p = await cardPayment(m.sk, { capture_method: "manual" });
		const intentId = intentIdOf((await openCard(p.id)).client_secret);
		await stripe.paymentIntents.confirm(intentId, { payment_method: "pm_card_visa" });
		await deliverAll(intentId);
		expect((await retrieve(m.sk, p.id)).status).toBe("requires_capture");
		await fireDueJobs(p.id, ["expire"]);
		await fireDueJobs(p.id, ["card_release"]);
		expect((await retrieve(m.sk, p.id)).status).toBe("expired");
		expect((await stripe.paymentIntents.retrieve(intentId)).status).toBe("canceled");
	});

	it("refuses capture of a payment that was not authorised", async () => {
		const m = await createMerchant();
		const p = await cardPayment(m.sk);
		const res = await call("POST", `/v1/payments/${p.id}/capture`, { key: m.sk, body: {} });
		expect(res.status).toBe(409);
	});
});

describe("Stripe webhooks", () => {
	async function paidIntent() {
		const m = await createMerchant();
		const p = await cardPayment(m.sk);
		const intentId = intentIdOf((await openCard(p.id)).client_secret);
		await stripe.paymentIntents.confirm(intentId, { payment_method: "pm_card_visa" });
		const succeeded = (await eventsFor(intentId)).find(
			(e) => e.type === "payment_intent.succeeded",
		);
		if (!succeeded) throw new Error("no payment_intent.succeeded event");
		return { m, p, intentId, succeeded };
	}

	it("refuses a bad signature, a wrong secret, a stale timestamp and a missing header", async () => {
		const { m, p, succeeded } = await paidIntent();
		const payload = JSON.stringify(succeeded);
		const send = (header?: string) =>
			call("POST", "/webhooks/stripe", {
				rawBody: payload,
				headers: {
					"Content-Type": "application/json",
					...(header ? { "Stripe-Signature": header } : {}),
				},
			});
		const tampered = (await signature(payload)).replace(
			/v1=([0-9a-f])/,
			(_, c) => `v1=${c === "0" ? "1" : "0"}`,
		);
		for (const res of [
			await send(tampered),
			await deliver(succeeded, { secret: "whsec_not_ours_000000000000" }),
			await deliver(succeeded, { timestamp: Math.floor(Date.now() / 1000) - 600 }),
			await send(),
		]) {
			expect(res.status).toBe(400);
			expect((await json<{ error: { code: string } }>(res)).error.code).toBe("signature_invalid");
		}
		expect((await retrieve(m.sk, p.id)).status).toBe("requires_payment");
	});

	it("applies an event once, however often Stripe delivers it", async () => {
		const { m, p, succeeded } = await paidIntent();
		const first = await deliver(succeeded);
		expect(await json(first)).toEqual({ received: true });
		const events = await eventTypes(p.id);
		const again = await deliver(succeeded);
		expect(await json(again)).toEqual({ received: true, duplicate: true });
		expect(await eventTypes(p.id)).toEqual(events);
		expect((await retrieve(m.sk, p.id)).status).toBe("succeeded");
	});

	it("handles an event that arrives before our own create call has returned", async () => {
		const m = await createMerchant();
		const p = await cardPayment(m.sk, { amount: 3000 });
		// The intent exists at Stripe (our create call's answer was lost) but not yet on the payment.
		const intent = await stripe.paymentIntents.create(
			{
				amount: 3000,
				currency: "usd",
				allowed_payment_method_types: ["card"],
				metadata: { payment_id: p.id, merchant_id: m.merchant.id },
			},
			{ idempotencyKey: `${p.id}:intent` },
		);
		await stripe.paymentIntents.confirm(intent.id, { payment_method: "pm_card_visa" });
		await deliverAll(intent.id);
		const paid = await retrieve(m.sk, p.id);
		expect(paid).toMatchObject({ status: "succeeded", card: { payment_intent: intent.id } });
	});

	it("applies a late, out-of-order event as the intent is now", async () => {
		const { m, p, intentId } = await paidIntent();
		const events = await eventsFor(intentId);
		// Newest first: the success arrives before the intent's creation.
		for (const event of [...events].reverse()) expect((await deliver(event)).status).toBe(200);
		expect((await retrieve(m.sk, p.id)).status).toBe("succeeded");
		expect((await eventTypes(p.id)).filter((t) => t === "payment.succeeded")).toHaveLength(1);
	});

	it("records a dispute and withdraws its amount", async () => {
		const { m, p, intentId } = await paidIntent();
		await deliverAll(intentId);
		const paid = await retrieve(m.sk, p.id);
		await dispute(paid.card?.charge as string);
		await deliverAll(intentId);
		const disputed = await retrieve(m.sk, p.id);
		expect(disputed.card?.disputes).toHaveLength(1);
		expect(await eventTypes(p.id)).toContain("payment.dispute_created");
		await deliverAll(intentId);
		expect((await retrieve(m.sk, p.id)).card?.disputes).toHaveLength(1);
	});

	it("records a refund made at Stripe", async () => {
		const { m, p, intentId } = await paidIntent();
		await deliverAll(intentId);
		await stripe.refunds.create({ payment_intent: intentId, amount: 500 });
		await deliverAll(intentId);
		const refunded = await retrieve(m.sk, p.id);
		expect(refunded.amount_refunded).toBe(500);
		expect(await eventTypes(p.id)).toContain("payment.refunded");
	});

	it("ignores events about intents that are not ours", async () => {
		const other = await stripe.paymentIntents.create({
			amount: 1000,
			currency: "usd",
			allowed_payment_method_types: ["card"],
		});
		await stripe.paymentIntents.confirm(other.id, { payment_method: "pm_card_visa" });
		for (const event of await eventsFor(other.id)) {
			expect((await deliver(event)).status).toBe(200);
		}
	});
});

describe("checkout card tab", () => {
	it("offers the card tab with Stripe's origin in the CSP, only when cards are accepted", async () => {
		const m = await createMerchant();
		const both = await createPayment(m.sk);
		const res = await call("GET", `/checkout/${both.id}`);
		const csp = res.headers.get("Content-Security-Policy") ?? "";
		const stripeOrigin = new URL(env.STRIPE_API_URL as string).origin;
		expect(csp).toContain(`script-src 'self' ${stripeOrigin}`);
		expect(csp).toContain(`frame-src ${stripeOrigin}`);
		const html = await res.text();
		expect(html).toContain('id="tab-card"');
		expect(html).toContain('id="pay-card"');
		const crypto = await createPayment(m.sk, { payment_method_types: ["solana"] });
		const cryptoRes = await call("GET", `/checkout/${crypto.id}`);
		expect(cryptoRes.headers.get("Content-Security-Policy")).not.toContain(stripeOrigin);
		expect(await cryptoRes.text()).not.toContain('id="pay-card"');
	});

	it("refuses the card tab for a payment that does not take cards or is closed", async () => {
		const m = await createMerchant();
		const crypto = await createPayment(m.sk, { payment_method_types: ["solana"] });
		expect((await call("POST", `/checkout/${crypto.id}/card`, { body: {} })).status).toBe(409);
		const canceled = await cardPayment(m.sk);
		await call("POST", `/v1/payments/${canceled.id}/cancel`, { key: m.sk });
		expect((await call("POST", `/checkout/${canceled.id}/card`, { body: {} })).status).toBe(409);
		expect(await paymentObject(canceled.id).get()).toMatchObject({ card: null });
	});
});

describe("Stripe outage", () => {
	async function stripeFaults(faults: Record<string, unknown>): Promise<void> {
		const res = await fetch(`${env.SANDBOX_CONTROL_URL}/admin/stripe/faults`, {
			method: "POST",
			headers: { "Content-Type": "application/json" },
			body: JSON.stringify(faults),
		});
		expect(res.status).toBe(200);
	}

	it("reports the processor's trouble as a 502 and opens the routing breaker", async () => {
		const m = await createMerchant();
		const rules = {
			strategy: "priority",
			rules: [
				{ id: "cards-first", action: { processor: "stripe" } },
				{ id: "then-crypto", action: { processor: "solana" } },
			],
		};
		expect((await call("PUT", "/v1/routing_rules", { key: m.sk, body: rules })).status).toBe(200);
		await stripeFaults({ outage: true });
		try {
			for (let i = 0; i < 5; i++) {
				const p = await cardPayment(m.sk);
				const res = await call("POST", `/checkout/${p.id}/card`, { body: {} });
				expect(res.status).toBe(502);
				expect((await json<{ error: { code: string } }>(res)).error.code).toBe("processor_error");
			}
		} finally {
			await stripeFaults({ outage: false });
		}
		const { clearRoutingCaches } = await import("../../src/services/routing");
		clearRoutingCaches();
		const preview = await call("POST", "/v1/routing_rules/preview", {
			key: m.sk,
			body: { amount: 1000, currency: "usd", payment_method_types: ["card", "solana"] },
		});
		expect(await json(preview)).toMatchObject({
			processor: "solana",
			reason: expect.stringMatching(/skipped failing stripe/),
		});
		const p = await createPayment(m.sk, { payment_method_types: ["card", "solana"] });
		expect(p.routing).toMatchObject({ processor: "solana", rule_id: "then-crypto" });
	});
});
