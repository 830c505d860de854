import { lowestIdAt } from "../domain/ids";
import type { AnalyticsGroupBy } from "../domain/rollups";

// The analytics summary's reads: the rollup tables of a window of days and the window's payouts,
// in one batch (src/services/analytics.ts shapes them).

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

/**
 * The window's rollup rows (payments, refunds, conversions), its new and returning customers in
 * total and per group, and its payouts by currency and status. One batch: every part reads the
 * same snapshot, so totals and groups agree.
 */
export async function readAnalyticsWindow(
	db: D1Database,
	q: {
		merchantId: string;
		livemode: boolean;
		from: string;
		to: string;
		groupBy: AnalyticsGroupBy | null;
	},
): Promise<{
	payments: D1Result | undefined;
	refunds: D1Result | undefined;
	conversions: D1Result | undefined;
	totalCustomers: D1Result | undefined;
	payoutRows: D1Result | undefined;
	groupCustomers: D1Result | undefined;
}> {
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
	return { payments, refunds, conversions, totalCustomers, payoutRows, groupCustomers };
}
