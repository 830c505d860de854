import { integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * The treasury check of each settlement account (the minute cron): the chain's balance and the
 * ledger's, read so that both describe the same moment, and their sum, zero when they agree.
 * Amounts are base units as decimal text. The primary key serves the latest check per currency
 * (one seek) and the 30-day retention (a range per currency).
 */
export const treasuryChecks = sqliteTable(
	"treasury_checks",
	{
		/** The ledger's name for the token: its mint, or "sol". */
		currency: text("currency").notNull(),
		/** The settlement account checked: the wallet for SOL, its associated token account. */
		address: text("address").notNull(),
		/** The wallet's SOL, or the sum of every token account it owns for the mint. */
		chainBalance: text("chain_balance").notNull(),
		/** Both modes' settlement accounts of the currency (negative: funds the ledger says arrived). */
		ledgerBalance: text("ledger_balance").notNull(),
		/** chain_balance + ledger_balance. */
		difference: text("difference").notNull(),
		/** False when the watcher was still booking: the difference then proves nothing. */
		caughtUp: integer("caught_up", { mode: "boolean" }).notNull(),
		/** The slot of the chain read. */
		slot: integer("slot").notNull(),
		/** Unix seconds. */
		checkedAt: integer("checked_at").notNull(),
	},
	(t) => [primaryKey({ columns: [t.currency, t.checkedAt] })],
);
