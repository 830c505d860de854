/**
 * What reports read from D1. Every read is an index range: payments, refunds and conversions by
 * (merchant, mode, id) with ids bounded by the period (ids sort by creation time), ledger
 * postings by (account, created).
 */
import { balancesByPrefix } from "../db/ledger";
import { type IdKind, lowestIdAt } from "../domain/ids";
import { accounts, type TransferKind } from "../domain/ledger";
import { currencyExponent, isSupportedCurrency } from "../domain/money";
import type { PaymentObjectJson } from "../domain/payment";
import type { RefundJson } from "../domain/refund";
import {
	type ConversionFields,
	conversionRow,
	type DigitsOf,
	type PayoutFields,
	paymentRow,
	payoutRows,
	refundRow,
	type TransactionRow,
} from "../domain/report-rows";
import { periodBounds } from "../domain/reports";
import {
	balancesAt,
	computeSettlement,
	type GatewayFeeSum,
	type MovementSum,
	type PayoutStatusSum,
	type SettlementLine,
} from "../domain/settlement";
import type { Env } from "../env";
import { tokenCatalog } from "./tokens";

export interface Scope {
	merchantId: string;
	livemode: boolean;
	from: string;
	to: string;
}

/** Digits of every ledger currency a report can meet: ISO fiat, SOL, configured mints. */
export function digitsResolver(env: Env): DigitsOf {
	const tokens = new Map<string, number>([["sol", 9]]);
	for (const t of tokenCatalog(env)) if (t.mint) tokens.set(t.mint, t.decimals);
	return (currency) =>
		isSupportedCurrency(currency) ? currencyExponent(currency) : (tokens.get(currency) ?? null);
}

function idRange(kind: IdKind, scope: Scope): [string, string] {
	const { start, end } = periodBounds(scope.from, scope.to);
	return [lowestIdAt(kind, start * 1000), lowestIdAt(kind, end * 1000)];
}

const SOURCES = [
	{ table: "payments", kind: "payment", columns: "id, data" },
	{ table: "refunds", kind: "refund", columns: "id, data" },
	{ table: "conversions", kind: "conversion", columns: "*" },
	{ table: "payouts", kind: "payout", columns: "*" },
] as const;

/** Rows a transactions report of the scope would hold (for choosing inline or queued work). */
export async function countTransactions(env: Env, scope: Scope): Promise<number> {
	const results = await env.DB.batch(
		SOURCES.map((s) => {
			const [low, high] = idRange(s.kind, scope);
			return env.DB.prepare(
				`SELECT COUNT(*) AS n FROM ${s.table} WHERE merchant_id = ? AND livemode = ? AND id >= ? AND id < ?`,
			).bind(scope.merchantId, scope.livemode ? 1 : 0, low, high);
		}),
	);
	return results.reduce((sum, r) => sum + ((r.results[0] as { n: number } | undefined)?.n ?? 0), 0);
}

/** Rows read per query: bounded memory and query time however large the period. */
const PAGE = 500;

/**
 * Every transaction of the scope, payments then refunds then conversions then payouts, each oldest first,
 * read a page at a time so a report of a million rows never holds them all.
 */
export async function* transactionRows(
	env: Env,
	scope: Scope,
	digitsOf: DigitsOf,
): AsyncGenerator<TransactionRow> {
	for (const source of SOURCES) {
		const [low, high] = idRange(source.kind, scope);
		let after = low;
		let inclusive = true;
		for (;;) {
			const { results } = await env.DB.prepare(
				`SELECT ${source.columns} FROM ${source.table}
				 WHERE merchant_id = ? AND livemode = ? AND id ${inclusive ? ">=" : ">"} ? AND id < ?
				 ORDER BY id LIMIT ?`,
			)
				.bind(scope.merchantId, scope.livemode ? 1 : 0, after, high, PAGE)
				.all<Record<string, unknown> & { id: string }>();
			for (const row of results) {
				if (source.kind === "payment")
					yield paymentRow(JSON.parse(row.data as string) as PaymentObjectJson);
				else if (source.kind === "refund")
					yield refundRow(JSON.parse(row.data as string) as RefundJson);
				else if (source.kind === "payout") yield* payoutRows(row as unknown as PayoutFields);
				else yield conversionRow(row as unknown as ConversionFields, digitsOf);
			}
			if (results.length < PAGE) break;
			after = (results[results.length - 1] as { id: string }).id;
			inclusive = false;
		}
	}
}

/** Sums per currency from rows of decimal text. */
function sums(rows: { currency: string; total: string }[]): Map<string, bigint> {
	const out = new Map<string, bigint>();
	for (const r of rows) out.set(r.currency, (out.get(r.currency) ?? 0n) + BigInt(r.total));
	return out;
}

/** Accounts named one by one in a statement: the fee query adds four parameters to D1's 100. */
const MAX_LISTED_ACCOUNTS = 90;

/** The half-open account-name range of a prefix (';' follows ':'). */
function prefixRange(prefix: string): [string, string] {
	return [prefix, `${prefix.slice(0, -1)};`];
}

export interface SettlementData {
	lines: SettlementLine[];
	/** Where the opening balances came from. */
	opening_source: { report: string } | "ledger";
}

/**
 * A settlement statement of the scope. The opening balances are the closing balances of the
 * settlement report that ended the day before, when there is one; otherwise today's balances
 * minus everything posted since the period began (postings since then, not all history). The
 * ledger's balance at the period's end is computed the same way from today's balances, apart
 * from the movements, so `opening + movements = closing` is checked against it.
 */
export async function settlementData(
	env: Env,
	scope: Scope,
	previousClosing: { report: string; balances: Map<string, bigint> } | null,
): Promise<SettlementData> {
	const { start, end } = periodBounds(scope.from, scope.to);
	const current = await balancesByPrefix(
		env.DB,
		accounts.merchantPrefix(scope.merchantId, scope.livemode),
	);
	const accountNames = current.map((a) => a.account);
	if (accountNames.length === 0) {
		return {
			lines: computeSettlement({
				opening: previousClosing?.balances ?? new Map(),
				movements: [],
				gatewayFees: [],
				ledgerClosing: new Map(),
			}),
			opening_source: previousClosing ? { report: previousClosing.report } : "ledger",
		};
	}
	// One index seek per account; past D1's 100 bound parameters a statement allows, the merchant's
	// account-name range instead (the same rows, read along the whole range of the index).
	const [low, high] = prefixRange(accounts.merchantPrefix(scope.merchantId, scope.livemode));
	const few = accountNames.length <= MAX_LISTED_ACCOUNTS;
	const inAccounts = (column: string) =>
		few
			? `${column} IN (${accountNames.map(() => "?").join(", ")})`
			: `${column} >= ? AND ${column} < ?`;
	const names = few ? accountNames : [low, high];
	const [feeLow, feeHigh] = prefixRange(accounts.gatewayFees(scope.livemode, ""));
	// One batch: D1 runs it as one transaction, so every sum sees the same postings.
	const [settleLow, settleHigh] = prefixRange(
		accounts.settlement(scope.livemode, "", "").slice(0, -1),
	);
	const [transitLow, transitHigh] = prefixRange(accounts.payoutsInTransit(scope.livemode, ""));
	const [afterStart, afterEnd, movements, fees, balances, payouts] = await env.DB.batch([
		env.DB.prepare(
			`SELECT currency, CAST(SUM(amount) AS TEXT) AS total FROM ledger_postings
			 WHERE ${inAccounts("account")} AND created >= ? GROUP BY currency`,
		).bind(...names, start),
		env.DB.prepare(
			`SELECT currency, CAST(SUM(amount) AS TEXT) AS total FROM ledger_postings
			 WHERE ${inAccounts("account")} AND created >= ? GROUP BY currency`,
		).bind(...names, end),
		env.DB.prepare(
			`SELECT t.kind AS kind, p.currency AS currency,
			   CAST(SUM(CASE WHEN p.amount > 0 THEN p.amount ELSE 0 END) AS TEXT) AS credits,
			   CAST(SUM(CASE WHEN p.amount < 0 THEN p.amount ELSE 0 END) AS TEXT) AS debits
			 FROM ledger_postings p JOIN ledger_transfers t ON t.id = p.transfer_id
			 WHERE ${inAccounts("p.account")} AND p.created >= ? AND p.created < ?
			 GROUP BY t.kind, p.currency`,
		).bind(...names, start, end),
		env.DB.prepare(
			`SELECT t.kind AS kind, g.currency AS currency, CAST(SUM(g.amount) AS TEXT) AS amount
			 FROM ledger_postings g JOIN ledger_transfers t ON t.id = g.transfer_id
			 WHERE g.account >= ? AND g.account < ? AND g.transfer_id IN (
			   SELECT transfer_id FROM ledger_postings
			   WHERE ${inAccounts("account")} AND created >= ? AND created < ?)
			 GROUP BY t.kind, g.currency`,
		).bind(feeLow, feeHigh, ...names, start, end),
		// Read again inside the transaction: the balances the sums above are subtracted from.
		env.DB.prepare(
			`SELECT currency, CAST(SUM(balance) AS TEXT) AS total FROM ledger_balances
			 WHERE ${inAccounts("account")} GROUP BY currency`,
		).bind(...names),
		// The merchant's payouts (by its index) until the period's end: what their transfers paid
		// into a settlement account in the period, and what they left in transit at its end.
		env.DB.prepare(
			`SELECT p.currency AS currency,
			   CAST(COALESCE(SUM(CASE WHEN p.account >= ?1 AND p.account < ?2 AND p.created >= ?5
			     THEN p.amount ELSE 0 END), 0) AS TEXT) AS paid,
			   CAST(COALESCE(SUM(CASE WHEN p.account >= ?3 AND p.account < ?4
			     THEN p.amount ELSE 0 END), 0) AS TEXT) AS in_transit
			 FROM payouts po
			 JOIN ledger_transfers t ON t.reference = po.id AND t.kind = 'payout'
			 JOIN ledger_postings p ON p.transfer_id = t.id
			 WHERE po.merchant_id = ?7 AND po.livemode = ?8 AND po.id < ?9 AND p.created < ?6
			 GROUP BY p.currency`,
		).bind(
			settleLow,
			settleHigh,
			transitLow,
			transitHigh,
			start,
			end,
			scope.merchantId,
			scope.livemode ? 1 : 0,
			lowestIdAt("payout", end * 1000),
		),
	]);
	type Total = { currency: string; total: string };
	const now = sums((balances?.results ?? []) as Total[]);
	const opening =
		previousClosing?.balances ?? balancesAt(now, sums((afterStart?.results ?? []) as Total[]));
	const ledgerClosing = balancesAt(now, sums((afterEnd?.results ?? []) as Total[]));
	const moves = (
		(movements?.results ?? []) as {
			kind: TransferKind;
			currency: string;
			credits: string;
			debits: string;
		}[]
	).map(
		(m): MovementSum => ({
			kind: m.kind,
			currency: m.currency,
			credits: BigInt(m.credits),
			debits: BigInt(m.debits),
		}),
	);
	const gatewayFees = (
		(fees?.results ?? []) as { kind: TransferKind; currency: string; amount: string }[]
	).map((f): GatewayFeeSum => ({ kind: f.kind, currency: f.currency, amount: BigInt(f.amount) }));
	const payoutStatus = (
		(payouts?.results ?? []) as { currency: string; paid: string; in_transit: string }[]
	).map(
		(r): PayoutStatusSum => ({
			currency: r.currency,
			paid: BigInt(r.paid),
			inTransit: BigInt(r.in_transit),
		}),
	);
	return {
		lines: computeSettlement({
			opening,
			movements: moves,
			gatewayFees,
			ledgerClosing,
			payoutStatus,
		}),
		opening_source: previousClosing ? { report: previousClosing.report } : "ledger",
	};
}
