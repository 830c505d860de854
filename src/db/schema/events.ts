import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { created, livemode } from "./columns";

/** The append-only event log. Ids are minted when the transition commits, so flushes are idempotent. */
export const events = sqliteTable(
	"events",
	{
		id: text("id").primaryKey(),
		merchantId: text("merchant_id").notNull(),
		...livemode,
		type: text("type").notNull(),
		objectId: text("object_id").notNull(),
		objectVersion: integer("object_version"),
		data: text("data").notNull(),
		...created,
		/**
		 * When the event was handed to the webhooks queue (and its internal reactions); null until
		 * then, so the minute cron publishes whatever a failed send left behind.
		 */
		published: integer("published"),
	},
	(t) => [
		index("events_merchant_idx").on(t.merchantId, t.livemode, t.id),
		index("events_object_idx").on(t.objectId, t.id),
		index("events_unpublished_idx").on(t.id).where(sql`${t.published} IS NULL`),
	],
);
