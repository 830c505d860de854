import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { created, livemode } from "./columns";

/**
 * Money a pending refund will debit from a merchant's available balance, set aside before the
 * refund's money moves so no payout (or other refund) can take it meanwhile. One per refund (the
 * id is the refund's). A hold counts until its refund's ledger transfer (`transfer_id`) is
 * posted, which then carries the debit itself, or until the refund fails or is canceled; see
 * src/db/balance-holds.ts.
 */
export const balanceHolds = sqliteTable(
	"balance_holds",
	{
		id: text("id").primaryKey(),
		merchantId: text("merchant_id").notNull(),
		...livemode,
		/** The ledger account held from (a merchant's `available` account). */
		account: text("account").notNull(),
		currency: text("currency").notNull(),
		/** Minor or base units of `currency`, a decimal string. */
		amount: text("amount").notNull(),
		/** The ledger transfer whose posting consumes the hold. */
		transferId: text("transfer_id").notNull(),
		...created,
		/** Unix seconds when the hold stopped counting for a reason the ledger does not show. */
		released: integer("released"),
	},
	(t) => [index("balance_holds_account_idx").on(t.account)],
);
