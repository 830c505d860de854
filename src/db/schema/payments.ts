import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { PAYMENT_STATUSES } from "../../domain/payment-state";
import { created, livemode } from "./columns";

/**
 * The D1 projection of payments, written only by the PaymentObject's outbox. `version` makes the
 * upsert idempotent and ordered: an older snapshot never overwrites a newer one.
 */
export const payments = sqliteTable(
	"payments",
	{
		id: text("id").primaryKey(),
		merchantId: text("merchant_id").notNull(),
		...livemode,
		status: text("status", { enum: PAYMENT_STATUSES }).notNull(),
		amount: integer("amount").notNull(),
		currency: text("currency").notNull(),
		amountReceived: integer("amount_received").notNull(),
		amountRefunded: integer("amount_refunded").notNull(),
		version: integer("version").notNull(),
		expiresAt: integer("expires_at").notNull(),
		...created,
		updated: integer("updated").notNull(),
		/** The paying customer (`cus_…`), when the merchant named one. */
		customerId: text("customer_id"),
		/** The full API object as last projected, so lists need no Durable Object round trip. */
		data: text("data").notNull(),
	},
	(t) => [
		index("payments_merchant_created_idx").on(t.merchantId, t.livemode, t.id),
		index("payments_merchant_status_idx").on(t.merchantId, t.livemode, t.status, t.id),
		index("payments_merchant_customer_idx").on(t.merchantId, t.livemode, t.customerId, t.id),
		// Dashboard filters and search (migration 0017); the expressions match
		// src/dashboard/payments-query.ts exactly, or SQLite cannot use them.
		index("payments_dashboard_method_idx").on(
			t.merchantId,
			t.livemode,
			sql`(CASE WHEN json_extract(${t.data}, '$.solana.signature') IS NOT NULL THEN 'solana' WHEN json_extract(${t.data}, '$.card.charge') IS NOT NULL THEN 'card' END)`,
			t.id,
		),
		index("payments_dashboard_amount_idx").on(t.merchantId, t.livemode, t.amount, t.id),
		index("payments_dashboard_reference_idx").on(
			t.merchantId,
			t.livemode,
			sql`(json_extract(${t.data}, '$.metadata.reference'))`,
			t.id,
		),
		index("payments_dashboard_order_idx").on(
			t.merchantId,
			t.livemode,
			sql`(json_extract(${t.data}, '$.metadata.order_id'))`,
			t.id,
		),
	],
);
