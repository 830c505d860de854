import Stripe from "stripe";
import { afterEach, describe, expect, it } from "vitest";
import { stripeClient } from "../../sandbox/stripe/testing.js";
import { card, useStripeSandbox } from "./stripe-helpers.js";

// Fault knobs on the Stripe API, turned through the control server as fault tests will.

const { sandbox, stripe, authenticateIntent } = await useStripeSandbox();
afterEach(() => {
	sandbox.stripe.clearFaults();
});

async function setFaults(faults: unknown): Promise<Response> {
	return fetch(`${sandbox.urls.control}/admin/stripe/faults`, {
		method: "POST",
		body: JSON.stringify(faults),
	});
}

describe("Stripe faults", () => {
	it("adds latency to API requests", async () => {
		const res = await setFaults({ latencyMs: 200 });
		expect(await res.json()).toEqual({ latencyMs: 200, errorRate: 0, outage: false, seed: 1 });
		const started = performance.now();
		await stripe.paymentIntents.create(card);
		expect(performance.now() - started).toBeGreaterThanOrEqual(190);
	});

	it("fails every request with a 500 api_error at errorRate 1, creating nothing", async () => {
		await setFaults({ errorRate: 1 });
		const before = sandbox.stripe.store.paymentIntents.size;
		const error = await stripe.paymentIntents.create(card).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(Stripe.errors.StripeAPIError);
		expect(error).toMatchObject({ statusCode: 500, type: "StripeAPIError" });
		expect((error as Stripe.errors.StripeError).requestId).toMatch(/^req_/);
		expect(sandbox.stripe.store.paymentIntents.size).toBe(before);
	});

	it("lets stripe-node's retries with one idempotency key get through a seeded error rate exactly once", async () => {
		// Seed 7 draws 0.01, 0.06, 0.98: two failures, then success on the second retry.
		await setFaults({ errorRate: 0.5, seed: 7 });
		const retrying = stripeClient(sandbox.urls.stripe, { maxNetworkRetries: 2 });
		const before = sandbox.stripe.store.paymentIntents.size;
		const intent = await retrying.paymentIntents.create(card);
		expect(intent.status).toBe("requires_payment_method");
		expect(sandbox.stripe.store.paymentIntents.size).toBe(before + 1);
	});

	it("answers 503 during an outage, while emulator-only routes and the control server keep working", async () => {
		const intent = await stripe.paymentIntents.create({
			...card,
			payment_method: "pm_card_authenticationRequired",
			confirm: true,
		});
		await setFaults({ outage: true });
		const down = await fetch(`${sandbox.urls.stripe}/v1/payment_intents/${intent.id}`, {
			headers: { authorization: "Bearer sk_test_x" },
		});
		expect(down.status).toBe(503);
		expect(((await down.json()) as { error: { type: string } }).error.type).toBe("api_error");
		const error = await stripe.paymentIntents.retrieve(intent.id).catch((e: unknown) => e);
		expect(error).toMatchObject({ statusCode: 503 });
		const authenticated = await authenticateIntent(intent.id, "succeed");
		expect(authenticated.status).toBe(200);
		expect((await fetch(`${sandbox.urls.stripe}/health`)).status).toBe(200);
		expect(await (await fetch(`${sandbox.urls.control}/admin/stripe/faults`)).json()).toMatchObject(
			{ outage: true },
		);
		await setFaults({});
		expect((await stripe.paymentIntents.retrieve(intent.id)).status).toBe("succeeded");
	});

	it("refuses invalid knobs", async () => {
		for (const faults of [{ errorRate: 2 }, { latencyMs: -1 }, { outage: "yes" }, { colour: 1 }]) {
			const res = await setFaults(faults);
			expect(res.status).toBe(400);
			expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
				"invalid_request",
			);
		}
		expect(sandbox.stripe.faults.get()).toEqual({
			latencyMs: 0,
			errorRate: 0,
			outage: false,
			seed: 1,
		});
	});

	it("resets state and faults through the control server", async () => {
		await stripe.paymentIntents.create(card);
		await setFaults({ latencyMs: 10 });
		const res = await fetch(`${sandbox.urls.control}/admin/stripe/reset`, { method: "POST" });
		expect(res.status).toBe(200);
		expect(sandbox.stripe.store.paymentIntents.size).toBe(0);
		expect(sandbox.stripe.store.events.size).toBe(0);
		expect(sandbox.stripe.faults.get().latencyMs).toBe(0);
		expect((await stripe.paymentIntents.list()).data).toEqual([]);
	});
});
