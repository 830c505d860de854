import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import type { PaymentMethodType } from "../../domain/payment-method";
import { created, livemode } from "./columns";
import { merchants } from "./merchants";

/**
 * Reusable payment requests: every visit to a link's URL creates a fresh payment from these
 * fields. Written only by the payment links API; read on every visit by id (the primary key).
 */
export const paymentLinks = sqliteTable(
	"payment_links",
	{
		id: text("id").primaryKey(),
		merchantId: text("merchant_id")
			.notNull()
			.references(() => merchants.id),
		...livemode,
		active: integer("active", { mode: "boolean" }).notNull(),
		amount: integer("amount").notNull(),
		currency: text("currency").notNull(),
		paymentMethodTypes: text("payment_method_types", { mode: "json" })
			.$type<PaymentMethodType[]>()
			.notNull(),
		description: text("description"),
		metadata: text("metadata", { mode: "json" }).$type<Record<string, string>>().notNull(),
		successUrl: text("success_url"),
		cancelUrl: text("cancel_url"),
		/** Lifetime in seconds of each payment created from the link; null: the payment default. */
		expiresIn: integer("expires_in"),
		/** The token each payment is quoted in (`solana.token`); null: the payer picks at checkout. */
		solanaToken: text("solana_token"),
		...created,
		updated: integer("updated").notNull(),
	},
	(t) => [index("payment_links_merchant_idx").on(t.merchantId, t.livemode, t.id)],
);
