import { integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { created, livemode } from "./columns";

/**
 * What the daily payout run did for one merchant, mode and currency on one UTC day: the payout it
 * created, or why it created none. The primary key makes the run idempotent: the row of a created
 * payout is written in the same D1 batch as the payout's reservation, so a redelivered page can
 * never create a second payout for that day.
 */
export const payoutScheduleRuns = sqliteTable(
	"payout_schedule_runs",
	{
		merchantId: text("merchant_id").notNull(),
		...livemode,
		currency: text("currency").notNull(),
		/** The UTC day of the run, YYYY-MM-DD. */
		date: text("date").notNull(),
		/** created | skipped | failed */
		outcome: text("outcome").notNull(),
		payoutId: text("payout_id"),
		/** Why none was created: no_destination, below_minimum, or the payout's error code. */
		reason: text("reason"),
		/**
		 * Of a created payout: the `ledger_postings` rowid (insertion order, so also of transfers that
		 * land late) of the newest posting it itemised. Items are taken oldest first, so the next
		 * run's unitemised postings are all after it: a run reads only what came since.
		 */
		itemsThrough: integer("items_through"),
		...created,
	},
	(t) => [primaryKey({ columns: [t.merchantId, t.livemode, t.currency, t.date] })],
);
