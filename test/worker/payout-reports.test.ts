import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Report } from "../../src/services/reports";
import { call, createMerchant, json } from "./helpers/api";
import { expectLedgerBalanced } from "./helpers/ledger";
import {
	addDestination,
	consumePayouts,
	createPayoutOk,
	creditAvailable,
	getPayoutJson,
} from "./helpers/payouts";
import { stripe } from "./helpers/stripe";

const today = () => new Date().toISOString().slice(0, 10);

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

/**
 * A merchant with $100.00 of card funds available and three payouts of today: $40.00 paid through
 * Stripe Connect, $10.00 canceled (back in the balance), $20.00 still pending.
 */
async function merchantWithPayouts() {
	const m = await createMerchant();
	const account = await stripe.accounts.create({
		type: "express",
		capabilities: { transfers: { requested: true } },
	});
	await emulator(`/v1/accounts/${account.id}/_test/complete_onboarding`);
	await emulator("/v1/balance/_test/top_up", { amount: "10000", currency: "usd" });
	await creditAvailable(m.merchant.id, "usd", 10_000n);
	await addDestination(m.merchant.id, { type: "stripe_account", stripeAccount: account.id });
	const paid = await createPayoutOk(m.sk, { amount: 4_000, currency: "usd" });
	await consumePayouts([paid.id]);
	expect((await getPayoutJson(m.sk, paid.id)).status).toBe("paid");
	const canceled = await createPayoutOk(m.sk, { amount: 1_000, currency: "usd" });
	const cancel = await call("POST", `/v1/payouts/${canceled.id}/cancel`, { key: m.sk });
	expect(cancel.status).toBe(200);
	const pending = await createPayoutOk(m.sk, { amount: 2_000, currency: "usd" });
	return { m, paid: await getPayoutJson(m.sk, paid.id), canceled, pending };
}

async function reportFile<T>(key: string, type: "settlement" | "transactions"): Promise<T> {
	const res = await call("POST", "/v1/reports", {
		key,
		body: { type, from: today(), to: today() },
	});
	const report = await json<Report>(res);
	expect(report.status).toBe("ready");
	const file = await call("GET", `/v1/reports/${report.id}/download?format=json`, { key });
	expect(file.status).toBe(200);
	return (await file.json()) as T;
}

describe("payouts in reports", () => {
	it("the settlement report takes payouts out of the balance, returns the canceled one, shows paid and in transit, and reconciles", async () => {
		const { m } = await merchantWithPayouts();
		const file = await reportFile<{ reconciled: unknown; data: Record<string, unknown>[] }>(
			m.sk,
			"settlement",
		);
		expect(file.reconciled).toBe(true);
		expect(file.data).toEqual([
			expect.objectContaining({
				currency: "usd",
				opening_balance: "0",
				payments: "10000",
				payouts: "-7000",
				payouts_decimal: "-70.00",
				payouts_returned: "1000",
				closing_balance: "4000",
				ledger_balance: "4000",
				difference: "0",
				payouts_paid: "4000",
				payouts_paid_decimal: "40.00",
				payouts_in_transit: "2000",
				reconciled: true,
			}),
		]);
		await expectLedgerBalanced();
	});

	it("the transactions report has each payout's own rows: taken, and given back when canceled", async () => {
		const { m, paid, canceled, pending } = await merchantWithPayouts();
		const file = await reportFile<{ data: Record<string, unknown>[] }>(m.sk, "transactions");
		const rows = file.data
			.filter((r) => String(r.type).startsWith("payout"))
			.map((r) => [r.type, r.id, r.status, r.method, r.amount, r.currency, r.net, r.payment]);
		expect(rows).toEqual([
			["payout", paid.id, "paid", "stripe", -4_000, "usd", -4_000, null],
			["payout", canceled.id, "canceled", "stripe", -1_000, "usd", -1_000, null],
			["payout_return", canceled.id, "canceled", "stripe", 1_000, "usd", 1_000, null],
			["payout", pending.id, "pending", "stripe", -2_000, "usd", -2_000, null],
		]);
		const paidRow = file.data.find((r) => r.type === "payout" && r.id === paid.id);
		expect(paidRow).toMatchObject({
			processor_reference: paid.stripe_transfer,
			amount_decimal: "-40.00",
			description: "payout",
		});
		// What the payouts' rows net to is what they took from the balance: 10,000 down to 4,000.
		const net = rows.reduce((s, r) => s + BigInt(r[6] as number), 0n);
		expect(net).toBe(-6_000n);
	});

	it("analytics count the window's payouts by where they are now", async () => {
		const { m } = await merchantWithPayouts();
		const res = await call("GET", "/v1/analytics/summary", { key: m.sk });
		expect(res.status).toBe(200);
		const summary = await json<{ payouts: unknown }>(res);
		expect(summary.payouts).toEqual({
			count: 3,
			automatic: 0,
			paid: { usd: "4000" },
			in_transit: { usd: "2000" },
			returned: { usd: "1000" },
			fees: {},
		});
		const other = await createMerchant();
		const none = await json<{ payouts: unknown }>(
			await call("GET", "/v1/analytics/summary", { key: other.sk }),
		);
		expect(none.payouts).toMatchObject({ count: 0, paid: {} });
	});
});
