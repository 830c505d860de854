import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { REFUND_STATUSES } from "../../domain/refund";
import { created, livemode } from "./columns";

/**
 * Refunds as the API lists them: a projection of each payment's Durable Object (the source of
 * truth, which also enforces the refund cap), written through its outbox, newest version wins.
 */
export const refunds = sqliteTable(
	"refunds",
	{
		id: text("id").primaryKey(),
		merchantId: text("merchant_id").notNull(),
		...livemode,
		paymentId: text("payment_id").notNull(),
		status: text("status", { enum: REFUND_STATUSES }).notNull(),
		/** Minor units of `currency`; null for held crypto funds, which have no price. */
		amount: integer("amount"),
		currency: text("currency").notNull(),
		version: integer("version").notNull(),
		...created,
		updated: integer("updated").notNull(),
		/** The refund's API object at `version`, JSON. */
		data: text("data").notNull(),
	},
	(t) => [
		index("refunds_merchant_idx").on(t.merchantId, t.livemode, t.id),
		index("refunds_payment_idx").on(t.paymentId, t.id),
	],
);
