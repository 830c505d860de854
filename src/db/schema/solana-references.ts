import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { created, livemode } from "./columns";

/**
 * Every reference key a payment was ever quoted with, kept forever: the settlement watchers find
 * a payment from any of them, so money sent to an earlier quote is still that payment's.
 */
export const solanaReferences = sqliteTable("solana_references", {
	reference: text("reference").primaryKey(),
	paymentId: text("payment_id").notNull(),
	...created,
});

/**
 * Funds that reached a settlement account and belong to no payment (no known reference, or a
 * token the referenced payment was not quoted in): held in the ledger for the sender until the
 * operator refunds them.
 */
export const unattributedFunds = sqliteTable(
	"unattributed_funds",
	{
		/** `{signature}:{currency}`: one row per inflow, however often the watcher sees it. */
		id: text("id").primaryKey(),
		signature: text("signature").notNull(),
		currency: text("currency").notNull(),
		/** The settlement account that received the funds. */
		account: text("account").notNull(),
		/** Base units, decimal string. */
		amount: text("amount").notNull(),
		/** The wallet whose balance went down: where a refund goes. */
		sender: text("sender").notNull(),
		slot: integer("slot").notNull(),
		/** Why no payment took it: no_reference, unknown_payment, wrong_mint. */
		reason: text("reason").notNull(),
		/** The payment the transaction named, when one did. */
		paymentId: text("payment_id"),
		status: text("status", { enum: ["held", "refund_pending", "refunded"] }).notNull(),
		refundSignature: text("refund_signature"),
		...livemode,
		...created,
	},
	(t) => [
		index("unattributed_funds_status_idx").on(t.status, t.created),
		index("unattributed_funds_payment_idx").on(t.paymentId),
	],
);
