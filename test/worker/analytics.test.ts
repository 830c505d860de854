import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { addDays } from "../../src/domain/reports";
import {
	type AnalyticsMetrics,
	histogramMedian,
	histogramOf,
	isoWeekKey,
} from "../../src/domain/rollups";
import type { AnalyticsSummary } from "../../src/services/analytics";
import { call, cancelPayment, createPayment, expectApiError, json } from "./helpers/api";
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

type Merchant = Awaited<ReturnType<typeof merchant>>;

async function summary(key: string, query = ""): Promise<AnalyticsSummary> {
	const res = await call("GET", `/v1/analytics/summary${query}`, { key });
	expect(res.status, await res.clone().text()).toBe(200);
	return json<AnalyticsSummary>(res);
}

const EMPTY: AnalyticsMetrics = {
	payments: 0,
	succeeded: 0,
	failed: 0,
	success_rate: null,
	volume: {},
	average_ticket: {},
	fees: {},
	refunds: 0,
	refunded: {},
	refund_rate: null,
	conversion_spread: {},
	net_settled: {},
	median_confirmation_seconds: null,
	customers: { new: 0, returning: 0 },
};

/**
 * One day of real activity: a $100 card payment by a customer (Stripe fee 320) refunded $30, a
 * canceled card payment, and a $25 SOL payment converted to 2,493 cents (spread 7).
 */
async function dayOfActivity(m: Merchant) {
	const cus = await customer(m);
	const card = await paidCard(m, 10_000, { customer: cus });
	const canceled = await createPayment(m.sk, { amount: 2_500, payment_method_types: ["card"] });
	await cancelPayment(m.sk, canceled.id);
	const sol = await paidAndConvertedSol(m);
	await refundAndFinish(m, card.id, 3_000);
	await runCron();
	return { card, sol, cus };
}

describe("GET /v1/analytics/summary", () => {
	it("summarises the last 30 days by default, every metric exact", async () => {
		const m = await merchant();
		const { card, sol } = await dayOfActivity(m);
		const s = await summary(m.sk);
		const median = histogramMedian(
			histogramOf([card.succeeded_at - card.created, sol.succeeded_at - sol.created]),
		);
		expect(s).toEqual({
			object: "analytics_summary",
			livemode: false,
			from: addDays(today(), -29),
			to: today(),
			group_by: null,
			totals: {
				payments: 3,
				succeeded: 2,
				failed: 1,
				success_rate: 0.6667,
				volume: { usd: 12_500 },
				average_ticket: { usd: 6_250 },
				fees: { usd: 320 },
				refunds: 1,
				refunded: { usd: 3_000 },
				refund_rate: 0.5,
				conversion_spread: { usd: 7 },
				// Card 10,000 - 320 fee, SOL converted 2,493, less the 3,000 refunded.
				net_settled: { usd: 9_173 },
				median_confirmation_seconds: median,
				customers: { new: 1, returning: 0 },
			},
			groups: [],
			payouts: { count: 0, automatic: 0, paid: {}, in_transit: {}, returned: {}, fees: {} },
		});
	});

	it("groups by method, currency and token, the token groups holding crypto only", async () => {
		const m = await merchant();
		await dayOfActivity(m);
		const byMethod = await summary(m.sk, "?group_by=method");
		expect(
			byMethod.groups.map((g) => [g.key, g.payments, g.succeeded, g.volume, g.net_settled]),
		).toEqual([
			["card", 2, 1, { usd: 10_000 }, { usd: 6_680 }],
			["solana", 1, 1, { usd: 2_500 }, { usd: 2_493 }],
		]);
		expect(byMethod.groups[0]).toMatchObject({
			key: "card",
			fees: { usd: 320 },
			refunds: 1,
			refunded: { usd: 3_000 },
			refund_rate: 1,
			customers: { new: 1, returning: 0 },
		});
		const byCurrency = await summary(m.sk, "?group_by=currency");
		expect(byCurrency.groups).toEqual([{ key: "usd", ...byCurrency.totals }]);
		const byToken = await summary(m.sk, "?group_by=token");
		expect(byToken.groups).toEqual([
			{
				...EMPTY,
				key: "SOL",
				payments: 1,
				succeeded: 1,
				success_rate: 1,
				volume: { usd: 2_500 },
				average_ticket: { usd: 2_500 },
				refund_rate: 0,
				conversion_spread: { usd: 7 },
				net_settled: { usd: 2_493 },
				median_confirmation_seconds: byToken.groups[0]?.median_confirmation_seconds as number,
			},
		]);
	});

	it("groups by day, ISO week and month over the window, with empty periods listed", async () => {
		const m = await merchant();
		const cus = await customer(m);
		const t = today();
		// The customer's first payment 10 days ago, and a second today.
		await project(succeededPayment(m, Date.now() - 10 * DAY_S * 1000, 4_000, { customer: cus }));
		await paidCard(m, 1_000, { customer: cus });
		await drain();
		const from = addDays(t, -10);
		const byDay = await summary(m.sk, `?from=${from}&to=${t}&group_by=day`);
		expect(byDay.groups.map((g) => g.key)).toEqual(
			Array.from({ length: 11 }, (_, i) => addDays(from, i)),
		);
		expect(byDay.groups[0]).toMatchObject({
			volume: { usd: 4_000 },
			customers: { new: 1, returning: 0 },
		});
		expect(byDay.groups[10]).toMatchObject({
			volume: { usd: 1_000 },
			customers: { new: 0, returning: 1 },
		});
		expect(byDay.groups.slice(1, 10).every((g) => g.payments === 0)).toBe(true);
		expect(byDay.totals).toMatchObject({ succeeded: 2, customers: { new: 1, returning: 0 } });

		// A window that starts after the first payment sees a returning customer only.
		const recent = await summary(m.sk, `?from=${addDays(t, -2)}&to=${t}`);
		expect(recent.totals).toMatchObject({ succeeded: 1, customers: { new: 0, returning: 1 } });

		const byWeek = await summary(m.sk, `?from=${from}&to=${t}&group_by=week`);
		const weeks = [...new Set(byDay.groups.map((g) => isoWeekKey(g.key)))];
		expect(byWeek.groups.map((g) => g.key)).toEqual(weeks);
		expect(byWeek.groups.reduce((n, g) => n + g.succeeded, 0)).toBe(2);
		const byMonth = await summary(m.sk, `?from=${from}&to=${t}&group_by=month`);
		const months = [...new Set(byDay.groups.map((g) => g.key.slice(0, 7)))];
		expect(byMonth.groups.map((g) => g.key)).toEqual(months);
		expect(byMonth.groups.reduce((n, g) => n + (g.volume.usd ?? 0), 0)).toBe(5_000);
	});

	it("keeps test and live data apart", async () => {
		const m = await merchant();
		await paidCard(m, 2_000);
		// A live payment, as the live PaymentObject's outbox writes it.
		await project(succeededPayment(m, Date.now(), 7_000, { livemode: true }));
		await drain();
		expect((await summary(m.sk)).totals).toMatchObject({ payments: 1, volume: { usd: 2_000 } });
		const live = await summary(m.skLive);
		expect(live.livemode).toBe(true);
		expect(live.totals).toMatchObject({ payments: 1, volume: { usd: 7_000 } });
		const other = await merchant();
		expect((await summary(other.sk)).totals).toEqual(EMPTY);
	});

	it("reads only the rollups: the answer stands without the source rows", async () => {
		const m = await merchant();
		await dayOfActivity(m);
		const before = await summary(m.sk, "?group_by=method");
		for (const table of ["payments", "refunds", "conversions"]) {
			await env.DB.prepare(`DELETE FROM ${table} WHERE merchant_id = ?`).bind(m.merchant.id).run();
		}
		expect(await summary(m.sk, "?group_by=method")).toEqual(before);
	});

	it("is described in the OpenAPI document with its query parameters", async () => {
		const doc = await json<{
			paths: Record<string, { get?: { parameters?: { name: string; in: string }[] } }>;
		}>(await call("GET", "/v1/openapi.json"));
		const params = doc.paths["/v1/analytics/summary"]?.get?.parameters ?? [];
		expect(params.map((p) => [p.name, p.in])).toEqual([
			["from", "query"],
			["to", "query"],
			["group_by", "query"],
		]);
	});

	it("refuses a bad window or grouping in the house error shape", async () => {
		const m = await merchant();
		const t = today();
		const get = (query: string) => call("GET", `/v1/analytics/summary${query}`, { key: m.sk });
		expect(
			(
				await expectApiError(
					await get(`?from=${t}&to=${addDays(t, -1)}`),
					"parameter_invalid",
					"from",
				)
			).message,
		).toMatch(/must not be after to/);
		// 366 days are allowed, 367 are not.
		expect((await get(`?from=${addDays(t, -365)}&to=${t}`)).status).toBe(200);
		expect(
			(
				await expectApiError(
					await get(`?from=${addDays(t, -366)}&to=${t}`),
					"parameter_invalid",
					"from",
				)
			).message,
		).toMatch(/at most 366 days/);
		// A default `from` goes back 29 days from any `to`.
		expect((await summary(m.sk, "?to=2026-03-01")).from).toBe("2026-01-31");
		await expectApiError(await get("?from=2026-02-30"), "parameter_invalid", "from");
		await expectApiError(await get("?to=20261124"), "parameter_invalid", "to");
		await expectApiError(await get("?group_by=year"), "parameter_invalid", "group_by");
		const publishable = await call("GET", "/v1/analytics/summary", { key: m.pk });
		expect(publishable.status).toBe(401);
	});
});
