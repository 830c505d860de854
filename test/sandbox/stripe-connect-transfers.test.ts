import Stripe from "stripe";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { startWebhookReceiver } from "../../sandbox/stripe/testing.js";
import { connectHelpers } from "./stripe-connect-helpers.js";
import { invalidRequest, rejection, useStripeSandbox } from "./stripe-helpers.js";

// Connect money movement through stripe-node: the platform's balance (card funds, top-ups),
// transfers to connected accounts (idempotent, refused as Stripe refuses them), reversals, the
// connected account's balance, transfer events as signed webhooks, and racing transfers.

const SECRET = "whsec_transfersTestSecret";
const connect = await useStripeSandbox({
	webhookRetry: { attempts: 2, initialDelayMs: 20, timeoutMs: 2_000 },
});
const { sandbox, stripe, confirmCardIntent } = connect;
const { topUp, activeAccount, available } = connectHelpers(connect);
const receiver = await startWebhookReceiver();
sandbox.stripe.setWebhook({
	url: receiver.url,
	secret: SECRET,
	enabledEvents: ["transfer.created", "transfer.reversed", "transfer.updated"],
});
afterAll(() => receiver.close());
beforeEach(() => sandbox.stripe.reset());

describe("platform balance", () => {
	it("holds card funds as pending (net of fees) unless they bypass pending; refunds and top-ups count at once", async () => {
		expect(await stripe.balance.retrieve()).toMatchObject({
			object: "balance",
			livemode: false,
			available: [{ amount: 0, currency: "usd" }],
			pending: [{ amount: 0, currency: "usd" }],
		});
		await confirmCardIntent(10_000, "pm_card_visa");
		let balance = await stripe.balance.retrieve();
		// $100.00 less 2.9% + 30¢.
		expect(balance.pending[0]).toMatchObject({ amount: 9_680, currency: "usd" });
		expect(balance.available[0]?.amount).toBe(0);
		const instant = await confirmCardIntent(5_000, "pm_card_bypassPending");
		expect(await available()).toBe(4_825);
		await stripe.refunds.create({ payment_intent: instant.id, amount: 1_000 });
		expect(await available()).toBe(3_825);
		await topUp(100_000);
		balance = await stripe.balance.retrieve();
		expect(balance.available[0]?.amount).toBe(103_825);
		expect(balance.pending[0]?.amount).toBe(9_680);
	});
});

describe("transfers", () => {
	it("moves money to an active account once per idempotency key, with transfer.created signed and sent", async () => {
		await topUp(50_000);
		const account = await activeAccount();
		const params: Stripe.TransferCreateParams = {
			amount: 12_345,
			currency: "usd",
			destination: account.id,
			transfer_group: "po_1",
			metadata: { payout: "po_1" },
			description: "Payout po_1",
		};
		const before = receiver.received.length;
		const transfer = await stripe.transfers.create(params, { idempotencyKey: "po_1" });
		expect(transfer.id).toMatch(/^tr_/);
		expect(transfer).toMatchObject({
			object: "transfer",
			amount: 12_345,
			amount_reversed: 0,
			reversed: false,
			currency: "usd",
			destination: account.id,
			transfer_group: "po_1",
			metadata: { payout: "po_1" },
			description: "Payout po_1",
			livemode: false,
			reversals: { object: "list", data: [], total_count: 0 },
		});
		const txn = await stripe.balanceTransactions.retrieve(transfer.balance_transaction as string);
		expect(txn).toMatchObject({ amount: -12_345, type: "transfer", status: "available" });

		const again = await stripe.transfers.create(params, { idempotencyKey: "po_1" });
		expect(again.id).toBe(transfer.id);
		// With the fetch client, lastResponse.headers is a fetch Headers object despite its type.
		const headers = again.lastResponse.headers as unknown as Headers;
		expect(headers.get("idempotent-replayed")).toBe("true");
		const other = await rejection(
			stripe.transfers.create({ ...params, amount: 1 }, { idempotencyKey: "po_1" }),
		);
		expect(other).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);

		expect(await available()).toBe(50_000 - 12_345);
		expect(await available(account.id)).toBe(12_345);
		expect(await stripe.transfers.retrieve(transfer.id)).toEqual(
			expect.objectContaining({ id: transfer.id, amount: 12_345 }),
		);

		const [delivery] = (await receiver.waitFor(before + 1)).slice(before);
		const event = await stripe.webhooks.constructEventAsync(
			delivery?.body as string,
			delivery?.headers["stripe-signature"] as string,
			SECRET,
		);
		expect(event.type).toBe("transfer.created");
		expect((event.data.object as Stripe.Transfer).id).toBe(transfer.id);
		expect(event.request).toEqual({ id: expect.stringMatching(/^req_/), idempotency_key: "po_1" });
		expect(sandbox.stripe.store.transfers.size).toBe(1);
	});

	it("refuses an onboarding account, an unknown account, more than the available balance, and bad amounts", async () => {
		await topUp(1_000);
		const onboarding = await stripe.accounts.create({
			type: "express",
			capabilities: { transfers: { requested: true } },
		});
		const inactive = await invalidRequest(
			stripe.transfers.create({ amount: 100, currency: "usd", destination: onboarding.id }),
		);
		expect(inactive).toMatchObject({
			statusCode: 400,
			code: "insufficient_capabilities_for_transfer",
			param: "destination",
		});
		const unknown = await invalidRequest(
			stripe.transfers.create({
				amount: 100,
				currency: "usd",
				destination: "acct_1NoSuchAccount00",
			}),
		);
		expect(unknown).toMatchObject({
			statusCode: 400,
			code: "resource_missing",
			param: "destination",
		});
		expect(unknown.message).toBe("No such destination: 'acct_1NoSuchAccount00'");

		const account = await activeAccount();
		const tooMuch = await invalidRequest(
			stripe.transfers.create(
				{ amount: 1_001, currency: "usd", destination: account.id },
				{ idempotencyKey: "too-much" },
			),
		);
		expect(tooMuch).toMatchObject({
			statusCode: 400,
			type: "StripeInvalidRequestError",
			code: "balance_insufficient",
		});
		expect(tooMuch.raw).toMatchObject({ type: "invalid_request_error" });
		// Another currency has its own (empty) balance.
		const eur = await invalidRequest(
			stripe.transfers.create({ amount: 1, currency: "eur", destination: account.id }),
		);
		expect(eur.code).toBe("balance_insufficient");
		const zero = await invalidRequest(
			stripe.transfers.create({ amount: 0, currency: "usd", destination: account.id }),
		);
		expect(zero.param).toBe("amount");
		const fraction = await invalidRequest(
			stripe.rawRequest("POST", "/v1/transfers", {
				amount: "10.5",
				currency: "usd",
				destination: account.id,
			}),
		);
		expect(fraction.code).toBe("parameter_invalid_integer");
		expect(sandbox.stripe.store.transfers.size).toBe(0);
		expect(await available()).toBe(1_000);
		const exact = await stripe.transfers.create({
			amount: 1_000,
			currency: "usd",
			destination: account.id,
		});
		expect(exact.amount).toBe(1_000);
		expect(await available()).toBe(0);
	});

	it("reverses part, then the rest, and no more: balances move back, transfer.reversed each time", async () => {
		await topUp(10_000);
		const account = await activeAccount();
		const transfer = await stripe.transfers.create({
			amount: 6_000,
			currency: "usd",
			destination: account.id,
		});
		const part = await stripe.transfers.createReversal(transfer.id, {
			amount: 2_500,
			metadata: { reason: "payout failed" },
		});
		expect(part.id).toMatch(/^trr_/);
		expect(part).toMatchObject({
			object: "transfer_reversal",
			amount: 2_500,
			currency: "usd",
			transfer: transfer.id,
			metadata: { reason: "payout failed" },
		});
		expect(await stripe.transfers.retrieve(transfer.id)).toMatchObject({
			amount_reversed: 2_500,
			reversed: false,
		});
		expect(await available()).toBe(6_500);
		expect(await available(account.id)).toBe(3_500);
		const tooMuch = await invalidRequest(
			stripe.transfers.createReversal(transfer.id, { amount: 3_501 }),
		);
		expect(tooMuch.param).toBe("amount");
		const rest = await stripe.transfers.createReversal(transfer.id);
		expect(rest.amount).toBe(3_500);
		const reversed = await stripe.transfers.retrieve(transfer.id);
		expect(reversed).toMatchObject({ amount_reversed: 6_000, reversed: true });
		expect(reversed.reversals.data.map((r) => r.id)).toEqual([rest.id, part.id]);
		expect(await available()).toBe(10_000);
		expect(await available(account.id)).toBe(0);
		const again = await invalidRequest(stripe.transfers.createReversal(transfer.id));
		expect(again.code).toBe("transfer_already_reversed");
		const listed = await stripe.transfers.listReversals(transfer.id, { limit: 1 });
		expect(listed.data.map((r) => r.id)).toEqual([rest.id]);
		expect(listed.has_more).toBe(true);
		expect((await stripe.transfers.retrieveReversal(transfer.id, part.id)).amount).toBe(2_500);
		const txn = await stripe.balanceTransactions.retrieve(part.balance_transaction as string);
		expect(txn).toMatchObject({ amount: 2_500, type: "transfer_refund" });
		const events = [...sandbox.stripe.store.events.values()].filter(
			(e) => e.type === "transfer.reversed",
		);
		expect(events.map((e) => (e.data.object as Stripe.Transfer).amount_reversed)).toEqual([
			2_500, 6_000,
		]);
		expect(events[1]?.data.previous_attributes).toEqual({
			amount_reversed: 2_500,
			reversed: false,
		});
	});

	it("updates metadata with transfer.updated, and lists by destination with cursors", async () => {
		await topUp(10_000);
		const a = await activeAccount();
		const b = await activeAccount();
		const made: Stripe.Transfer[] = [];
		for (const destination of [a.id, b.id, a.id, a.id]) {
			made.push(await stripe.transfers.create({ amount: 100, currency: "usd", destination }));
		}
		const toA = made
			.filter((t) => t.destination === a.id)
			.map((t) => t.id)
			.reverse();
		const page1 = await stripe.transfers.list({ destination: a.id, limit: 2 });
		expect(page1.data.map((t) => t.id)).toEqual(toA.slice(0, 2));
		expect(page1.has_more).toBe(true);
		const page2 = await stripe.transfers.list({
			destination: a.id,
			limit: 2,
			starting_after: page1.data[1]?.id,
		});
		expect(page2.data.map((t) => t.id)).toEqual(toA.slice(2));
		expect(page2.has_more).toBe(false);
		expect((await stripe.transfers.list()).data).toHaveLength(4);

		const updated = await stripe.transfers.update(made[0]?.id as string, {
			metadata: { payout: "po_9" },
		});
		expect(updated.metadata).toEqual({ payout: "po_9" });
		const event = [...sandbox.stripe.store.events.values()].find(
			(e) => e.type === "transfer.updated",
		);
		expect(event?.data.previous_attributes).toEqual({ metadata: {} });
	});
});

describe("races", () => {
	it("never lets racing transfers together take more than the available balance", async () => {
		await topUp(10_000);
		const account = await activeAccount();
		const results = await Promise.allSettled(
			Array.from({ length: 5 }, (_, i) =>
				stripe.transfers.create(
					{ amount: 3_000, currency: "usd", destination: account.id },
					{ idempotencyKey: `race-${i}` },
				),
			),
		);
		const made = results.filter((r) => r.status === "fulfilled");
		const refused = results.filter((r) => r.status === "rejected");
		expect(made).toHaveLength(3);
		expect(refused.map((r) => (r.reason as Stripe.errors.StripeError).code)).toEqual([
			"balance_insufficient",
			"balance_insufficient",
		]);
		expect(await available()).toBe(1_000);
		expect(await available(account.id)).toBe(9_000);
	});
});

describe("connected account balance", () => {
	it("answers with the account's balance under Stripe-Account, and refuses an unknown account", async () => {
		await topUp(5_000);
		const account = await activeAccount();
		await stripe.transfers.create({ amount: 4_000, currency: "usd", destination: account.id });
		const balance = await stripe.balance.retrieve({}, { stripeAccount: account.id });
		expect(balance.available).toEqual([
			{ amount: 4_000, currency: "usd", source_types: { card: 4_000 } },
		]);
		expect(balance.pending[0]?.amount).toBe(0);
		expect(await available()).toBe(1_000);
		const unknown = await rejection(
			stripe.balance.retrieve({}, { stripeAccount: "acct_1NoSuchAccount00" }),
		);
		expect(unknown).toBeInstanceOf(Stripe.errors.StripePermissionError);
		expect(unknown.code).toBe("account_invalid");
		const elsewhere = await invalidRequest(
			stripe.transfers.list({}, { stripeAccount: account.id }),
		);
		expect(elsewhere.message).toContain("Stripe-Account");
		const busy = await invalidRequest(stripe.accounts.del(account.id));
		expect(busy.message).toContain("non-zero balance");
	});
});
