/**
 * Rollups and analytics, pure part: UTC days and ISO weeks, the confirmation-time histogram
 * (fixed buckets, so day histograms merge exactly by adding counts), choosing which days the
 * rollup job rebuilds from a page of the event log, and the metric math of a summary.
 */
import { addDays } from "./reports";

export const DAY_MS = 86_400_000;

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** True for a real calendar date written YYYY-MM-DD. */
export function isDay(value: string): boolean {
	const m = DAY.exec(value);
	if (!m) return false;
	const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
	return dayOf(ms) === value;
}

/** The UTC day (YYYY-MM-DD) of a millisecond timestamp. */
export function dayOf(ms: number): string {
	return new Date(ms).toISOString().slice(0, 10);
}

/** Milliseconds at 00:00 UTC of a day. */
export function dayStartMs(day: string): number {
	return Date.parse(`${day}T00:00:00Z`);
}

/** Whole days from `a` to `b` (negative when b is before a). */
export function daysBetween(a: string, b: string): number {
	return Math.round((dayStartMs(b) - dayStartMs(a)) / DAY_MS);
}

/** The Monday of the ISO week holding `day`. */
export function weekStart(day: string): string {
	const weekday = new Date(dayStartMs(day)).getUTCDay(); // 0 = Sunday
	return addDays(day, -((weekday + 6) % 7));
}

/** ISO 8601 week key, "2026-W48": the week belongs to the year of its Thursday. */
export function isoWeekKey(day: string): string {
	const thursday = addDays(weekStart(day), 3);
	const year = thursday.slice(0, 4);
	const week = Math.floor(daysBetween(`${year}-01-01`, thursday) / 7) + 1;
	return `${year}-W${String(week).padStart(2, "0")}`;
}

/**
 * Upper bounds (exclusive, seconds) of the confirmation-time buckets; one more bucket holds
 * everything from the last bound up. Fixed forever: stored histograms are arrays of counts in
 * this order, so changing a bound means rebuilding the rollups.
 */
export const CONFIRMATION_BUCKETS = [
	1, 2, 3, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600, 900, 1800, 3600, 7200, 21600, 86400,
] as const;

export const HISTOGRAM_SIZE = CONFIRMATION_BUCKETS.length + 1;

/** The bucket of a confirmation time; a negative time (clock skew) counts as instant. */
export function bucketIndex(seconds: number): number {
	for (let i = 0; i < CONFIRMATION_BUCKETS.length; i++) {
		if (seconds < (CONFIRMATION_BUCKETS[i] as number)) return i;
	}
	return CONFIRMATION_BUCKETS.length;
}

export function emptyHistogram(): number[] {
	return new Array<number>(HISTOGRAM_SIZE).fill(0);
}

export function histogramOf(seconds: number[]): number[] {
	const h = emptyHistogram();
	for (const s of seconds) h[bucketIndex(s)] = (h[bucketIndex(s)] as number) + 1;
	return h;
}

/** Reads a stored histogram; anything that is not an array of HISTOGRAM_SIZE counts is an error. */
export function parseHistogram(text: string): number[] {
	const value: unknown = JSON.parse(text);
	if (
		!Array.isArray(value) ||
		value.length !== HISTOGRAM_SIZE ||
		!value.every((n) => Number.isSafeInteger(n) && n >= 0)
	) {
		throw new Error(`not a confirmation histogram: ${text.slice(0, 80)}`);
	}
	return value as number[];
}

/** Adds `b` into `a` bucket by bucket (exact: merging days equals bucketing their union). */
export function mergeInto(a: number[], b: readonly number[]): number[] {
	for (let i = 0; i < HISTOGRAM_SIZE; i++) a[i] = (a[i] as number) + (b[i] ?? 0);
	return a;
}

/**
 * The median read from a histogram: linear within the bucket that holds the middle, to 0.1 s;
 * the open last bucket answers its lower bound. Null for an empty histogram.
 */
export function histogramMedian(h: readonly number[]): number | null {
	const total = h.reduce((s, n) => s + n, 0);
	if (total === 0) return null;
	const half = total / 2;
	let before = 0;
	for (let i = 0; i < HISTOGRAM_SIZE; i++) {
		const count = h[i] as number;
		if (count > 0 && before + count >= half) {
			const lo = i === 0 ? 0 : (CONFIRMATION_BUCKETS[i - 1] as number);
			if (i === CONFIRMATION_BUCKETS.length) return lo;
			const hi = CONFIRMATION_BUCKETS[i] as number;
			return Math.round((lo + ((hi - lo) * (half - before)) / count) * 10) / 10;
		}
		before += count;
	}
	return null;
}

/** n / d to 4 decimals; null for 0/0. */
export function ratio4(n: number, d: number): number | null {
	if (d === 0) return null;
	return Math.round((n / d) * 10_000) / 10_000;
}

/** One (merchant, mode, UTC day) whose rollup rows are rebuilt. */
export interface DayKey {
	merchantId: string;
	livemode: boolean;
	day: string;
}

/** A key as the event-log scan reports it, with the first and last event position naming it. */
export interface ChangedDay extends DayKey {
	firstSeq: number;
	lastSeq: number;
}

/**
 * The days to rebuild this run, at most `cap`, and how far the watermark may then advance. The
 * days are taken in the order the log first names them; when some are left for the next run,
 * the watermark stops just before the first event of the first day left, so every event below
 * it belongs to a day rebuilt now. `pageEnd` is the last position read (null: nothing read).
 */
export function planRebuild(
	changed: ChangedDay[],
	pageEnd: number | null,
	watermark: number,
	cap: number,
): { keys: DayKey[]; watermark: number } {
	const ordered = [...changed].sort((a, b) => a.firstSeq - b.firstSeq);
	const taken = ordered.slice(0, cap);
	const left = ordered[cap];
	const next = left ? left.firstSeq - 1 : (pageEnd ?? watermark);
	return {
		keys: taken.map(({ merchantId, livemode, day }) => ({ merchantId, livemode, day })),
		watermark: Math.max(watermark, next),
	};
}

export type AnalyticsGroupBy = "day" | "week" | "month" | "method" | "currency" | "token";
export const ANALYTICS_GROUP_BY = ["day", "week", "month", "method", "currency", "token"] as const;

/** Amounts per ISO currency (lowercase) in minor units; never summed across currencies. */
export type MoneyByCurrency = Record<string, number>;

export interface AnalyticsMetrics {
	payments: number;
	succeeded: number;
	failed: number;
	success_rate: number | null;
	volume: MoneyByCurrency;
	average_ticket: MoneyByCurrency;
	fees: MoneyByCurrency;
	refunds: number;
	refunded: MoneyByCurrency;
	refund_rate: number | null;
	conversion_spread: MoneyByCurrency;
	net_settled: MoneyByCurrency;
	median_confirmation_seconds: number | null;
	customers: { new: number; returning: number };
}

interface Dimensions {
	day: string;
	method: string;
	currency: string;
	token: string;
	status: string;
}

/** Rows of the rollup tables as the summary reads them. */
export interface PaymentRollup extends Dimensions {
	payments: number;
	amount: number;
	fees: number;
	net: number;
	refunded_payments: number;
	confirm_hist: number[];
}
export interface RefundRollup extends Dimensions {
	refunds: number;
	amount: number;
}
export interface ConversionRollup extends Dimensions {
	conversions: number;
	spread: number;
	settled: number;
}

const FAILED = new Set(["failed", "expired", "canceled"]);

/** The group a row falls in; null when the grouping does not apply to it (no token: a card). */
export function groupKeyOf(row: Dimensions, groupBy: AnalyticsGroupBy): string | null {
	switch (groupBy) {
		case "day":
			return row.day;
		case "week":
			return isoWeekKey(row.day);
		case "month":
			return row.day.slice(0, 7);
		case "method":
			return row.method;
		case "currency":
			return row.currency;
		case "token":
			return row.token === "" ? null : row.token;
	}
}

/** Every period key of a window, in order, so a chart has a point for a day without payments. */
export function periodKeys(from: string, to: string, groupBy: "day" | "week" | "month"): string[] {
	const keys: string[] = [];
	for (let d = from; d <= to; d = addDays(d, 1)) {
		const key = groupKeyOf({ day: d, method: "", currency: "", token: "", status: "" }, groupBy);
		if (key !== null && keys[keys.length - 1] !== key) keys.push(key);
	}
	return keys;
}

function add(into: MoneyByCurrency, currency: string, amount: number): void {
	into[currency] = (into[currency] ?? 0) + amount;
}

function sorted(m: MoneyByCurrency): MoneyByCurrency {
	return Object.fromEntries(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * The metrics of a set of rollup rows (all of one group). Customers are counted apart (distinct
 * customers do not add up across days) and come in as they are.
 */
export function metricsOf(
	rows: { payments: PaymentRollup[]; refunds: RefundRollup[]; conversions: ConversionRollup[] },
	customers: { new: number; returning: number },
): AnalyticsMetrics {
	let payments = 0;
	let succeeded = 0;
	let failed = 0;
	let refundedPayments = 0;
	let refunds = 0;
	const volume: MoneyByCurrency = {};
	const succeededBy: MoneyByCurrency = {};
	const fees: MoneyByCurrency = {};
	const refunded: MoneyByCurrency = {};
	const spread: MoneyByCurrency = {};
	const net: MoneyByCurrency = {};
	const hist = emptyHistogram();
	for (const r of rows.payments) {
		payments += r.payments;
		if (FAILED.has(r.status)) failed += r.payments;
		if (r.fees !== 0) add(fees, r.currency, r.fees);
		if (r.status !== "succeeded") continue;
		succeeded += r.payments;
		refundedPayments += r.refunded_payments;
		add(volume, r.currency, r.amount);
		add(succeededBy, r.currency, r.payments);
		if (r.net !== 0 || r.method === "card") add(net, r.currency, r.net);
		mergeInto(hist, r.confirm_hist);
	}
	for (const r of rows.refunds) {
		if (r.status !== "succeeded") continue;
		refunds += r.refunds;
		add(refunded, r.currency, r.amount);
		add(net, r.currency, -r.amount);
	}
	for (const r of rows.conversions) {
		if (r.status !== "completed") continue;
		add(spread, r.currency, r.spread);
		add(net, r.currency, r.settled);
	}
	const averageTicket: MoneyByCurrency = {};
	for (const [currency, total] of Object.entries(volume)) {
		averageTicket[currency] = Math.round(total / (succeededBy[currency] as number));
	}
	return {
		payments,
		succeeded,
		failed,
		success_rate: ratio4(succeeded, succeeded + failed),
		volume: sorted(volume),
		average_ticket: sorted(averageTicket),
		fees: sorted(fees),
		refunds,
		refunded: sorted(refunded),
		refund_rate: ratio4(refundedPayments, succeeded),
		conversion_spread: sorted(spread),
		net_settled: sorted(net),
		median_confirmation_seconds: histogramMedian(hist),
		customers,
	};
}

/**
 * Splits rollup rows into groups and computes each group's metrics; period groupings list every
 * period of the window. Groups come sorted by key.
 */
export function groupMetrics(
	rows: { payments: PaymentRollup[]; refunds: RefundRollup[]; conversions: ConversionRollup[] },
	groupBy: AnalyticsGroupBy,
	window: { from: string; to: string },
	customers: Map<string, { new: number; returning: number }>,
): ({ key: string } & AnalyticsMetrics)[] {
	type Rows = typeof rows;
	const groups = new Map<string, Rows>();
	const bucket = (key: string): Rows => {
		let g = groups.get(key);
		if (!g) {
			g = { payments: [], refunds: [], conversions: [] };
			groups.set(key, g);
		}
		return g;
	};
	if (groupBy === "day" || groupBy === "week" || groupBy === "month") {
		for (const key of periodKeys(window.from, window.to, groupBy)) bucket(key);
	}
	for (const kind of ["payments", "refunds", "conversions"] as const) {
		for (const row of rows[kind]) {
			const key = groupKeyOf(row, groupBy);
			if (key !== null) (bucket(key)[kind] as Dimensions[]).push(row);
		}
	}
	for (const key of customers.keys()) bucket(key);
	return [...groups.keys()].sort().map((key) => ({
		key,
		...metricsOf(groups.get(key) as Rows, customers.get(key) ?? { new: 0, returning: 0 }),
	}));
}
