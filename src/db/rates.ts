// The `rates` cache: the latest rate of every pair from every source (src/services/rates.ts).

/** A `rates` row as D1 returns it. */
export interface RateRow {
	pair: string;
	source: string;
	base: string;
	quote: string;
	rate_numerator: string;
	rate_denominator: string;
	publish_time: number;
	fetched_at: number;
}

/** A rate as written: the provider's decimal, unreduced. */
export interface StoredRate {
	pair: string;
	source: string;
	base: string;
	quote: string;
	numerator: string;
	denominator: string;
	publishTime: number;
	fetchedAt: number;
}

/** Upserts rates, never replacing a newer publication with an older one. */
function upsertStatement(db: D1Database, r: StoredRate): D1PreparedStatement {
	return db
		.prepare(
			`INSERT INTO rates (pair, source, base, quote, rate_numerator, rate_denominator, publish_time, fetched_at)
			 VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			 ON CONFLICT (pair, source) DO UPDATE SET base = excluded.base, quote = excluded.quote,
			   rate_numerator = excluded.rate_numerator, rate_denominator = excluded.rate_denominator,
			   publish_time = excluded.publish_time, fetched_at = excluded.fetched_at
			 WHERE excluded.publish_time >= rates.publish_time`,
		)
		.bind(
			r.pair,
			r.source,
			r.base,
			r.quote,
			r.numerator,
			r.denominator,
			r.publishTime,
			r.fetchedAt,
		);
}

/** Upserts rates in one batch (nothing for none). */
export async function upsertRates(db: D1Database, rates: StoredRate[]): Promise<void> {
	if (rates.length > 0) await db.batch(rates.map((r) => upsertStatement(db, r)));
}

/** Every cached rate of the given pairs, from every source. */
export async function ratesOfPairs(db: D1Database, pairs: string[]): Promise<RateRow[]> {
	const { results } = await db
		.prepare(
			`SELECT pair, source, base, quote, rate_numerator, rate_denominator, publish_time, fetched_at
		 FROM rates WHERE pair IN (${pairs.map(() => "?").join(", ")})`,
		)
		.bind(...pairs)
		.all<RateRow>();
	return results;
}

/** The cached rates, optionally of one base ("SOL", "USD"): a primary-key range, bounded. */
export async function cachedRateRows(db: D1Database, base?: string): Promise<RateRow[]> {
	const stmt = base
		? db
				.prepare("SELECT * FROM rates WHERE pair >= ? AND pair < ? ORDER BY pair, source LIMIT 500")
				// '0' is the character after '/', so [BASE/, BASE0) is exactly the pairs of BASE.
				.bind(`${base.toUpperCase()}/`, `${base.toUpperCase()}0`)
		: db.prepare("SELECT * FROM rates ORDER BY pair, source LIMIT 500");
	const { results } = await stmt.all<RateRow>();
	return results;
}
