/**
 * What reports read from D1. Every read is an index range: payments, refunds and conversions by
 * (merchant, mode, id) with ids bounded by the period (ids sort by creation time), ledger
 * postings by (account, created).
 */
import { balancesByPrefix, settlementSums } from "../db/ledger";
import { countInIdRanges, SOURCES, sourcePage } from "../db/report-sources";
import { type IdKind, lowestIdAt } from "../domain/ids";
import { accounts } from "../domain/ledger";
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

/** Rows a transactions report of the scope would hold (for choosing inline or queued work). */
export async function countTransactions(env: Env, scope: Scope): Promise<number> {
	return countInIdRanges(env.DB, scope, (kind) => idRange(kind, scope));
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
			const results = await sourcePage(env.DB, source, scope, { after, inclusive, high }, PAGE);
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
	const [feeLow, feeHigh] = prefixRange(accounts.gatewayFees(scope.livemode, ""));
	const [settleLow, settleHigh] = prefixRange(
		accounts.settlement(scope.livemode, "", "").slice(0, -1),
	);
	const [transitLow, transitHigh] = prefixRange(accounts.payoutsInTransit(scope.livemode, ""));
	const { afterStart, afterEnd, movements, fees, balances, payouts } = await settlementSums(
		env.DB,
		{
			accounts: few ? { names: accountNames } : { range: [low, high] },
			start,
			end,
			gatewayFees: [feeLow, feeHigh],
			settlement: [settleLow, settleHigh],
			inTransit: [transitLow, transitHigh],
			merchantId: scope.merchantId,
			livemode: scope.livemode,
			payoutsBefore: lowestIdAt("payout", end * 1000),
		},
	);
	const now = sums(balances);
	const opening = previousClosing?.balances ?? balancesAt(now, sums(afterStart));
	const ledgerClosing = balancesAt(now, sums(afterEnd));
	const moves = movements.map(
		(m): MovementSum => ({
			kind: m.kind,
			currency: m.currency,
			credits: BigInt(m.credits),
			debits: BigInt(m.debits),
		}),
	);
	const gatewayFees = fees.map(
		(f): GatewayFeeSum => ({ kind: f.kind, currency: f.currency, amount: BigInt(f.amount) }),
	);
	const payoutStatus = payouts.map(
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
