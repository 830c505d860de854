import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { accounts } from "../../src/domain/ledger";
import { createMerchant } from "./helpers/api";
import { accountBalance, expectLedgerBalanced } from "./helpers/ledger";
import { captureLogs } from "./helpers/logs";
import { eventTypes } from "./helpers/objects";
import {
	addDestination,
	consumePayouts,
	createPayoutOk,
	creditAvailable,
	getPayoutJson,
	payoutTransferIds,
} from "./helpers/payouts";
import { deliver, stripe } from "./helpers/stripe";

const available = (merchantId: string) =>
	accountBalance(accounts.merchantAvailable(merchantId, false, "usd"));

/** Calls one of the emulator's `_test` routes, standing in for the merchant or for Stripe. */
async function emulator(path: string, body: Record<string, string> = {}): Promise<void> {
	const res = await fetch(`${env.STRIPE_API_URL}${path}`, {
		method: "POST",
		headers: {
			Authorization: `Bearer ${env.STRIPE_SECRET_KEY}`,
			"Content-Type": "application/x-www-form-urlencoded",
		},
		body: new URLSearchParams(body).toString(),
	});
	expect(res.status, await res.clone().text()).toBe(200);
}

async function stripeFaults(faults: Record<string, unknown>): Promise<void> {
	const res = await fetch(`${env.SANDBOX_CONTROL_URL}/admin/stripe/faults`, {
		method: "POST",
		headers: { "Content-Type": "application/json" },
		body: JSON.stringify(faults),
	});
	expect(res.status).toBe(200);
}

/** A merchant with `usd` available and an onboarded Express account as its fiat destination. */
async function connectedMerchant(usd = 10_000n) {
	const m = await createMerchant();
	const account = await stripe.accounts.create({
		type: "express",
		capabilities: { transfers: { requested: true } },
	});
	await emulator(`/v1/accounts/${account.id}/_test/complete_onboarding`);
	// The platform's balance holds the card funds the merchant's balance stands for, and more:
	// other files' refunds draw on the same emulator's balance while this one runs.
	await emulator("/v1/balance/_test/top_up", {
		amount: (usd + 10_000_000n).toString(),
		currency: "usd",
	});
	await creditAvailable(m.merchant.id, "usd", usd);
	await addDestination(m.merchant.id, { type: "stripe_account", stripeAccount: account.id });
	return { m, account: account.id };
}

async function transfersOf(payoutId: string) {
	const list = await stripe.transfers.list({ transfer_group: payoutId, limit: 10 });
	return list.data;
}

describe("fiat payouts through Stripe Connect", () => {
	it("pays out USD with one Connect transfer to the connected account, once however often the message comes", async () => {
		const { m, account } = await connectedMerchant(10_000n);
		const before = await stripe.balance.retrieve({}, { stripeAccount: account });
		const p = await createPayoutOk(m.sk, { amount: 4_000, currency: "usd" });
		expect(p).toMatchObject({ method: "stripe", status: "pending", amount: 4_000 });
		await consumePayouts([p.id]);
		await consumePayouts([p.id, p.id]);
		const paid = await getPayoutJson(m.sk, p.id);
		expect(paid, paid.failure_message ?? "").toMatchObject({
			status: "paid",
			fee: 0,
			fee_currency: "usd",
		});
		const transfers = await transfersOf(p.id);
		expect(transfers.map((t) => [t.id, t.amount, t.currency, t.destination])).toEqual([
			[paid.stripe_transfer, 4_000, "usd", account],
		]);
		const after = await stripe.balance.retrieve({}, { stripeAccount: account });
		const usd = (b: typeof after) =>
			[...b.available, ...b.pending]
				.filter((x) => x.currency === "usd")
				.reduce((s, x) => s + x.amount, 0);
		expect(usd(after) - usd(before)).toBe(4_000);
		expect(await available(m.merchant.id)).toBe(6_000n);
		expect(await accountBalance(accounts.payoutsInTransit(false, "usd"))).toBe(0n);
		expect(await payoutTransferIds(p.id)).toEqual(["paid", "reserve"]);
		expect(await eventTypes(p.id)).toEqual([
			"payout.created",
			"payout.updated",
			"payout.updated",
			"payout.paid",
		]);
		await expectLedgerBalanced();
	});

	it("fails a payout Stripe refuses, the funds back in available", async () => {
		const { m, account } = await connectedMerchant(5_000n);
		const p = await createPayoutOk(m.sk, { amount: 5_000, currency: "usd" });
		expect(await available(m.merchant.id)).toBe(0n);
		await emulator(`/v1/accounts/${account}/_test/fail_next_transfer`);
		const result = await consumePayouts([p.id]);
		expect(result.explicitAcks).toHaveLength(1);
		const failed = await getPayoutJson(m.sk, p.id);
		expect(failed).toMatchObject({
			status: "failed",
			failure_code: "insufficient_capabilities_for_transfer",
			stripe_transfer: null,
		});
		expect(failed.failure_message).toMatch(/^Stripe refused the transfer/);
		expect(await available(m.merchant.id)).toBe(5_000n);
		expect(await payoutTransferIds(p.id)).toEqual(["reserve", "reversal"]);
		expect(await transfersOf(p.id)).toEqual([]);
		expect(await eventTypes(p.id)).toEqual([
			"payout.created",
			"payout.updated",
			"payout.updated",
			"payout.failed",
		]);
		// The money is available again: a new payout takes it.
		const again = await createPayoutOk(m.sk, { amount: 5_000, currency: "usd" });
		await consumePayouts([again.id]);
		expect((await getPayoutJson(m.sk, again.id)).status).toBe("paid");
		await expectLedgerBalanced();
	});

	it("retries a Stripe outage through the queue with backoff, then sends the transfer once", async () => {
		const { m } = await connectedMerchant(3_000n);
		const p = await createPayoutOk(m.sk, { amount: 3_000, currency: "usd" });
		await stripeFaults({ outage: true });
		try {
			const first = await consumePayouts([p.id], 1);
			expect(first.retryMessages).toHaveLength(1);
			expect(first.delays).toEqual([10]);
			const third = await consumePayouts([p.id], 3);
			expect(third.delays).toEqual([40]);
		} finally {
			await stripeFaults({ outage: false });
		}
		expect((await getPayoutJson(m.sk, p.id)).status).toBe("in_transit");
		await consumePayouts([p.id], 4);
		const paid = await getPayoutJson(m.sk, p.id);
		expect(paid.status).toBe("paid");
		expect((await transfersOf(p.id)).map((t) => t.id)).toEqual([paid.stripe_transfer]);
		await expectLedgerBalanced();
	});

	it("gives up visibly after the last attempt, keeps a payout that may exist at Stripe in transit, and a later message pays it once", async () => {
		const { m } = await connectedMerchant(2_000n);
		const p = await createPayoutOk(m.sk, { amount: 2_000, currency: "usd" });
		const logs = captureLogs();
		await stripeFaults({ outage: true });
		try {
			const last = await consumePayouts([p.id], 10);
			expect(last.retryMessages).toEqual([]);
			expect(last.explicitAcks).toHaveLength(1);
		} finally {
			await stripeFaults({ outage: false });
		}
		const giveUp = await env.DB.prepare(
			"SELECT queue, attempts FROM queue_failures WHERE body LIKE ?",
		)
			.bind(`%${p.id}%`)
			.first();
		expect(giveUp).toEqual({ queue: "payouts", attempts: 10 });
		expect(
			logs.find(
				"error",
				"payout left in transit after the queue gave up; the transfer may exist at Stripe",
			),
		).toHaveLength(1);
		expect((await getPayoutJson(m.sk, p.id)).status).toBe("in_transit");
		expect(await available(m.merchant.id)).toBe(0n);
		// The stalled-payout sweep's message, with the same idempotency key: one transfer.
		await consumePayouts([p.id]);
		const paid = await getPayoutJson(m.sk, p.id);
		expect(paid.status).toBe("paid");
		expect((await transfersOf(p.id)).map((t) => t.id)).toEqual([paid.stripe_transfer]);
		await expectLedgerBalanced();
	});

	it("books a reversal of a paid payout's transfer once: back in available, amount_reversed, payout.updated", async () => {
		const { m } = await connectedMerchant(10_000n);
		const p = await createPayoutOk(m.sk, { amount: 4_000, currency: "usd" });
		await consumePayouts([p.id]);
		const paid = await getPayoutJson(m.sk, p.id);
		expect(paid).toMatchObject({ status: "paid", amount_reversed: 0 });
		const transferId = paid.stripe_transfer as string;
		const reversedEvents = async () =>
			(await stripe.events.list({ limit: 100 })).data.filter(
				(e) =>
					e.type === "transfer.reversed" && (e.data.object as { id: string }).id === transferId,
			);

		const first = await stripe.transfers.createReversal(transferId, { amount: 1_500 });
		const [event] = await reversedEvents();
		if (!event) throw new Error("the emulator sent no transfer.reversed");
		expect((await deliver(event)).status).toBe(200);
		// The same event again, and a replay of it under another id: nothing booked twice.
		expect((await deliver(event)).status).toBe(200);
		expect((await deliver({ ...event, id: `${event.id}_replay` })).status).toBe(200);
		expect(await available(m.merchant.id)).toBe(6_000n + 1_500n);
		expect(await getPayoutJson(m.sk, p.id)).toMatchObject({
			status: "paid",
			amount_reversed: 1_500,
		});

		// A second, partial reversal: only it is added.
		const second = await stripe.transfers.createReversal(transferId, { amount: 500 });
		for (const e of await reversedEvents()) expect((await deliver(e)).status).toBe(200);
		expect(await available(m.merchant.id)).toBe(6_000n + 2_000n);
		expect((await getPayoutJson(m.sk, p.id)).amount_reversed).toBe(2_000);
		// Sorted by id, and reversal ids are random: compare as sets.
		expect(await payoutTransferIds(p.id)).toEqual(
			["paid", "reserve", `stripe_reversal:${first.id}`, `stripe_reversal:${second.id}`].sort(),
		);
		expect(await eventTypes(p.id)).toEqual([
			"payout.created",
			"payout.updated",
			"payout.updated",
			"payout.paid",
			"payout.updated",
			"payout.updated",
		]);
		await expectLedgerBalanced();
	});
});
