/**
 * The analytics summary: metrics of a merchant's window of days, read only from the rollup
 * tables (src/services/rollups.ts), so its cost is the window's size, never the history's.
 */

import { readAnalyticsWindow } from "../db/analytics";
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

type CustomerCounts = { new: number; returning: number };

export async function getAnalyticsSummary(env: Env, q: AnalyticsQuery): Promise<AnalyticsSummary> {
	const { payments, refunds, conversions, totalCustomers, payoutRows, groupCustomers } =
		await readAnalyticsWindow(env.DB, q);
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
