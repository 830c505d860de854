import Stripe from "stripe";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { connectHelpers } from "./stripe-connect-helpers.js";
import { invalidRequest, rejection, useStripeSandbox } from "./stripe-helpers.js";

// Connect failures: the emulator-only knobs that refuse a transfer or restrict an account, the
// same through the control server, and faults on the Connect endpoints.

const connect = await useStripeSandbox();
const { sandbox, stripe } = connect;
const { testRoute, topUp, activeAccount, available } = connectHelpers(connect);
beforeEach(() => sandbox.stripe.reset());
afterEach(() => sandbox.stripe.clearFaults());

describe("control server", () => {
	it("tops up, completes onboarding, restricts and arms the failure knob with JSON", async () => {
		const control = (path: string, body: unknown = {}) =>
			fetch(`${sandbox.urls.control}/admin/stripe${path}`, {
				method: "POST",
				body: JSON.stringify(body),
			});
		const topped = await control("/balance/top_up", { amount: 2_500, currency: "usd" });
		expect(
			((await topped.json()) as { balance: Stripe.Balance }).balance.available[0],
		).toMatchObject({
			amount: 2_500,
			currency: "usd",
		});
		expect((await control("/balance/top_up", { amount: 1.5 })).status).toBe(400);
		const account = await stripe.accounts.create({
			type: "express",
			capabilities: { transfers: { requested: true } },
		});
		const done = await control(`/accounts/${account.id}/complete_onboarding`);
		expect(await done.json()).toMatchObject({ capabilities: { transfers: "active" } });
		await control(`/accounts/${account.id}/fail_next_transfer`);
		const failed = await invalidRequest(
			stripe.transfers.create({ amount: 100, currency: "usd", destination: account.id }),
		);
		expect(failed.code).toBe("insufficient_capabilities_for_transfer");
		const restricted = await control(`/accounts/${account.id}/restrict`);
		expect(await restricted.json()).toMatchObject({ payouts_enabled: false });
		expect((await control("/accounts/acct_nope/restrict")).status).toBe(404);
		const balance = await fetch(`${sandbox.urls.control}/admin/stripe/balance`);
		expect(((await balance.json()) as Stripe.Balance).available[0]?.amount).toBe(2_500);
	});
});

describe("failure knobs and faults", () => {
	it("refuses the next transfer to a destination once, as Stripe does when its account just lost the transfers capability", async () => {
		await topUp(5_000);
		const account = await activeAccount();
		const knob = await testRoute(`/v1/accounts/${account.id}/_test/fail_next_transfer`);
		expect(await knob.json()).toEqual({ account: account.id, fail_next_transfer: true });
		const failed = await invalidRequest(
			stripe.transfers.create(
				{ amount: 100, currency: "usd", destination: account.id },
				{ idempotencyKey: "knob-1" },
			),
		);
		expect(failed.code).toBe("insufficient_capabilities_for_transfer");
		// The refusal is the key's stored answer, as on Stripe; a new attempt gets through.
		const replay = await invalidRequest(
			stripe.transfers.create(
				{ amount: 100, currency: "usd", destination: account.id },
				{ idempotencyKey: "knob-1" },
			),
		);
		expect(replay.code).toBe("insufficient_capabilities_for_transfer");
		const ok = await stripe.transfers.create(
			{ amount: 100, currency: "usd", destination: account.id },
			{ idempotencyKey: "knob-2" },
		);
		expect(ok.amount).toBe(100);
		expect(await available()).toBe(4_900);
	});

	it("restricts an account (account.updated) until it onboards again", async () => {
		await topUp(5_000);
		const account = await activeAccount();
		const res = await testRoute(`/v1/accounts/${account.id}/_test/restrict`);
		expect(await res.json()).toMatchObject({
			payouts_enabled: false,
			capabilities: { transfers: "inactive" },
			requirements: { disabled_reason: "requirements.past_due" },
		});
		const updated = [...sandbox.stripe.store.events.values()].filter(
			(e) => e.type === "account.updated" && e.account === account.id,
		);
		expect(updated).toHaveLength(2);
		const refused = await invalidRequest(
			stripe.transfers.create({ amount: 100, currency: "usd", destination: account.id }),
		);
		expect(refused.code).toBe("insufficient_capabilities_for_transfer");
		await testRoute(`/v1/accounts/${account.id}/_test/complete_onboarding`);
		expect(
			(await stripe.transfers.create({ amount: 100, currency: "usd", destination: account.id }))
				.amount,
		).toBe(100);
	});

	it("applies outage and error-rate faults to the Connect endpoints, never to the _test routes", async () => {
		await topUp(5_000);
		const account = await activeAccount();
		sandbox.stripe.setFaults({ outage: true });
		const calls: (() => Promise<unknown>)[] = [
			() => stripe.transfers.create({ amount: 100, currency: "usd", destination: account.id }),
			() =>
				stripe.accounts.create({
					type: "express",
					capabilities: { transfers: { requested: true } },
				}),
			() => stripe.balance.retrieve(),
			() =>
				stripe.accountLinks.create({
					account: account.id,
					refresh_url: "https://m.example/r",
					return_url: "https://m.example/b",
					type: "account_onboarding",
				}),
		];
		for (const call of calls) {
			const error = await rejection(call());
			expect(error).toBeInstanceOf(Stripe.errors.StripeAPIError);
			expect(error.statusCode).toBe(503);
		}
		expect(
			(await testRoute("/v1/balance/_test/top_up", { amount: "1", currency: "usd" })).status,
		).toBe(200);
		sandbox.stripe.setFaults({ errorRate: 1 });
		const failed = await rejection(stripe.transfers.list());
		expect(failed.statusCode).toBe(500);
		sandbox.stripe.clearFaults();
		expect(sandbox.stripe.store.transfers.size).toBe(0);
		expect(await available()).toBe(5_001);
	});
});
