import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { created, livemode } from "./columns";

/** A balanced set of postings. The id is the transfer's idempotency key. */
export const ledgerTransfers = sqliteTable(
	"ledger_transfers",
	{
		id: text("id").primaryKey(),
		kind: text("kind").notNull(),
		reference: text("reference").notNull(),
		...livemode,
		/** SHA-256 of the transfer's content: a replayed id with other content is detected. */
		fingerprint: text("fingerprint").notNull(),
		...created,
	},
	(t) => [index("ledger_transfers_reference_idx").on(t.reference)],
);

/**
 * Immutable postings; `amount` is a signed 64-bit integer of the currency's minor or base units.
 * Written from decimal strings and read back with CAST(... AS TEXT) so no value passes through a
 * JavaScript number. Triggers (migration 0001) keep `ledger_balances` and forbid edits.
 */
export const ledgerPostings = sqliteTable(
	"ledger_postings",
	{
		transferId: text("transfer_id")
			.notNull()
			.references(() => ledgerTransfers.id),
		seq: integer("seq").notNull(),
		account: text("account").notNull(),
		currency: text("currency").notNull(),
		amount: integer("amount").notNull(),
		...created,
	},
	(t) => [
		primaryKey({ columns: [t.transferId, t.seq] }),
		index("ledger_postings_account_idx").on(t.account),
		// Settlement reports read one account's postings over a period.
		index("ledger_postings_account_created_idx").on(t.account, t.created),
	],
);

/** Running balance per account, maintained by an AFTER INSERT trigger on ledger_postings. */
export const ledgerBalances = sqliteTable("ledger_balances", {
	account: text("account").primaryKey(),
	currency: text("currency").notNull(),
	balance: integer("balance").notNull(),
	updated: integer("updated").notNull(),
});
