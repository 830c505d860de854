import type { Transfer } from "../domain/ledger";
import { transferStatements } from "./ledger";
import { paginate } from "./pagination";

/** Records that `reference` identifies `paymentId`; a reference is random and never reused. */
export async function recordReference(
	db: D1Database,
	reference: string,
	paymentId: string,
	created: number,
): Promise<void> {
	await db
		.prepare(
			"INSERT INTO solana_references (reference, payment_id, created) VALUES (?, ?, ?) ON CONFLICT (reference) DO NOTHING",
		)
		.bind(reference, paymentId, created)
		.run();
}

/** The payments named by any of `keys` (a transaction's account keys), in the order given. */
export async function paymentsForKeys(
	db: D1Database,
	keys: string[],
): Promise<{ reference: string; paymentId: string }[]> {
	if (keys.length === 0) return [];
	const found = new Map<string, string>();
	// D1 binds at most 100 parameters per statement; a v0 transaction may list up to 256 keys.
	for (let i = 0; i < keys.length; i += 90) {
		const chunk = keys.slice(i, i + 90);
		const { results } = await db
			.prepare(
				`SELECT reference, payment_id FROM solana_references WHERE reference IN (${chunk.map(() => "?").join(",")})`,
			)
			.bind(...chunk)
			.all<{ reference: string; payment_id: string }>();
		for (const r of results) found.set(r.reference, r.payment_id);
	}
	return keys.flatMap((k) => {
		const paymentId = found.get(k);
		return paymentId ? [{ reference: k, paymentId }] : [];
	});
}

export interface UnattributedInflow {
	id: string;
	signature: string;
	currency: string;
	account: string;
	amount: string;
	sender: string;
	slot: number;
	reason: string;
	paymentId: string | null;
	livemode: boolean;
	created: number;
}

/** Books an inflow no payment took: its row and its ledger transfer, together and once. */
export async function recordUnattributed(
	db: D1Database,
	inflow: UnattributedInflow,
	transfer: Transfer | null,
): Promise<void> {
	const row = db
		.prepare(
			`INSERT INTO unattributed_funds (id, signature, currency, account, amount, sender, slot, reason, payment_id, status, livemode, created)
			 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'held', ?, ?) ON CONFLICT (id) DO NOTHING`,
		)
		.bind(
			inflow.id,
			inflow.signature,
			inflow.currency,
			inflow.account,
			inflow.amount,
			inflow.sender,
			inflow.slot,
			inflow.reason,
			inflow.paymentId,
			inflow.livemode ? 1 : 0,
			inflow.created,
		);
	await db.batch([row, ...(transfer ? await transferStatements(db, transfer) : [])]);
}

export interface UnattributedRow {
	id: string;
	signature: string;
	currency: string;
	account: string;
	amount: string;
	sender: string;
	slot: number;
	reason: string;
	payment_id: string | null;
	status: "held" | "refund_pending" | "refunded";
	refund_signature: string | null;
	livemode: number;
	created: number;
}

/**
 * Unattributed inflows, newest first, `limit` at a time; `startingAfter` (an id from the previous
 * page) continues after it. Rows are ordered by (created, id), both indexed.
 */
export async function listUnattributed(
	db: D1Database,
	options: { status?: string; limit: number; startingAfter?: string },
): Promise<{ rows: UnattributedRow[]; hasMore: boolean }> {
	// Forward only: the window is always newest first, below the cursor's (created, id).
	const query = { limit: options.limit, starting_after: options.startingAfter };
	const page = await paginate(query, async (window) => {
		const where: string[] = [];
		const binds: (string | number)[] = [];
		if (options.status) {
			where.push("status = ?");
			binds.push(options.status);
		}
		if (window.idBelow) {
			where.push("(created, id) < (SELECT created, id FROM unattributed_funds WHERE id = ?)");
			binds.push(window.idBelow);
		}
		const { results } = await db
			.prepare(
				`SELECT * FROM unattributed_funds ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
			 ORDER BY created DESC, id DESC LIMIT ?`,
			)
			.bind(...binds, window.take)
			.all<UnattributedRow>();
		return results;
	});
	return { rows: page.data, hasMore: page.has_more };
}

/** Which payment a transaction paid, for search by signature (the first payment booked keeps it). */
export async function recordSignature(
	db: D1Database,
	signature: string,
	paymentId: string,
	created: number,
): Promise<void> {
	await db
		.prepare(
			"INSERT INTO solana_signatures (signature, payment_id, created) VALUES (?, ?, ?) ON CONFLICT (signature) DO NOTHING",
		)
		.bind(signature, paymentId, created)
		.run();
}

/** Takes held unattributed funds for a refund; null when they are not held (taken already). */
export async function claimUnattributedForRefund(
	db: D1Database,
	id: string,
): Promise<UnattributedRow | null> {
	return db
		.prepare(
			"UPDATE unattributed_funds SET status = 'refund_pending' WHERE id = ? AND status = 'held' RETURNING *",
		)
		.bind(id)
		.first<UnattributedRow>();
}

/**
 * Ends a pending unattributed refund: refunded with its signature, or held again (null). Null
 * when it was not pending (the outcome was booked already).
 */
export async function finishUnattributedRefund(
	db: D1Database,
	id: string,
	signature: string | null,
): Promise<UnattributedRow | null> {
	return db
		.prepare(
			`UPDATE unattributed_funds SET status = ?, refund_signature = ?
			 WHERE id = ? AND status = 'refund_pending' RETURNING *`,
		)
		.bind(signature ? "refunded" : "held", signature, id)
		.first<UnattributedRow>();
}

/** Funds held for their sender that name a payment (its reference in a transaction no payment took). */
export async function unattributedForPayment(
	db: D1Database,
	paymentId: string,
): Promise<UnattributedRow[]> {
	const { results } = await db
		.prepare("SELECT * FROM unattributed_funds WHERE payment_id = ? ORDER BY created, id LIMIT 100")
		.bind(paymentId)
		.all<UnattributedRow>();
	return results;
}
