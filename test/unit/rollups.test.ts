import { describe, expect, it } from "vitest";
import { addDays } from "../../src/domain/reports";
import {
	bucketIndex,
	type ChangedDay,
	CONFIRMATION_BUCKETS,
	dayOf,
	daysBetween,
	emptyHistogram,
	groupKeyOf,
	groupMetrics,
	HISTOGRAM_SIZE,
	histogramMedian,
	histogramOf,
	isDay,
	isoWeekKey,
	mergeInto,
	metricsOf,
	type PaymentRollup,
	parseHistogram,
	periodKeys,
	planRebuild,
	ratio4,
	weekStart,
} from "../../src/domain/rollups";

describe("UTC days and ISO weeks", () => {
	it("accepts only real calendar dates written YYYY-MM-DD", () => {
		expect(isDay("2026-11-24")).toBe(true);
		expect(isDay("2024-02-29")).toBe(true);
		expect(isDay("2026-02-29")).toBe(false);
		expect(isDay("2026-13-01")).toBe(false);
		expect(isDay("2026-1-01")).toBe(false);
		expect(isDay("2026-11-24T00:00:00Z")).toBe(false);
	});

	it("does day arithmetic in UTC", () => {
		expect(dayOf(Date.UTC(2026, 10, 24, 23, 59, 59, 999))).toBe("2026-11-24");
		expect(addDays("2026-12-31", 1)).toBe("2027-01-01");
		expect(addDays("2026-03-01", -1)).toBe("2026-02-28");
		expect(daysBetween("2025-11-25", "2026-11-25")).toBe(365);
	});

	it("names ISO weeks by the year of their Thursday", () => {
		expect(weekStart("2026-11-26")).toBe("2026-11-23");
		expect(weekStart("2026-11-23")).toBe("2026-11-23");
		expect(weekStart("2026-11-29")).toBe("2026-11-23");
		expect(isoWeekKey("2026-11-24")).toBe("2026-W48");
		// 2026-12-28 is a Monday whose Thursday is 2026-12-31: week 53 of 2026.
		expect(isoWeekKey("2027-01-01")).toBe("2026-W53");
		expect(isoWeekKey("2027-01-04")).toBe("2027-W01");
		// 2024-12-30 (Monday) belongs to 2025-W01.
		expect(isoWeekKey("2024-12-30")).toBe("2025-W01");
		expect(isoWeekKey("2021-01-03")).toBe("2020-W53");
	});

	it("lists every period of a window once, in order", () => {
		expect(periodKeys("2026-11-28", "2026-12-01", "day")).toEqual([
			"2026-11-28",
			"2026-11-29",
			"2026-11-30",
			"2026-12-01",
		]);
		expect(periodKeys("2026-11-28", "2026-12-08", "week")).toEqual([
			"2026-W48",
			"2026-W49",
			"2026-W50",
		]);
		expect(periodKeys("2026-11-28", "2027-01-02", "month")).toEqual([
			"2026-11",
			"2026-12",
			"2027-01",
		]);
	});
});

describe("confirmation-time histogram", () => {
	it("puts each time in the bucket below its upper bound", () => {
		expect(bucketIndex(-3)).toBe(0);
		expect(bucketIndex(0)).toBe(0);
		expect(bucketIndex(0.99)).toBe(0);
		expect(bucketIndex(1)).toBe(1);
		expect(bucketIndex(4)).toBe(3);
		expect(bucketIndex(59)).toBe(9);
		expect(bucketIndex(60)).toBe(10);
		expect(bucketIndex(86_399)).toBe(CONFIRMATION_BUCKETS.length - 1);
		expect(bucketIndex(86_400)).toBe(CONFIRMATION_BUCKETS.length);
		expect(HISTOGRAM_SIZE).toBe(22);
	});

	it("merges exactly: the sum of two days' histograms is the histogram of both days", () => {
		const a = [0, 1, 2, 7, 7, 40, 600, 90_000];
		const b = [3, 3, 12, 59, 61, 3599, 86_399];
		expect(mergeInto(histogramOf(a), histogramOf(b))).toEqual(histogramOf([...a, ...b]));
		expect(mergeInto(emptyHistogram(), histogramOf(a))).toEqual(histogramOf(a));
	});

	it("reads the median by interpolating inside the middle bucket", () => {
		expect(histogramMedian(emptyHistogram())).toBeNull();
		// One time of 7 s: the [5, 10) bucket, half-way through = 7.5.
		expect(histogramMedian(histogramOf([7]))).toBe(7.5);
		// Four times in [10, 15): the middle (2 of 4) is half-way, 12.5.
		expect(histogramMedian(histogramOf([10, 11, 12, 14]))).toBe(12.5);
		// Three in [1, 2), one in [60, 90): half = 2 of 3 in the first bucket = 1.7.
		expect(histogramMedian(histogramOf([1, 1, 1, 70]))).toBe(1.7);
		// Everything past a day: the open bucket answers its lower bound.
		expect(histogramMedian(histogramOf([100_000, 200_000]))).toBe(86_400);
	});

	it("refuses a stored histogram of the wrong shape", () => {
		expect(parseHistogram(JSON.stringify(histogramOf([3])))).toEqual(histogramOf([3]));
		expect(() => parseHistogram("[1,2,3]")).toThrow(/not a confirmation histogram/);
		expect(() => parseHistogram(JSON.stringify(new Array(22).fill(-1)))).toThrow();
	});
});

describe("planning which days to rebuild", () => {
	const day = (d: string, firstSeq: number, lastSeq: number, merchantId = "mch_a"): ChangedDay => ({
		merchantId,
		livemode: false,
		day: d,
		firstSeq,
		lastSeq,
	});

	it("takes every changed day and moves the watermark to the end of the page", () => {
		const plan = planRebuild([day("2026-11-24", 12, 30), day("2026-11-17", 11, 40)], 45, 10, 25);
		expect(plan.keys.map((k) => k.day)).toEqual(["2026-11-17", "2026-11-24"]);
		expect(plan.watermark).toBe(45);
	});

	it("stops just before the first event of the first day left over the cap", () => {
		const changed = [
			day("2026-11-20", 101, 150),
			day("2026-11-21", 103, 104),
			day("2026-11-22", 102, 160),
		];
		const plan = planRebuild(changed, 160, 100, 2);
		expect(plan.keys.map((k) => k.day)).toEqual(["2026-11-20", "2026-11-22"]);
		// Every event below 103 names a day rebuilt now; 103 and above are read again next run.
		expect(plan.watermark).toBe(102);
	});

	it("moves past events that change no rollup, and never moves back", () => {
		expect(planRebuild([], 70, 60, 25)).toEqual({ keys: [], watermark: 70 });
		expect(planRebuild([], null, 60, 25)).toEqual({ keys: [], watermark: 60 });
	});
});

describe("metric math", () => {
	const row = (p: Partial<PaymentRollup>): PaymentRollup => ({
		day: "2026-11-24",
		method: "card",
		currency: "usd",
		token: "",
		status: "succeeded",
		payments: 0,
		amount: 0,
		fees: 0,
		net: 0,
		refunded_payments: 0,
		confirm_hist: emptyHistogram(),
		...p,
	});

	it("rounds rates to 4 decimals and leaves 0/0 undefined", () => {
		expect(ratio4(2, 3)).toBe(0.6667);
		expect(ratio4(0, 5)).toBe(0);
		expect(ratio4(0, 0)).toBeNull();
	});

	it("computes every metric per currency from the rows of a group", () => {
		const metrics = metricsOf(
			{
				payments: [
					row({
						payments: 3,
						amount: 7500,
						fees: 300,
						net: 7200,
						refunded_payments: 1,
						confirm_hist: histogramOf([2, 3, 4]),
					}),
					row({ status: "failed", payments: 1, amount: 1000 }),
					row({ status: "expired", payments: 2, amount: 2000 }),
					row({ status: "requires_payment", payments: 1, amount: 500 }),
					row({
						method: "solana",
						token: "USDC",
						currency: "eur",
						payments: 2,
						amount: 1001,
						confirm_hist: histogramOf([40, 50]),
					}),
				],
				refunds: [
					{ ...row({}), refunds: 2, amount: 1200 },
					{ ...row({}), status: "pending", refunds: 1, amount: 999 },
				],
				conversions: [
					{
						...row({ method: "solana", token: "USDC", currency: "eur" }),
						status: "completed",
						conversions: 2,
						spread: 3,
						settled: 997,
					},
					{
						...row({ method: "solana", token: "SOL", currency: "eur" }),
						status: "failed",
						conversions: 1,
						spread: 0,
						settled: 0,
					},
				],
			},
			{ new: 2, returning: 1 },
		);
		expect(metrics).toEqual({
			payments: 9,
			succeeded: 5,
			failed: 3,
			success_rate: 0.625,
			volume: { eur: 1001, usd: 7500 },
			// 1001 / 2 = 500.5 rounds half up.
			average_ticket: { eur: 501, usd: 2500 },
			fees: { usd: 300 },
			refunds: 2,
			refunded: { usd: 1200 },
			refund_rate: 0.2,
			conversion_spread: { eur: 3 },
			net_settled: { eur: 997, usd: 6000 },
			// Five times: 2, 3, 4, 40, 50. The middle (2.5 of 5) is 1.5 into the two of [3, 5): 4.5.
			median_confirmation_seconds: 4.5,
			customers: { new: 2, returning: 1 },
		});
	});

	it("groups rows by period or dimension, listing empty periods and leaving cards out of tokens", () => {
		const rows = {
			payments: [
				row({ day: "2026-11-29", payments: 1, amount: 100 }),
				row({ day: "2026-11-30", method: "solana", token: "SOL", payments: 2, amount: 300 }),
			],
			refunds: [],
			conversions: [],
		};
		const window = { from: "2026-11-28", to: "2026-12-01" };
		const byDay = groupMetrics(rows, "day", window, new Map());
		expect(byDay.map((g) => [g.key, g.payments])).toEqual([
			["2026-11-28", 0],
			["2026-11-29", 1],
			["2026-11-30", 2],
			["2026-12-01", 0],
		]);
		const byWeek = groupMetrics(rows, "week", window, new Map());
		expect(byWeek.map((g) => [g.key, g.payments, g.volume])).toEqual([
			["2026-W48", 1, { usd: 100 }],
			["2026-W49", 2, { usd: 300 }],
		]);
		const byToken = groupMetrics(
			rows,
			"token",
			window,
			new Map([["SOL", { new: 1, returning: 0 }]]),
		);
		expect(byToken.map((g) => [g.key, g.payments, g.customers])).toEqual([
			["SOL", 2, { new: 1, returning: 0 }],
		]);
		expect(groupKeyOf(rows.payments[0] as PaymentRollup, "method")).toBe("card");
		expect(groupKeyOf(rows.payments[0] as PaymentRollup, "month")).toBe("2026-11");
	});
});
