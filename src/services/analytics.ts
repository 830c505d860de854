/**
 * The analytics summary: metrics of a merchant's window of days, read only from the rollup
 * tables (src/services/rollups.ts), so its cost is the window's size, never the history's.
 */

import { lowestIdAt } from "../domain/ids";
import {
	type AnalyticsGroupBy,
	type AnalyticsMetrics,
	type ConversionRollup,
	groupMetrics,
	isoWeekKey,
	metricsOf,
	type PaymentRollup,
	parseHistogram,
	type RefundRollup,
} from "../domain/rollups";
import type { Env } from "../env";

export type { AnalyticsGroupBy, AnalyticsMetrics, MoneyByCurrency } from "../domain/rollups";

export interface AnalyticsSummary {
	object: "analytics_summary";
	livemode: boolean;
	from: string;
	to: string;
	group_by: AnalyticsGroupBy | null;
	totals: AnalyticsMetrics;
	groups: ({ key: string } & AnalyticsMetrics)[];
	payouts: PayoutTotals;
}

/** Amounts per ledger currency as decimal strings (token base units can pass 2^53). */
export type UnitsByCurrency = Record<string, string>;

/** Payouts created in the window, by where they are now. */
export interface PayoutTotals {
	count: number;
	automatic: number;
	paid: UnitsByCurrency;
	/** Pending or in transit: taken from the balance, not yet paid. */
	in_transit: UnitsByCurrency;
	/** Failed or canceled: given back to the balance. */
	returned: UnitsByCurrency;
	/** Network fees charged for them, by the fee's currency. */
	fees: UnitsByCurrency;
}

export interface AnalyticsQuery {
	merchantId: string;
	livemode: boolean;
	/** YYYY-MM-DD, UTC, inclusive; the route validates them (from <= to, at most 366 days). */
	from: string;
	to: string;
	groupBy: AnalyticsGroupBy | null;
}

const WINDOW = "merchant_id = ?1 AND livemode = ?2 AND day >= ?3 AND day <= ?4";

/**
 * New versus returning customers per group. A customer is new in a group when their first
 * succeeded payment ever falls inside the group's part of the window, returning when it came
 * before. Counted in SQL over distinct customers, so a customer paying on three days of a week
 * counts once in that week.
 */
function customersSql(groupBy: AnalyticsGroupBy | null): string {
	const [group, spanStart, filter] = (() => {
		switch (groupBy) {
			case null:
				return ["''", "?3", ""];
			case "day":
				return ["day", "day", ""];
			case "week": {
				const monday = `date(day, '-' || ((CAST(strftime('%w', day) AS INTEGER) + 6) % 7) || ' days')`;
				return [monday, `max(${monday}, ?3)`, ""];
			}
			case "month":
				return ["substr(day, 1, 7)", "max(substr(day, 1, 7) || '-01', ?3)", ""];
			case "method":
			case "currency":
				return [groupBy, "?3", ""];
			case "token":
				return ["token", "?3", "AND token != ''"];
		}
	})();
	return `SELECT g, SUM(CASE WHEN f.first_day >= c.s THEN 1 ELSE 0 END) AS new_customers,
	  SUM(CASE WHEN f.first_day < c.s THEN 1 ELSE 0 END) AS returning_customers
	FROM (SELECT DISTINCT ${group} AS g, ${spanStart} AS s, customer_id FROM rollup_customers_daily
	      WHERE ${WINDOW} ${filter}) c
	JOIN rollup_customer_firsts f
	  ON f.merchant_id = ?1 AND f.livemode = ?2 AND f.customer_id = c.customer_id
	GROUP BY g`;
}

type CustomerCounts = { new: number; returning: number };

export async function getAnalyticsSummary(env: Env, q: AnalyticsQuery): Promise<AnalyticsSummary> {
	const db = env.DB;
	const bind = [q.merchantId, q.livemode ? 1 : 0, q.from, q.to] as const;
	const statements = [
		db
			.prepare(
				`SELECT day, method, currency, token, status, payments, amount, fees, net, refunded_payments,
				   confirm_hist FROM rollup_payments_daily WHERE ${WINDOW}`,
			)
			.bind(...bind),
		db
			.prepare(
				`SELECT day, method, currency, token, status, refunds, amount FROM rollup_refunds_daily WHERE ${WINDOW}`,
			)
			.bind(...bind),
		db
			.prepare(
				`SELECT day, method, currency, token, status, conversions, spread, settled
				 FROM rollup_conversions_daily WHERE ${WINDOW}`,
			)
			.bind(...bind),
		db.prepare(customersSql(null)).bind(...bind),
	];
	// Payouts are few (at most a few a day): read from their table by (merchant, mode, id), whose
	// ids sort by creation, so the window is one index range and no rollup is needed.
	const windowIds = [
		lowestIdAt("payout", Date.parse(`${q.from}T00:00:00Z`)),
		lowestIdAt("payout", Date.parse(`${q.to}T00:00:00Z`) + 86_400_000),
	];
	statements.push(
		db
			.prepare(
				`SELECT currency, status, automatic, fee_currency, COUNT(*) AS n,
				   CAST(SUM(CAST(amount AS INTEGER)) AS TEXT) AS amount,
				   CAST(SUM(CAST(COALESCE(fee, '0') AS INTEGER)) AS TEXT) AS fee
				 FROM payouts WHERE merchant_id = ? AND livemode = ? AND id >= ? AND id < ?
				 GROUP BY currency, status, automatic, fee_currency`,
			)
			.bind(q.merchantId, q.livemode ? 1 : 0, ...windowIds),
	);
	if (q.groupBy) statements.push(db.prepare(customersSql(q.groupBy)).bind(...bind));
	// One batch: every part reads the same snapshot, so totals and groups agree.
	const [payments, refunds, conversions, totalCustomers, payoutRows, groupCustomers] =
		await db.batch(statements);
	const rows = {
		payments: (
			(payments?.results ?? []) as (Omit<PaymentRollup, "confirm_hist"> & {
				confirm_hist: string;
			})[]
		).map((r) => ({ ...r, confirm_hist: parseHistogram(r.confirm_hist) })),
		refunds: (refunds?.results ?? []) as RefundRollup[],
		conversions: (conversions?.results ?? []) as ConversionRollup[],
	};
	const customerRows = (res: D1Result | undefined) =>
		(res?.results ?? []) as { g: string; new_customers: number; returning_customers: number }[];
	const totals = customerRows(totalCustomers)[0];
	const byGroup = new Map<string, CustomerCounts>();
	for (const r of customerRows(groupCustomers)) {
		// The week's Monday (what SQL can compute) names its ISO week.
		const key = q.groupBy === "week" ? isoWeekKey(r.g) : r.g;
		byGroup.set(key, { new: r.new_customers, returning: r.returning_customers });
	}
	return {
		object: "analytics_summary",
		livemode: q.livemode,
		from: q.from,
		to: q.to,
		group_by: q.groupBy,
		totals: metricsOf(rows, {
			new: totals?.new_customers ?? 0,
			returning: totals?.returning_customers ?? 0,
		}),
		groups: q.groupBy ? groupMetrics(rows, q.groupBy, q, byGroup) : [],
		payouts: payoutTotals(
			(payoutRows?.results ?? []) as {
				currency: string;
				status: string;
				automatic: number;
				fee_currency: string | null;
				n: number;
				amount: string;
				fee: string;
			}[],
		),
	};
}

function payoutTotals(
	rows: {
		currency: string;
		status: string;
		automatic: number;
		fee_currency: string | null;
		n: number;
		amount: string;
		fee: string;
	}[],
): PayoutTotals {
	const out: PayoutTotals = {
		count: 0,
		automatic: 0,
		paid: {},
		in_transit: {},
		returned: {},
		fees: {},
	};
	const add = (into: UnitsByCurrency, currency: string, amount: bigint) => {
		if (amount !== 0n) into[currency] = (BigInt(into[currency] ?? "0") + amount).toString();
	};
	for (const r of rows) {
		out.count += r.n;
		if (r.automatic) out.automatic += r.n;
		const bucket =
			r.status === "paid"
				? out.paid
				: r.status === "failed" || r.status === "canceled"
					? out.returned
					: out.in_transit;
		add(bucket, r.currency, BigInt(r.amount));
		if (r.fee_currency) add(out.fees, r.fee_currency, BigInt(r.fee));
	}
	return out;
}
