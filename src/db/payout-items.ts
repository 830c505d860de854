import { paginate } from "./pagination";

/**
 * The balance transfers an automatic payout includes (`payout_items`). A ledger transfer's posting
 * on a merchant's available account is itemised in at most one payout (a unique index).
 */

/** A posting on an available account that no payout has itemised yet, oldest first. */
export interface UnitemisedTransfer {
	transferId: string;
	/** Its net amount on the account (signed). */
	amount: bigint;
	/** The `ledger_postings` rowid of its (last) posting there: insertion order. */
	position: number;
}

/** Up to what an earlier automatic payout of this merchant, mode and currency itemised. */
export async function itemsThrough(
	db: D1Database,
	q: { merchantId: string; livemode: boolean; currency: string },
): Promise<number> {
	const row = await db
		.prepare(
			`SELECT COALESCE(MAX(items_through), 0) AS through FROM payout_schedule_runs
			 WHERE merchant_id = ? AND livemode = ? AND currency = ?`,
		)
		.bind(q.merchantId, q.livemode ? 1 : 0, q.currency)
		.first<{ through: number }>();
	return row?.through ?? 0;
}

/**
 * The oldest unitemised transfers on `account` after position `after`, at most `limit`. Rows are
 * read in insertion order (rowid, through the account index), so a transfer that landed late is
 * still found. A transfer's postings on one account are adjacent; one cut by the limit is left
 * for the next run whole.
 */
export async function unitemisedTransfers(
	db: D1Database,
	account: string,
	after: number,
	limit: number,
): Promise<UnitemisedTransfer[]> {
	const { results } = await db
		.prepare(
			`SELECT p.rowid AS position, p.transfer_id, CAST(p.amount AS TEXT) AS amount
			 FROM ledger_postings p
			 WHERE p.account = ?1 AND p.rowid > ?2
			   AND NOT EXISTS (SELECT 1 FROM payout_items i WHERE i.transfer_id = p.transfer_id AND i.account = ?1)
			 ORDER BY p.rowid LIMIT ?3`,
		)
		.bind(account, after, limit + 1)
		.all<{ position: number; transfer_id: string; amount: string }>();
	const out: UnitemisedTransfer[] = [];
	for (const r of results) {
		const last = out[out.length - 1];
		if (last && last.transferId === r.transfer_id) {
			last.amount += BigInt(r.amount);
			last.position = r.position;
		} else out.push({ transferId: r.transfer_id, amount: BigInt(r.amount), position: r.position });
	}
	// More rows than asked: the last transfer may be cut, and the list is past `limit` anyway.
	if (results.length > limit) out.pop();
	return out.slice(0, limit);
}

/** Bound parameters per statement stay under D1's 100. */
const ROWS_PER_INSERT = 19;

/**
 * Statements that itemise `items` into a payout. Plain INSERTs: a transfer another payout already
 * itemised fails the whole D1 batch, payout and reservation with it, so the items and the amount
 * can never disagree.
 */
export function itemStatements(
	db: D1Database,
	payoutId: string,
	account: string,
	currency: string,
	items: { transferId: string; amount: bigint }[],
): D1PreparedStatement[] {
	const out: D1PreparedStatement[] = [];
	for (let i = 0; i < items.length; i += ROWS_PER_INSERT) {
		const chunk = items.slice(i, i + ROWS_PER_INSERT);
		out.push(
			db
				.prepare(
					`INSERT INTO payout_items (payout_id, transfer_id, account, amount, currency) VALUES ${chunk.map(() => "(?, ?, ?, ?, ?)").join(", ")}`,
				)
				.bind(
					...chunk.flatMap((item) => [
						payoutId,
						item.transferId,
						account,
						item.amount.toString(),
						currency,
					]),
				),
		);
	}
	return out;
}

/**
 * The payout's own debit of the account (its reservation, and any fee it books there at once),
 * itemised into itself so no later payout counts it: every automatic payout's items then sum to
 * zero, the transfers it paid out less its own debit. Runs after the reservation in its batch.
 */
export function ownDebitStatement(
	db: D1Database,
	payoutId: string,
	account: string,
): D1PreparedStatement {
	return db
		.prepare(
			`INSERT INTO payout_items (payout_id, transfer_id, account, amount, currency)
			 SELECT ?1, p.transfer_id, p.account, CAST(SUM(p.amount) AS TEXT), p.currency
			 FROM ledger_postings p JOIN ledger_transfers t ON t.id = p.transfer_id
			 WHERE t.reference = ?1 AND p.account = ?2
			 GROUP BY p.transfer_id`,
		)
		.bind(payoutId, account);
}

export interface PayoutItemRow {
	transfer_id: string;
	kind: string;
	reference: string;
	amount: string;
	currency: string;
	created: number;
}

/**
 * One page of a payout's items, newest first (as Stripe lists balance transactions); the cursor
 * is a transfer id of the payout. Ordered by (created, transfer id) through the primary keys.
 */
export async function payoutItemsPage(
	db: D1Database,
	payoutId: string,
	q: { limit: number; startingAfter?: string | undefined; endingBefore?: string | undefined },
): Promise<{ data: PayoutItemRow[]; has_more: boolean } | null> {
	const cursorId = q.startingAfter ?? q.endingBefore;
	let cursor: { created: number; transfer_id: string } | null = null;
	if (cursorId !== undefined) {
		cursor = await db
			.prepare(
				`SELECT t.created, i.transfer_id FROM payout_items i JOIN ledger_transfers t ON t.id = i.transfer_id
				 WHERE i.payout_id = ? AND i.transfer_id = ? LIMIT 1`,
			)
			.bind(payoutId, cursorId)
			.first<{ created: number; transfer_id: string }>();
		if (!cursor) return null;
	}
	// The cursor's transfer is found above; the window's bound is its (created, transfer id).
	const query = { limit: q.limit, starting_after: q.startingAfter, ending_before: q.endingBefore };
	return paginate(query, async (window) => {
		const order = window.order.toUpperCase();
		const bound = cursor
			? `AND (t.created, i.transfer_id) ${order === "ASC" ? ">" : "<"} (?, ?)`
			: "";
		const { results } = await db
			.prepare(
				`SELECT i.transfer_id, t.kind, t.reference, i.amount, i.currency, t.created
			 FROM payout_items i JOIN ledger_transfers t ON t.id = i.transfer_id
			 WHERE i.payout_id = ? ${bound}
			 ORDER BY t.created ${order}, i.transfer_id ${order}
			 LIMIT ?`,
			)
			.bind(payoutId, ...(cursor ? [cursor.created, cursor.transfer_id] : []), window.take)
			.all<PayoutItemRow>();
		return results;
	});
}

/** Whether the payout exists and is this merchant's in this mode (another's is a 404 too). */
export async function isMerchantPayout(
	db: D1Database,
	payoutId: string,
	merchantId: string,
	livemode: boolean,
): Promise<boolean> {
	const row = await db
		.prepare("SELECT 1 AS found FROM payouts WHERE id = ? AND merchant_id = ? AND livemode = ?")
		.bind(payoutId, merchantId, livemode ? 1 : 0)
		.first<{ found: number }>();
	return row !== null;
}
