import { type RefundRecord, toApiRefund } from "../domain/refund";

/**
 * The D1 projection of one refund, written from its payment's object: inserted, or updated only
 * when newer (by version), so a replayed or reordered write never takes it back.
 */
export function upsertRefundStatement(db: D1Database, r: RefundRecord): D1PreparedStatement {
	return db
		.prepare(
			`INSERT INTO refunds (id, merchant_id, livemode, payment_id, status, amount, currency, version, created, updated, data)
			 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
			 ON CONFLICT (id) DO UPDATE SET status = excluded.status, version = excluded.version,
			   updated = excluded.updated, data = excluded.data
			 WHERE excluded.version > refunds.version`,
		)
		.bind(
			r.id,
			r.merchant_id,
			r.livemode ? 1 : 0,
			r.payment_id,
			r.status,
			r.amount,
			r.currency,
			r.version,
			r.created,
			r.updated,
			JSON.stringify(toApiRefund(r)),
		);
}
