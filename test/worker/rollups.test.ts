import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { insertEventStatement } from "../../src/db/events";
import { upsertRefundStatement } from "../../src/db/refunds";
import { newId } from "../../src/domain/ids";
import type { RefundRecord } from "../../src/domain/refund";
import { toApiRefund } from "../../src/domain/refund";
import { dayOf, histogramOf } from "../../src/domain/rollups";
import { runRollups } from "../../src/services/rollups";
import { cancelPayment, createPayment } from "./helpers/api";
import {
	customer,
	DAY_S,
	drain,
	merchant,
	paidAndConvertedSol,
	paidCard,
	project,
	refundAndFinish,
	runCron,
	succeededPayment,
	today,
} from "./helpers/rollups";

async function rows(table: string, merchantId: string): Promise<Record<string, unknown>[]> {
	const { results } = await env.DB.prepare(
		`SELECT * FROM ${table} WHERE merchant_id = ? ORDER BY day, method, currency, token, ${table === "rollup_customers_daily" ? "customer_id" : "status"}`,
	)
		.bind(merchantId)
		.all<Record<string, unknown>>();
	return results.map(({ merchant_id: _m, ...rest }) => rest);
}

const hist = (...seconds: number[]) => JSON.stringify(histogramOf(seconds));
const zeros = hist();

describe("rollups of real payments", () => {
	it("rolls up the day's card and crypto payments, conversions, customers and refunds", async () => {
		const m = await merchant();
		const cus = await customer(m);
		const card = await paidCard(m, 10_000, { customer: cus });
		const open = await createPayment(m.sk, { amount: 700, payment_method_types: ["card"] });
		const canceled = await createPayment(m.sk, { amount: 2_500, payment_method_types: ["card"] });
		await cancelPayment(m.sk, canceled.id);
		const sol = await paidAndConvertedSol(m);
		expect(open.status).toBe("requires_payment");

		await runCron();
		const day = today();
		expect(await rows("rollup_payments_daily", m.merchant.id)).toEqual([
			{
				livemode: 0,
				day,
				method: "card",
				currency: "usd",
				token: "",
				status: "canceled",
				payments: 1,
				amount: 2_500,
				amount_received: 0,
				fees: 0,
				net: 0,
				refunded_payments: 0,
				confirm_hist: zeros,
			},
			{
				livemode: 0,
				day,
				method: "card",
				currency: "usd",
				token: "",
				status: "requires_payment",
				payments: 1,
				amount: 700,
				amount_received: 0,
				fees: 0,
				net: 0,
				refunded_payments: 0,
				confirm_hist: zeros,
			},
			{
				livemode: 0,
				day,
				method: "card",
				currency: "usd",
				token: "",
				status: "succeeded",
				payments: 1,
				amount: 10_000,
				amount_received: 10_000,
				// The emulator's Stripe fee: 2.9 % + 30 cents.
				fees: 320,
				net: 9_680,
				refunded_payments: 0,
				confirm_hist: hist(card.succeeded_at - card.created),
			},
			{
				livemode: 0,
				day,
				method: "solana",
				currency: "usd",
				token: "SOL",
				status: "succeeded",
				payments: 1,
				amount: 2_500,
				amount_received: 2_500,
				fees: 0,
				net: 0,
				refunded_payments: 0,
				confirm_hist: hist(sol.succeeded_at - sol.created),
			},
		]);
		// $25.00 of SOL sold for 2,500 cents less the 0.3 % spread (7): 2,493 settled.
		expect(await rows("rollup_conversions_daily", m.merchant.id)).toEqual([
			{
				livemode: 0,
				day,
				method: "solana",
				currency: "usd",
				token: "SOL",
				status: "completed",
				conversions: 1,
				from_amount: 166_666_667,
				spread: 7,
				settled: 2_493,
			},
		]);
		expect(await rows("rollup_customers_daily", m.merchant.id)).toEqual([
			{ livemode: 0, day, customer_id: cus, method: "card", currency: "usd", token: "" },
		]);
		expect(await rows("rollup_refunds_daily", m.merchant.id)).toEqual([]);

		const refundId = await refundAndFinish(m, card.id, 3_000);
		expect(refundId).toMatch(/^re_/);
		await runCron();
		expect(await rows("rollup_refunds_daily", m.merchant.id)).toEqual([
			{
				livemode: 0,
				day,
				method: "card",
				currency: "usd",
				token: "",
				status: "succeeded",
				refunds: 1,
				amount: 3_000,
			},
		]);
		const succeededCard = (await rows("rollup_payments_daily", m.merchant.id))[2];
		expect(succeededCard).toMatchObject({
			status: "succeeded",
			method: "card",
			refunded_payments: 1,
		});
	});

	it("rebuilds the same rows when a window is run again, and a run with nothing new writes nothing", async () => {
		const m = await merchant();
		await paidCard(m, 4_200, { customer: await customer(m) });
		await createPayment(m.sk, { amount: 900, payment_method_types: ["card"] });
		await drain();
		const idle = await runRollups(env, Math.floor(Date.now() / 1000));
		expect(idle).toMatchObject({ days: 0, events: 0, rows_written: 0 });
		// An idle run reads the watermark and an empty page of the log, whatever the history.
		for (const n of [9, 10, 11]) {
			await project(succeededPayment(m, Date.now() - n * DAY_S * 1000, 100));
		}
		await drain();
		const idleAfterMoreHistory = await runRollups(env, Math.floor(Date.now() / 1000));
		expect(idleAfterMoreHistory).toEqual({ ...idle, watermark: idleAfterMoreHistory.watermark });
		expect(idleAfterMoreHistory.watermark).toBeGreaterThan(idle.watermark);

		const before = {
			payments: await rows("rollup_payments_daily", m.merchant.id),
			customers: await rows("rollup_customers_daily", m.merchant.id),
			firsts: (
				await env.DB.prepare("SELECT * FROM rollup_customer_firsts ORDER BY customer_id").all()
			).results,
		};
		expect(before.payments).toHaveLength(5);
		expect(before.customers).toHaveLength(1);

		// Replay the whole log: every day is rebuilt from its source rows, to identical rows.
		await env.DB.prepare("UPDATE rollup_watermarks SET seq = 0").run();
		await drain();
		expect({
			payments: await rows("rollup_payments_daily", m.merchant.id),
			customers: await rows("rollup_customers_daily", m.merchant.id),
			firsts: (
				await env.DB.prepare("SELECT * FROM rollup_customer_firsts ORDER BY customer_id").all()
			).results,
		}).toEqual(before);
	});

	it("replays the log when the watermark is above it (positions renumbered by a restore)", async () => {
		const m = await merchant();
		await paidCard(m, 3_300);
		await drain();
		await env.DB.prepare("DELETE FROM rollup_payments_daily WHERE merchant_id = ?")
			.bind(m.merchant.id)
			.run();
		await env.DB.prepare("UPDATE rollup_watermarks SET seq = 1000000000").run();
		await drain();
		expect((await rows("rollup_payments_daily", m.merchant.id)).map((r) => r.amount)).toEqual([
			3_300,
		]);
		const top = await env.DB.prepare("SELECT max(rowid) AS top FROM events").first<{
			top: number;
		}>();
		const mark = await env.DB.prepare("SELECT seq FROM rollup_watermarks").first<{ seq: number }>();
		expect(mark?.seq).toBe(top?.top);
	});

	it("rebuilds more days in one run than one statement holds (19), each from its own rows", async () => {
		const m = await merchant();
		await drain();
		const days = Array.from({ length: 23 }, (_, i) => Date.now() - (30 + i) * DAY_S * 1000);
		for (const [i, ms] of days.entries()) await project(succeededPayment(m, ms, 100 + i));
		const run = await runRollups(env, 0);
		expect(run.days).toBe(23);
		const rebuilt = await rows("rollup_payments_daily", m.merchant.id);
		expect(rebuilt.map((r) => [r.day, r.amount])).toEqual(
			days.map((ms, i) => [dayOf(ms), 100 + i]).reverse(),
		);
	});

	it("rebuilds at most the cap of days per run and continues where it stopped", async () => {
		const m = await merchant();
		await drain();
		// Three past days, each written as the outbox writes a payment.
		const days = [5, 4, 3].map((n) => Date.now() - n * DAY_S * 1000);
		for (const ms of days) await project(succeededPayment(m, ms, 1_000));
		const first = await runRollups(env, 0, { events: 1_000, days: 2 });
		expect(first.days).toBe(2);
		expect((await rows("rollup_payments_daily", m.merchant.id)).map((r) => r.day)).toEqual(
			days.slice(0, 2).map(dayOf),
		);
		const second = await runRollups(env, 0, { events: 1_000, days: 2 });
		expect(second.days).toBe(1);
		expect((await rows("rollup_payments_daily", m.merchant.id)).map((r) => r.day)).toEqual(
			days.map(dayOf),
		);
		expect((await runRollups(env, 0)).days).toBe(0);
	});
});

describe("late data", () => {
	it("picks up an event written after the watermark passed, though its id is hours old", async () => {
		const m = await merchant();
		await paidCard(m, 1_500);
		await drain();
		// A payment of three days ago whose outbox flush was stuck (D1 down) until now: its event
		// id was minted two hours ago, long before events the job has already read.
		const late = succeededPayment(m, Date.now() - 3 * DAY_S * 1000, 8_000);
		await project(late, "payment.succeeded", Date.now() - 2 * 3600 * 1000);
		await runCron();
		const lateDay = dayOf(Date.now() - 3 * DAY_S * 1000);
		expect(
			(await rows("rollup_payments_daily", m.merchant.id)).map((r) => [r.day, r.amount]),
		).toEqual([
			[lateDay, 8_000],
			[today(), 1_500],
		]);
	});

	it("books a refund made a week later on the refund's day and marks the payment's own day refunded", async () => {
		const m = await merchant();
		const weekAgo = Date.now() - 8 * DAY_S * 1000;
		const payment = succeededPayment(m, weekAgo, 5_000);
		await project(payment);
		await drain();
		const paymentDay = dayOf(weekAgo);
		expect(await rows("rollup_payments_daily", m.merchant.id)).toMatchObject([
			{ day: paymentDay, status: "succeeded", amount: 5_000, refunded_payments: 0 },
		]);

		// Today: a refund of 2,000 succeeds; the payment object records both changes.
		const now = Math.floor(Date.now() / 1000);
		const refund: RefundRecord = {
			id: newId("refund"),
			payment_id: payment.id,
			merchant_id: m.merchant.id,
			livemode: false,
			status: "succeeded",
			funds: "received",
			amount: 2_000,
			currency: "usd",
			reason: null,
			metadata: {},
			processor: "stripe",
			failure_reason: null,
			card: null,
			solana: null,
			created: now,
			updated: now,
			version: 2,
		};
		await upsertRefundStatement(env.DB, refund).run();
		await insertEventStatement(env.DB, {
			id: newId("event"),
			merchant_id: m.merchant.id,
			livemode: false,
			type: "refund.succeeded",
			object_id: refund.id,
			object_version: refund.version,
			data: JSON.stringify(toApiRefund(refund)),
			created: now,
		}).run();
		await project({ ...payment, amount_refunded: 2_000, version: 3 }, "payment.refunded");
		const run = await runRollups(env, now);
		expect(run.days).toBe(2);

		expect(await rows("rollup_payments_daily", m.merchant.id)).toMatchObject([
			{ day: paymentDay, status: "succeeded", amount: 5_000, refunded_payments: 1 },
		]);
		expect(await rows("rollup_refunds_daily", m.merchant.id)).toEqual([
			{
				livemode: 0,
				day: today(),
				method: "card",
				currency: "usd",
				token: "",
				status: "succeeded",
				refunds: 1,
				amount: 2_000,
			},
		]);
	});
});
