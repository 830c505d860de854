import type { TransferJson } from "../domain/ledger";
import { transferFromJson } from "../domain/ledger";
import { type PaymentRecord, toApiPayment } from "../domain/payment";
import { type EventRow, insertEventStatement } from "./events";
import { transferStatements } from "./ledger";

/** One committed transition of a PaymentObject, waiting to reach D1. */
export interface OutboxEntry {
	event: { id: string; type: string; created: number };
	payment: PaymentRecord;
	/** Ledger transfers committed with this change (each recorded once, by id). */
	transfers: TransferJson[];
}

/** The event row an outbox entry records: the payment's API object at that version. */
export function eventRowOf(entry: OutboxEntry): EventRow {
	const p = entry.payment;
	return {
		id: entry.event.id,
		merchant_id: p.merchant_id,
		livemode: p.livemode,
		type: entry.event.type,
		object_id: p.id,
		object_version: p.version,
		data: JSON.stringify(toApiPayment(p)),
		created: entry.event.created,
	};
}

/**
 * Writes an outbox entry to D1 in one atomic batch: the payment projection (only if newer), the
 * event (once, by id) and the ledger transfer (once, by id). Safe to repeat any number of times.
 */
export async function projectOutboxEntry(db: D1Database, entry: OutboxEntry): Promise<void> {
	const p = entry.payment;
	const api = JSON.stringify(toApiPayment(p));
	const statements: D1PreparedStatement[] = [
		db
			.prepare(
				`INSERT INTO payments (id, merchant_id, livemode, status, amount, currency, amount_received,
				   amount_refunded, version, expires_at, created, updated, data, customer_id)
				 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
				 ON CONFLICT (id) DO UPDATE SET status = excluded.status,
				   amount_received = excluded.amount_received, amount_refunded = excluded.amount_refunded,
				   version = excluded.version, expires_at = excluded.expires_at,
				   updated = excluded.updated, data = excluded.data, customer_id = excluded.customer_id
				 WHERE excluded.version > payments.version`,
			)
			.bind(
				p.id,
				p.merchant_id,
				p.livemode ? 1 : 0,
				p.status,
				p.amount,
				p.currency,
				p.amount_received,
				p.amount_refunded,
				p.version,
				p.expires_at,
				p.created,
				p.updated,
				api,
				p.customer ?? null,
			),
		insertEventStatement(db, eventRowOf(entry)),
	];
	for (const transfer of entry.transfers) {
		statements.push(...(await transferStatements(db, transferFromJson(transfer))));
	}
	await db.batch(statements);
}
