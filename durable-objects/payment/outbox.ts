import { eventRowOf, type OutboxEntry, projectOutboxEntry } from "../../src/db/projection";
import { upsertRefundStatement } from "../../src/db/refunds";
import { type RefundRecord, toApiRefund } from "../../src/domain/refund";
import type { Env } from "../../src/env";
import { log } from "../../src/lib/log";
import { emitEvent, publishEvents } from "../../src/services/events";

/** Retry delays for a failed flush: 2 s, 4 s, … up to 5 minutes. */
const FLUSH_BACKOFF_MAX_MS = 5 * 60 * 1000;

/**
 * A payment object's two outboxes: `outbox` for the payment's own changes (projection, event,
 * ledger), `refund_outbox` for its refunds' (projection, event, the refunds queue). The payment's
 * rows drain first, so a refund never reaches D1 before the payment change committed with it.
 */
export type OutboxTable = "outbox" | "refund_outbox";

export function outboxSchema(table: OutboxTable): string {
	return `
	CREATE TABLE IF NOT EXISTS ${table} (
		seq INTEGER PRIMARY KEY AUTOINCREMENT, entry TEXT NOT NULL,
		attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT);
`;
}

/** What a refund change owes D1 and the queue. */
export interface RefundOutboxEntry {
	refund: RefundRecord;
	event: { id: string; type: string; created: number };
	/** True for a new refund: the refunds queue must hear of it. */
	enqueue: boolean;
}

export type DrainResult =
	| { drained: true }
	| { drained: false; attempts: number; retryInMs: number; error: string };

/** How one outbox's rows reach D1: `deliver` before the row is deleted, `after` once it is. */
interface Delivery {
	deliver(entry: string, env: Env): Promise<void>;
	after?(entry: string, env: Env): Promise<unknown>;
}

const deliveries: Record<OutboxTable, Delivery> = {
	outbox: {
		deliver: (entry, env) => projectOutboxEntry(env.DB, JSON.parse(entry) as OutboxEntry),
		// In D1 now: a failed publish is retried by the cron, so it never holds the outbox up.
		after: (entry, env) => publishEvents(env, [eventRowOf(JSON.parse(entry) as OutboxEntry)]),
	},
	refund_outbox: {
		// Projection upsert by version, the event once by id, the queue message: each is safe to
		// repeat, so a failure anywhere leaves the row for the next flush.
		async deliver(json, env) {
			const { refund, event, enqueue } = JSON.parse(json) as RefundOutboxEntry;
			await upsertRefundStatement(env.DB, refund).run();
			await emitEvent(env, {
				id: event.id,
				created: event.created,
				merchant_id: refund.merchant_id,
				livemode: refund.livemode,
				type: event.type,
				object_id: refund.id,
				object_version: refund.version,
				data: JSON.stringify(toApiRefund(refund)),
			});
			if (!enqueue) return;
			if (env.REFUNDS_QUEUE) {
				await env.REFUNDS_QUEUE.send({ kind: "refund", refund_id: refund.id });
			} else {
				log("error", "no refunds queue bound; the refund stays pending", { refund: refund.id });
			}
		},
	},
};

/**
 * Writes an outbox's rows to D1 in commit order, deleting each once it landed. Stops at the
 * first failure, recording it on the row, and says when to try again; the row stays, so nothing
 * committed is lost and later rows never overtake it.
 */
export async function drainOutbox(
	sql: SqlStorage,
	env: Env,
	table: OutboxTable,
): Promise<DrainResult> {
	const { deliver, after } = deliveries[table];
	for (;;) {
		const row = sql
			.exec<{ seq: number; entry: string; attempts: number }>(
				`SELECT seq, entry, attempts FROM ${table} ORDER BY seq LIMIT 1`,
			)
			.toArray()[0];
		if (!row) return { drained: true };
		try {
			await deliver(row.entry, env);
			sql.exec(`DELETE FROM ${table} WHERE seq = ?`, row.seq);
			await after?.(row.entry, env);
		} catch (err) {
			const attempts = row.attempts + 1;
			const error = err instanceof Error ? err.message : String(err);
			sql.exec(
				`UPDATE ${table} SET attempts = ?, last_error = ? WHERE seq = ?`,
				attempts,
				error.slice(0, 500),
				row.seq,
			);
			return {
				drained: false,
				attempts,
				retryInMs: Math.min(1000 * 2 ** attempts, FLUSH_BACKOFF_MAX_MS),
				error,
			};
		}
	}
}
