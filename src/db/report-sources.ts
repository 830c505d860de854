// The four tables a transactions report reads (payments, refunds, conversions, payouts), each by
// its (merchant, mode, id) index with ids bounded by the period (ids sort by creation time).
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
