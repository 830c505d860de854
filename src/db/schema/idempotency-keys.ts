import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { created, livemode } from "./columns";

/**
 * Stripe-style idempotency: the first completed response for a key is replayed for 24 hours.
 * `lockedUntil` marks a request in flight; a crashed request's lock lapses so the key is usable.
 */
export const idempotencyKeys = sqliteTable(
	"idempotency_keys",
	{
		merchantId: text("merchant_id").notNull(),
		...livemode,
		key: text("key").notNull(),
		requestHash: text("request_hash").notNull(),
		lockedUntil: integer("locked_until"),
		responseStatus: integer("response_status"),
		responseBody: text("response_body"),
		...created,
		expiresAt: integer("expires_at").notNull(),
	},
	(t) => [
		primaryKey({ columns: [t.merchantId, t.livemode, t.key] }),
		index("idempotency_keys_expires_idx").on(t.expiresAt),
	],
);
