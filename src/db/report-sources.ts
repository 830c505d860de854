// The tables reports read: a transactions report reads payments, refunds, conversions and
// payouts of one merchant by its (merchant, mode, id) index, ids bounded by the period (ids sort
// by creation time); the operator's summary sums them across merchants.
import type { IdKind } from "../domain/ids";
import type { Owner } from "../domain/owner";

export const SOURCES = [
	{ table: "payments", kind: "payment", columns: "id, data" },
	{ table: "refunds", kind: "refund", columns: "id, data" },
	{ table: "conversions", kind: "conversion", columns: "*" },
	{ table: "payouts", kind: "payout", columns: "*" },
] as const;

export type Source = (typeof SOURCES)[number];

/** The owner's rows of every source with ids in `range(kind)` (half-open), summed; one batch. */
export async function countInIdRanges(
	db: D1Database,
	owner: Owner,
	range: (kind: Source["kind"] & IdKind) => [string, string],
): Promise<number> {
	const results = await db.batch(
		SOURCES.map((s) => {
			const [low, high] = range(s.kind);
			return db
				.prepare(
					`SELECT COUNT(*) AS n FROM ${s.table} WHERE merchant_id = ? AND livemode = ? AND id >= ? AND id < ?`,
				)
				.bind(owner.merchantId, owner.livemode ? 1 : 0, low, high);
		}),
	);
	return results.reduce((sum, r) => sum + ((r.results[0] as { n: number } | undefined)?.n ?? 0), 0);
}

/** Up to `limit` of the owner's rows of one source after `after` (or from it) and below `high`, by id. */
export async function sourcePage(
	db: D1Database,
	source: Source,
	owner: Owner,
	bounds: { after: string; inclusive: boolean; high: string },
	limit: number,
): Promise<(Record<string, unknown> & { id: string })[]> {
	const { results } = await db
		.prepare(
			`SELECT ${source.columns} FROM ${source.table}
				 WHERE merchant_id = ? AND livemode = ? AND id ${bounds.inclusive ? ">=" : ">"} ? AND id < ?
				 ORDER BY id LIMIT ?`,
		)
		.bind(owner.merchantId, owner.livemode ? 1 : 0, bounds.after, bounds.high, limit)
		.all<Record<string, unknown> & { id: string }>();
	return results;
}

type SummaryBase = { merchant_id: string; livemode: number; currency: string };

/**
 * The operator's summary sums across merchants, per merchant, mode and currency, in one batch:
 * payments created in their id range (and those succeeded, with their volume), succeeded refunds
 * and completed conversions' spread in theirs, and the gateway's fees posted in [start, end).
 */
export async function operatorSums(
	db: D1Database,
	ranges: Record<"payment" | "refund" | "conversion", string[]>,
	start: number,
	end: number,
): Promise<{
	payments: (SummaryBase & { payments: number; succeeded: number; volume: string })[];
	refunds: (SummaryBase & { refunds: number; refunded: string })[];
	conversions: (SummaryBase & { spread: string })[];
	fees: (SummaryBase & { fees: string })[];
}> {
	const [payments, refunds, conversions, fees] = await db.batch([
		db
			.prepare(
				`SELECT merchant_id, livemode, currency, COUNT(*) AS payments,
			   SUM(status = 'succeeded') AS succeeded,
			   CAST(SUM(CASE WHEN status = 'succeeded' THEN amount ELSE 0 END) AS TEXT) AS volume
			 FROM payments WHERE id >= ? AND id < ? GROUP BY merchant_id, livemode, currency`,
			)
			.bind(...ranges.payment),
		db
			.prepare(
				`SELECT merchant_id, livemode, currency, COUNT(*) AS refunds,
			   CAST(SUM(COALESCE(amount, 0)) AS TEXT) AS refunded
			 FROM refunds WHERE id >= ? AND id < ? AND status = 'succeeded'
			 GROUP BY merchant_id, livemode, currency`,
			)
			.bind(...ranges.refund),
		db
			.prepare(
				`SELECT merchant_id, livemode, to_currency AS currency,
			   CAST(SUM(CAST(fee AS INTEGER)) AS TEXT) AS spread
			 FROM conversions WHERE id >= ? AND id < ? AND status = 'completed'
			 GROUP BY merchant_id, livemode, to_currency`,
			)
			.bind(...ranges.conversion),
		// Fee postings name no merchant: their transfer's reference is the payment, which does.
		db
			.prepare(
				`SELECT pay.merchant_id AS merchant_id, t.livemode AS livemode, g.currency AS currency,
			   CAST(SUM(g.amount) AS TEXT) AS fees
			 FROM ledger_postings g
			 JOIN ledger_transfers t ON t.id = g.transfer_id
			 JOIN payments pay ON pay.id = t.reference
			 WHERE ((g.account >= 'live:gateway:fees:' AND g.account < 'live:gateway:fees;')
			     OR (g.account >= 'test:gateway:fees:' AND g.account < 'test:gateway:fees;'))
			   AND g.created >= ? AND g.created < ? AND t.kind <> 'conversion'
			 GROUP BY pay.merchant_id, t.livemode, g.currency`,
			)
			.bind(start, end),
	]);
	return {
		payments: (payments?.results ?? []) as (SummaryBase & {
			payments: number;
			succeeded: number;
			volume: string;
		})[],
		refunds: (refunds?.results ?? []) as (SummaryBase & { refunds: number; refunded: string })[],
		conversions: (conversions?.results ?? []) as (SummaryBase & { spread: string })[],
		fees: (fees?.results ?? []) as (SummaryBase & { fees: string })[],
	};
}
