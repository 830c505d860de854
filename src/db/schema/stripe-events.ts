import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * Stripe webhook events seen, by Stripe's event id: a redelivered event is acknowledged without
 * acting twice. `processed` stays null until the event was applied, so a failed attempt is
 * retried when Stripe delivers again.
 */
export const stripeEvents = sqliteTable(
	"stripe_events",
	{
		id: text("id").primaryKey(),
		type: text("type").notNull(),
		paymentId: text("payment_id"),
		received: integer("received").notNull(),
		processed: integer("processed"),
	},
	(t) => [index("stripe_events_received_idx").on(t.received)],
);
