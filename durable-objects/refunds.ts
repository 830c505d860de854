import { upsertRefundStatement } from "../src/db/refunds";
import type { PaymentRecord } from "../src/domain/payment";
import {
	heldByPayer,
	heldFunds,
	type ReceiptSummary,
	type RefundRecord,
	toApiRefund,
} from "../src/domain/refund";
import { receiptParts } from "../src/domain/solana-receipts";
import type { Env } from "../src/env";
import { newId } from "../src/lib/ids";
import { log } from "../src/lib/log";
import { emitEvent } from "../src/services/events";
import type { DrainResult } from "./outbox";
import { readReceipts } from "./payment-chain";

/**
 * The refund side of a PaymentObject: each refund of the payment lives in the object's storage,
 * so planning a refund against the ones before it (the cap) and reserving its amount happen in
 * one synchronous step. Changes reach D1 (the refunds projection, the refund.* events) and the
 * refunds queue through a small outbox of their own, retried by the object's alarm.
 */
export const REFUNDS_SCHEMA = `
	CREATE TABLE IF NOT EXISTS refunds (id TEXT PRIMARY KEY, record TEXT NOT NULL);
	CREATE TABLE IF NOT EXISTS refund_outbox (
		seq INTEGER PRIMARY KEY AUTOINCREMENT, entry TEXT NOT NULL,
		attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT);
`;

/** What a refund change owes D1 and the queue. */
export interface RefundOutboxEntry {
	refund: RefundRecord;
	event: { id: string; type: string; created: number };
	/** True for a new refund: the refunds queue must hear of it. */
	enqueue: boolean;
}

export type RefundResult =
	| { ok: true; refund: RefundRecord }
	| {
			ok: false;
			code:
				| "resource_missing"
				| "parameter_invalid"
				| "parameter_missing"
				| "payment_unexpected_state";
			message: string;
			param?: string;
	  };

export function readRefunds(sql: SqlStorage): RefundRecord[] {
	return sql
		.exec<{ record: string }>("SELECT record FROM refunds ORDER BY id")
		.toArray()
		.map((r) => JSON.parse(r.record) as RefundRecord);
}

export function readRefund(sql: SqlStorage, id: string): RefundRecord | null {
	const row = sql
		.exec<{ record: string }>("SELECT record FROM refunds WHERE id = ?", id)
		.toArray()[0];
	return row ? (JSON.parse(row.record) as RefundRecord) : null;
}

function summaries(sql: SqlStorage): ReceiptSummary[] {
	// A dropped receipt's funds never stayed: it was reversed in the ledger.
	// A receipt several wallets sent counts as each one's part.
	return readReceipts(sql).flatMap((r) =>
		r.disposition === "dropped"
			? []
			: receiptParts(r).map((part) => ({
					...part,
					disposition: r.disposition as "counted" | "late",
				})),
	);
}

/** Crypto this payment holds for refund, from the receipts its watcher recorded. */
export function paymentHeldFunds(sql: SqlStorage, payment: PaymentRecord) {
	return heldFunds(payment, summaries(sql));
}

/** Who the payment's held crypto belongs to, wallet by wallet. */
export function paymentHeldByPayer(sql: SqlStorage, payment: PaymentRecord) {
	return heldByPayer(payment, summaries(sql));
}

/**
 * Stores the refund and its outbox row. Synchronous, so a caller's storage transaction (or the
 * object's implicit one) covers both, together with any payment change made beside them.
 */
export function saveRefund(
	sql: SqlStorage,
	refund: RefundRecord,
	eventType: string,
	enqueue = false,
): void {
	const now = Date.now();
	const entry: RefundOutboxEntry = {
		refund,
		event: { id: newId("event", now), type: eventType, created: Math.floor(now / 1000) },
		enqueue,
	};
	sql.exec(
		"INSERT INTO refunds (id, record) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET record = excluded.record",
		refund.id,
		JSON.stringify(refund),
	);
	sql.exec("INSERT INTO refund_outbox (entry) VALUES (?)", JSON.stringify(entry));
}

/**
 * Writes refund outbox rows to D1 in order (projection upsert by version, the event once by id),
 * asks the refunds queue to process a new refund, then deletes the row. Each part is safe to
 * repeat, so a failure anywhere leaves the row for the next flush.
 */
export async function drainRefundOutbox(sql: SqlStorage, env: Env): Promise<DrainResult> {
	for (;;) {
		const row = sql
			.exec<{ seq: number; entry: string; attempts: number }>(
				"SELECT seq, entry, attempts FROM refund_outbox ORDER BY seq LIMIT 1",
			)
			.toArray()[0];
		if (!row) return { drained: true };
		try {
			const { refund, event, enqueue } = JSON.parse(row.entry) as RefundOutboxEntry;
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
			if (enqueue) {
				if (env.REFUNDS_QUEUE) {
					await env.REFUNDS_QUEUE.send({ kind: "refund", refund_id: refund.id });
				} else {
					log("error", "no refunds queue bound; the refund stays pending", { refund: refund.id });
				}
			}
			sql.exec("DELETE FROM refund_outbox WHERE seq = ?", row.seq);
		} catch (err) {
			const attempts = row.attempts + 1;
			const error = err instanceof Error ? err.message : String(err);
			sql.exec(
				"UPDATE refund_outbox SET attempts = ?, last_error = ? WHERE seq = ?",
				attempts,
				error.slice(0, 500),
				row.seq,
			);
			return {
				drained: false,
				attempts,
				retryInMs: Math.min(1000 * 2 ** attempts, 5 * 60 * 1000),
				error,
			};
		}
	}
}
