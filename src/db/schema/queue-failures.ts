import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * Messages a queue consumer gave up on, with why: the visible record an operator (and, for a
 * merchant's own objects, the merchant) can act on. The message itself also lands in the
 * queue's dead-letter queue.
 */
export const queueFailures = sqliteTable(
	"queue_failures",
	{
		id: text("id").primaryKey(),
		queue: text("queue").notNull(),
		messageId: text("message_id").notNull(),
		body: text("body").notNull(),
		attempts: integer("attempts").notNull(),
		error: text("error").notNull(),
		created: integer("created").notNull(),
	},
	(t) => [index("queue_failures_queue_idx").on(t.queue, t.id)],
);
