import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { created, livemode } from "./columns";
import { merchants } from "./merchants";

/** API keys are stored only as a SHA-256 hash; `prefix` and `last4` identify them for display. */
export const apiKeys = sqliteTable(
	"api_keys",
	{
		id: text("id").primaryKey(),
		merchantId: text("merchant_id")
			.notNull()
			.references(() => merchants.id),
		type: text("type", { enum: ["secret", "publishable"] }).notNull(),
		...livemode,
		prefix: text("prefix").notNull(),
		last4: text("last4").notNull(),
		hash: text("hash").notNull(),
		...created,
		expiresAt: integer("expires_at"),
		revokedAt: integer("revoked_at"),
		rolledTo: text("rolled_to"),
		lastUsedAt: integer("last_used_at"),
	},
	(t) => [
		uniqueIndex("api_keys_hash_idx").on(t.hash),
		index("api_keys_merchant_idx").on(t.merchantId),
	],
);
