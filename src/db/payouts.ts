import { lowestIdAt } from "../domain/ids";
import { accounts } from "../domain/ledger";
import type { PayoutMethod, PayoutRecord, PayoutStatus } from "../domain/payout";
import { activeHoldsSql } from "./balance-holds";
import { listPage, type Page, type PageQuery } from "./pagination";

/** A `payouts` row as D1 returns it. */
interface PayoutRow {
	id: string;
	merchant_id: string;
	livemode: number;
	amount: string;
	currency: string;
	destination_id: string;
	method: PayoutMethod;
	status: PayoutStatus;
	automatic: number;
	fee: string | null;
	fee_currency: string | null;
	failure_code: string | null;
	failure_message: string | null;
	solana_signature: string | null;
	stripe_transfer_id: string | null;
	fee_reserved: string | null;
	creates_token_account: number;
	amount_reversed: string;
	version: number;
	created: number;
	updated: number;
}

function toRecord(row: PayoutRow): PayoutRecord {
	return {
		...row,
		livemode: row.livemode === 1,
		automatic: row.automatic === 1,
		creates_token_account: row.creates_token_account === 1,
	};
}

/**
 * What pending refunds of received funds will take from a merchant's available balance of one
 * currency when they succeed (refund-booking.ts's source accounts, read from the refunds
 * projection): a converted payment's refund its debit and spread in the settlement currency, a
 * crypto refund its tokens, a card refund its amount. Held funds never come from `available`.
 * Only refunds of the last week are read (a pending refund lives seconds), so the scan is a
 * bounded range of the merchant's index. A refund whose consumer has set its draw aside counts by
 * its balance hold instead (src/db/balance-holds.ts: exactly what it will debit, until its debit
 * is posted), so none is counted twice. Takes the SQL parameters (`?n`) to read each value from.
 */
function pendingRefundsDrawSql(p: {
	merchant: string;
	livemode: string;
	currency: string;
	since: string;
}) {
	// Parenthesised: the guard subtracts the whole sum.
	return `(COALESCE((SELECT SUM(CASE
	    WHEN json_extract(data, '$.conversion') IS NOT NULL THEN
	      CASE WHEN json_extract(data, '$.conversion.settlement_currency') = ?C
	        THEN CAST(json_extract(data, '$.conversion.debit') AS INTEGER)
	          + CAST(json_extract(data, '$.conversion.spread') AS INTEGER) ELSE 0 END
	    WHEN json_extract(data, '$.processor') = 'solana' THEN
	      CASE WHEN COALESCE(json_extract(data, '$.solana.mint'), 'sol') = ?C
	        THEN CAST(json_extract(data, '$.solana.amount') AS INTEGER) ELSE 0 END
	    WHEN currency = ?C THEN COALESCE(amount, 0) ELSE 0 END)
	  FROM refunds WHERE merchant_id = ?M AND livemode = ?L AND id >= ?S
	    AND status = 'pending' AND json_extract(data, '$.funds') = 'received'
	    AND NOT EXISTS (SELECT 1 FROM balance_holds h WHERE h.id = refunds.id)), 0)
	  + ${activeHoldsSql("((CASE WHEN ?L = 1 THEN 'live' ELSE 'test' END) || ':merchant:' || ?M || ':' || ?C || ':available')")})`
		.replaceAll("?C", p.currency)
		.replaceAll("?M", p.merchant)
		.replaceAll("?L", p.livemode)
		.replaceAll("?S", p.since);
}

/**
 * The statement that creates a payout only if its merchant can pay for it, and otherwise aborts
 * the whole D1 batch it is in. D1 runs a batch as one transaction, one batch at a time, so the
 * balance read here cannot change before the reservation posted beside it lands: two racing
 * payouts are serialised by the database and can never together take more than `available`.
 * When the balance is short the id is NULL, which the NOT NULL primary key refuses, and the
 * batch (reservation, itemisation, events) rolls back as a whole; isGuardRefusal recognises it.
 * The destination is checked again in the same statement: one removed (or no longer active)
 * since it was read refuses the payout too.
 */
export function insertPayoutGuarded(
	db: D1Database,
	p: PayoutRecord,
	need: {
		/** Available balance of the payout's currency it needs (amount, plus a SOL payout's fee). */
		amount: bigint;
		/** Available SOL a token payout needs for its network fee (0 otherwise). */
		solFee: bigint;
	},
): D1PreparedStatement {
	return db
		.prepare(
			`INSERT INTO payouts (id, merchant_id, livemode, amount, currency, destination_id, method,
			   status, automatic, version, created, updated, fee_reserved, creates_token_account)
			 SELECT CASE WHEN
			     COALESCE((SELECT balance FROM ledger_balances WHERE account = ?13), 0)
			       - ${pendingRefundsDrawSql({ merchant: "?2", livemode: "?3", currency: "?5", since: "?17" })}
			       >= CAST(?14 AS INTEGER)
			     AND (CAST(?16 AS INTEGER) = 0
			       OR COALESCE((SELECT balance FROM ledger_balances WHERE account = ?15), 0) >= CAST(?16 AS INTEGER))
			     AND EXISTS (SELECT 1 FROM payout_destinations WHERE id = ?6 AND merchant_id = ?2
			       AND livemode = ?3 AND status = 'active' AND removed IS NULL AND usable_after <= ?11)
			   THEN ?1 END, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?18, ?19`,
		)
		.bind(
			p.id,
			p.merchant_id,
			p.livemode ? 1 : 0,
			p.amount,
			p.currency,
			p.destination_id,
			p.method,
			p.status,
			p.automatic ? 1 : 0,
			p.version,
			p.created,
			p.updated,
			accounts.merchantAvailable(p.merchant_id, p.livemode, p.currency),
			need.amount.toString(),
			accounts.merchantAvailable(p.merchant_id, p.livemode, "sol"),
			need.solFee.toString(),
			lowestIdAt("refund", (p.created - PENDING_REFUND_WINDOW_SECONDS) * 1000),
			p.fee_reserved,
			p.creates_token_account ? 1 : 0,
		);
}

/** How far back pending refunds are looked for (a refund is pending for seconds, normally). */
const PENDING_REFUND_WINDOW_SECONDS = 7 * 86_400;

/** What pending refunds will draw from a merchant's available balance of `currency`. */
export async function pendingRefundsDraw(
	db: D1Database,
	merchantId: string,
	livemode: boolean,
	currency: string,
	nowSeconds: number,
): Promise<bigint> {
	const bound = await db
		.prepare(
			`SELECT CAST(${pendingRefundsDrawSql({ merchant: "?2", livemode: "?3", currency: "?1", since: "?4" })} AS TEXT) AS total`,
		)
		.bind(
			currency,
			merchantId,
			livemode ? 1 : 0,
			lowestIdAt("refund", (nowSeconds - PENDING_REFUND_WINDOW_SECONDS) * 1000),
		)
		.first<{ total: string }>();
	return BigInt(bound?.total ?? "0");
}

/** True for the error a refused guard (insertPayoutGuarded, transitionStatements) aborts with. */
export function isGuardRefusal(err: unknown): boolean {
	const message = err instanceof Error ? `${err.message} ${String(err.cause ?? "")}` : String(err);
	return /NOT NULL constraint failed: payouts\.id/.test(message);
}

export interface PayoutPatch {
	fee?: string | null;
	fee_currency?: string | null;
	failure_code?: string | null;
	failure_message?: string | null;
	solana_signature?: string | null;
	stripe_transfer_id?: string | null;
}

const PATCHABLE = [
	"fee",
	"fee_currency",
	"failure_code",
	"failure_message",
	"solana_signature",
	"stripe_transfer_id",
] as const;

/**
 * Moves a payout from `from` to `to` (with the columns in `patch`), or aborts the batch it is in:
 * the update names the status it expects (`WHERE status = ?`), and the statement after it
 * inserts a NULL id when the update changed nothing. So of a cancel and a send racing for a
 * pending payout exactly one moves it, and the ledger transfers and events batched after these
 * two statements are written only by the winner.
 */
export function transitionStatements(
	db: D1Database,
	input: { id: string; from: PayoutStatus; to: PayoutStatus; patch?: PayoutPatch; now: number },
): D1PreparedStatement[] {
	const patch = input.patch ?? {};
	const columns = PATCHABLE.filter((c) => patch[c] !== undefined);
	const sets = [
		"status = ?",
		"version = version + 1",
		"updated = ?",
		...columns.map((c) => `${c} = ?`),
	];
	return [
		db
			.prepare(`UPDATE payouts SET ${sets.join(", ")} WHERE id = ? AND status = ?`)
			.bind(input.to, input.now, ...columns.map((c) => patch[c] ?? null), input.id, input.from),
		// changes() is the row count of the statement before, in this batch's transaction.
		db.prepare("INSERT INTO payouts (id) SELECT NULL WHERE changes() = 0"),
	];
}

/**
 * Records a payout's new reversed amount, only if it is still at `fromVersion`: otherwise the
 * guard's NULL id aborts the batch these two statements lead (see `transitionStatements`).
 */
export function reversedAmountStatements(
	db: D1Database,
	next: Pick<PayoutRecord, "id" | "amount_reversed" | "version" | "updated">,
	fromVersion: number,
): D1PreparedStatement[] {
	return [
		db
			.prepare(
				"UPDATE payouts SET amount_reversed = ?, version = ?, updated = ? WHERE id = ? AND version = ?",
			)
			.bind(next.amount_reversed, next.version, next.updated, next.id, fromVersion),
		db.prepare("INSERT INTO payouts (id) SELECT NULL WHERE changes() = 0"),
	];
}

export async function payoutById(db: D1Database, id: string): Promise<PayoutRecord | null> {
	const row = await db.prepare("SELECT * FROM payouts WHERE id = ?").bind(id).first<PayoutRow>();
	return row ? toRecord(row) : null;
}

/** A merchant's payout in one mode; another merchant's (or mode's) is null, like an unknown id. */
export async function getPayout(
	db: D1Database,
	merchantId: string,
	livemode: boolean,
	id: string,
): Promise<PayoutRecord | null> {
	const row = await db
		.prepare("SELECT * FROM payouts WHERE id = ? AND merchant_id = ? AND livemode = ?")
		.bind(id, merchantId, livemode ? 1 : 0)
		.first<PayoutRow>();
	return row ? toRecord(row) : null;
}

export interface PayoutFilters {
	status?: PayoutStatus | undefined;
	destination?: string | undefined;
	currency?: string | undefined;
}

/** A page of a merchant's payouts, newest first (one index range on merchant, mode and id). */
export async function listPayouts(
	db: D1Database,
	merchantId: string,
	livemode: boolean,
	query: PageQuery,
	filters: PayoutFilters,
): Promise<Page<PayoutRecord>> {
	const page = await listPage<PayoutRow>(db, "payouts", { merchantId, livemode }, filters, query);
	return { data: page.data.map(toRecord), has_more: page.has_more };
}

/**
 * What payouts of this currency have reserved and not yet paid or reversed, both modes: funds
 * still in the settlement account that already belong to a payout on its way.
 */
export async function inTransitTotal(db: D1Database, currency: string): Promise<bigint> {
	const row = await db
		.prepare(
			"SELECT CAST(COALESCE(SUM(balance), 0) AS TEXT) AS total FROM ledger_balances WHERE account IN (?, ?)",
		)
		.bind(accounts.payoutsInTransit(false, currency), accounts.payoutsInTransit(true, currency))
		.first<{ total: string }>();
	return BigInt(row?.total ?? "0");
}

/** A merchant's available balance of one currency. */
export async function availableBalance(
	db: D1Database,
	merchantId: string,
	livemode: boolean,
	currency: string,
): Promise<bigint> {
	const row = await db
		.prepare("SELECT CAST(balance AS TEXT) AS balance FROM ledger_balances WHERE account = ?")
		.bind(accounts.merchantAvailable(merchantId, livemode, currency))
		.first<{ balance: string }>();
	return BigInt(row?.balance ?? "0");
}

/**
 * Up to 200 payouts with ids in [from, to) that may have stalled: pending ones, and Stripe
 * payouts still in transit.
 */
export async function stalledPayoutIds(
	db: D1Database,
	from: string,
	to: string,
): Promise<string[]> {
	const { results } = await db
		.prepare(
			`SELECT id FROM payouts WHERE status = 'pending' AND id >= ?1 AND id < ?2
			 UNION ALL
			 SELECT id FROM payouts WHERE status = 'in_transit' AND id >= ?1 AND id < ?2 AND method = 'stripe'
			 ORDER BY id LIMIT 200`,
		)
		.bind(from, to)
		.all<{ id: string }>();
	return results.map((r) => r.id);
}
