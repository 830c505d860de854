import type { RefundDraw } from "../domain/refund-booking";

/**
 * Balance holds: what pending refunds will debit from merchants' available balances, set aside
 * before their money moves (src/db/schema/balance-holds.ts).
 *
 * A hold is active while it is not released, its refund's ledger transfer is not posted yet, and
 * its refund has not failed or been canceled. Release on success is lazy: the hold stops counting
 * in the same D1 write that posts the debit (the transfer's row), so there is no moment when
 * neither the hold nor the debit counts. A failed or canceled refund is read from the refunds
 * projection (written by the payment's object with the refund's new status), so no failure path
 * has to remember the hold; until that write lands the hold still counts, which only errs on the
 * safe side.
 */

/**
 * SQL for the sum of the active holds on one account, as an integer expression. `account` is the
 * SQL parameter (`?n`) that names the account.
 */
export function activeHoldsSql(account: string): string {
	return `COALESCE((SELECT SUM(CAST(h.amount AS INTEGER)) FROM balance_holds h
	  WHERE ${activeHoldWhere(account)}), 0)`;
}

/** The condition that hold `h` on `account` is active. */
function activeHoldWhere(account: string): string {
	return `h.account = ${account} AND h.released IS NULL
	    AND NOT EXISTS (SELECT 1 FROM ledger_transfers t WHERE t.id = h.transfer_id)
	    AND NOT EXISTS (SELECT 1 FROM refunds f WHERE f.id = h.id
	      AND f.status IN ('failed', 'canceled'))`;
}

/** An account's balance less its active holds, as an integer expression (see activeHoldsSql). */
export function freeBalanceSql(account: string): string {
	return `(COALESCE((SELECT balance FROM ledger_balances WHERE account = ${account}), 0)
	  - ${activeHoldsSql(account)})`;
}

/** An account's balance less its active holds: what a payout or a new refund may take. */
export async function freeBalance(db: D1Database, account: string): Promise<bigint> {
	const row = await db
		.prepare(`SELECT CAST(${freeBalanceSql("?1")} AS TEXT) AS free`)
		.bind(account)
		.first<{ free: string }>();
	return BigInt(row?.free ?? "0");
}

/**
 * What of a refund's draw the free balance must cover, as an integer expression: the draw, but
 * never more than the refunded payment's own postings left on the account (its credit, less its
 * earlier refunds, their network fees and what its pending refunds hold). The rest is the fees
 * the payment cost (Stripe's card fee, the gateway fee, conversion spreads and roundings), which
 * the payer gets back and which never reached the balance: the fee policy of src/domain/refund.ts
 * lets a refund take the balance below zero by those, as it always has. Money a payout took is
 * gone from the balance but not from the payment's postings, so it must still be covered. A
 * refund whose payment left nothing there (a late card charge's fee, taken from `available`)
 * needs nothing covered, as before. `account`, `payment` and `amount` are the SQL parameters.
 */
function refundNeedSql(account: string, payment: string, amount: string): string {
	return `MIN(CAST(${amount} AS INTEGER), COALESCE((SELECT SUM(p.amount) FROM ledger_postings p
	    JOIN ledger_transfers t ON t.id = p.transfer_id
	    WHERE t.reference = ${payment} AND p.account = ${account}), 0)
	  - COALESCE((SELECT SUM(CAST(h.amount AS INTEGER)) FROM balance_holds h
	    JOIN refunds r ON r.id = h.id
	    WHERE r.payment_id = ${payment} AND ${activeHoldWhere(account)}), 0))`;
}

/** Whether the free balance covers a refund's draw: what is free, and what it must cover. */
export async function refundCoverage(
	db: D1Database,
	draw: RefundDraw,
): Promise<{ free: bigint; need: bigint }> {
	const row = await db
		.prepare(
			`SELECT CAST(${freeBalanceSql("?1")} AS TEXT) AS free,
			   CAST(${refundNeedSql("?1", "?2", "?3")} AS TEXT) AS need`,
		)
		.bind(draw.account, draw.payment_id, draw.amount.toString())
		.first<{ free: string; need: string }>();
	return { free: BigInt(row?.free ?? "0"), need: BigInt(row?.need ?? draw.amount.toString()) };
}

export interface RefundHoldInput {
	refund_id: string;
	merchant_id: string;
	livemode: boolean;
	draw: RefundDraw;
	now: number;
}

export type RefundHoldResult = { placed: true } | { placed: false; shortfall: bigint };

/**
 * Sets aside a refund's draw on the merchant's available balance, only if the balance less the
 * active holds covers it (refundNeedSql). One guarded INSERT: D1 runs statements one at a time,
 * so of a hold and a payout (or two holds) racing for the same money the second sees the first.
 * Idempotent by refund id: a redelivered message finds its hold placed.
 */
export async function placeRefundHold(
	db: D1Database,
	input: RefundHoldInput,
): Promise<RefundHoldResult> {
	const { draw } = input;
	const [, inserted] = await db.batch([
		// Housekeeping: holds whose refund has finished stop being scanned by later guards.
		db
			.prepare(
				`UPDATE balance_holds SET released = ?2 WHERE account = ?1 AND released IS NULL
				   AND (EXISTS (SELECT 1 FROM ledger_transfers t WHERE t.id = balance_holds.transfer_id)
				     OR EXISTS (SELECT 1 FROM refunds r WHERE r.id = balance_holds.id
				       AND r.status IN ('failed', 'canceled')))`,
			)
			.bind(draw.account, input.now),
		db
			.prepare(
				`INSERT INTO balance_holds (id, merchant_id, livemode, account, currency, amount,
				   transfer_id, created, released)
				 SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL
				 WHERE NOT EXISTS (SELECT 1 FROM balance_holds WHERE id = ?1)
				   AND (${refundNeedSql("?4", "?9", "?6")} <= 0
				     OR ${freeBalanceSql("?4")} >= ${refundNeedSql("?4", "?9", "?6")})`,
			)
			.bind(
				input.refund_id,
				input.merchant_id,
				input.livemode ? 1 : 0,
				draw.account,
				draw.currency,
				draw.amount.toString(),
				draw.transfer_id,
				input.now,
				draw.payment_id,
			),
	]);
	if ((inserted?.meta.changes ?? 0) > 0) return { placed: true };
	const existing = await db
		.prepare("SELECT 1 AS found FROM balance_holds WHERE id = ?")
		.bind(input.refund_id)
		.first<{ found: number }>();
	if (existing) return { placed: true };
	const { free, need } = await refundCoverage(db, draw);
	return { placed: false, shortfall: need - free > 0n ? need - free : 1n };
}

/** A hold as stored, for tests and support. */
export interface BalanceHoldRow {
	id: string;
	account: string;
	currency: string;
	amount: string;
	transfer_id: string;
	released: number | null;
}

export async function getBalanceHold(db: D1Database, id: string): Promise<BalanceHoldRow | null> {
	return db
		.prepare(
			"SELECT id, account, currency, amount, transfer_id, released FROM balance_holds WHERE id = ?",
		)
		.bind(id)
		.first<BalanceHoldRow>();
}
