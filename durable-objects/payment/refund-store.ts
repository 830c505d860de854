import { newId } from "../../src/domain/ids";
import type { PaymentRecord } from "../../src/domain/payment";
import type { RefundRecord } from "../../src/domain/refund";
import { heldByPayer, heldFunds, type ReceiptSummary } from "../../src/domain/refund-held";
import { receiptParts } from "../../src/domain/solana-receipts";
import { outboxSchema, type RefundOutboxEntry } from "./outbox";
import { readReceipts } from "./receipts";

/**
 * The refunds of a payment, stored in its object: planning a refund against the ones before it
 * (the cap) and reserving its amount happen in one synchronous step. Changes reach D1 (the
 * refunds projection, the refund.* events) and the refunds queue through the `refund_outbox`.
 */
export const REFUNDS_SCHEMA = `
	CREATE TABLE IF NOT EXISTS refunds (id TEXT PRIMARY KEY, record TEXT NOT NULL);
	${outboxSchema("refund_outbox")}
`;

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
