import { and, eq, type SQL } from "drizzle-orm";
import type { Owner } from "../domain/owner";
import { type RefundRecord, toApiRefund } from "../domain/refund";
import { createDb } from "./client";
import { idWindow, type PageWindow } from "./pagination";
import { refunds } from "./schema";

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

/** Whose a refund is and which payment it belongs to, if it exists. */
export function refundOwnerRow(d1: D1Database, id: string) {
	return createDb(d1).query.refunds.findFirst({
		where: eq(refunds.id, id),
		columns: { paymentId: true, merchantId: true, livemode: true },
	});
}

/** One window of the owner's refunds (of one payment, if given): their projected JSON. */
export function refundDataWindow(
	d1: D1Database,
	owner: Owner,
	paymentId: string | undefined,
	window: PageWindow,
): Promise<{ data: string }[]> {
	const conditions: SQL[] = [
		eq(refunds.merchantId, owner.merchantId),
		eq(refunds.livemode, owner.livemode),
	];
	if (paymentId) conditions.push(eq(refunds.paymentId, paymentId));
	const { bounds, orderBy } = idWindow(refunds.id, window);
	return createDb(d1)
		.select({ data: refunds.data })
		.from(refunds)
		.where(and(...conditions, ...bounds))
		.orderBy(orderBy)
		.limit(window.take);
}

/** Up to 200 pending refunds with ids in [from, to). */
export async function pendingRefundIds(
	db: D1Database,
	from: string,
	to: string,
): Promise<string[]> {
	const { results } = await db
		.prepare(
			`SELECT id FROM refunds WHERE id >= ? AND id < ? AND status = 'pending' ORDER BY id LIMIT 200`,
		)
		.bind(from, to)
		.all<{ id: string }>();
	return results.map((r) => r.id);
}
