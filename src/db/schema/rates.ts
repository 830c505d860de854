import { integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * The rates cache: the latest rate of each pair from each source, refreshed by the minute cron
 * and read by quoting and conversions. A rate is `quote` units per one `base` unit, exactly
 * rate_numerator / rate_denominator (decimal integer text, as the provider published it; never a
 * float). Its age is counted from `publish_time`, the provider's own time, not from when it was
 * fetched.
 */
export const rates = sqliteTable(
	"rates",
	{
		/** "SOL/USD", "USD/EUR": base/quote, uppercase symbols. */
		pair: text("pair").notNull(),
		/** "pyth" or "fx_reference". */
		source: text("source").notNull(),
		base: text("base").notNull(),
		quote: text("quote").notNull(),
		rateNumerator: text("rate_numerator").notNull(),
		rateDenominator: text("rate_denominator").notNull(),
		/** Unix seconds: when the provider published the rate. */
		publishTime: integer("publish_time").notNull(),
		/** Unix seconds: when the gateway fetched it. */
		fetchedAt: integer("fetched_at").notNull(),
	},
	(t) => [primaryKey({ columns: [t.pair, t.source] })],
);
