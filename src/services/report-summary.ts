/**
 * The operator's report across merchants: per merchant, mode and currency, the payments created
 * in the period, how many succeeded and their volume, refunds that succeeded, the fees the
 * gateway earned and the spread it kept on conversions. Payments, refunds and conversions are
 * read by primary key range (their ids sort by creation time); fees from the gateway's fee
 * accounts by (account, created).
 */

import { lowestIdAt } from "../domain/ids";
import { formatUnits, periodBounds, toCsv } from "../domain/reports";
import type { Env } from "../env";
import { digitsResolver } from "./report-data";

export interface SummaryLine {
	merchant: string;
	merchant_name: string | null;
	livemode: boolean;
	currency: string;
	payments: number;
	succeeded: number;
	volume: bigint;
	refunds: number;
	refunded: bigint;
	fees: bigint;
	conversion_spread: bigint;
}

type Key = string;
const keyOf = (merchant: string, livemode: number | boolean, currency: string): Key =>
	`${merchant}\u0000${livemode ? 1 : 0}\u0000${currency}`;

export async function summaryLines(env: Env, from: string, to: string): Promise<SummaryLine[]> {
	const { start, end } = periodBounds(from, to);
	const ids = (kind: "payment" | "refund" | "conversion") => [
		lowestIdAt(kind, start * 1000),
		lowestIdAt(kind, end * 1000),
	];
	const [payments, refunds, conversions, fees] = await env.DB.batch([
		env.DB.prepare(
			`SELECT merchant_id, livemode, currency, COUNT(*) AS payments,
			   SUM(status = 'succeeded') AS succeeded,
			   CAST(SUM(CASE WHEN status = 'succeeded' THEN amount ELSE 0 END) AS TEXT) AS volume
			 FROM payments WHERE id >= ? AND id < ? GROUP BY merchant_id, livemode, currency`,
		).bind(...ids("payment")),
		env.DB.prepare(
			`SELECT merchant_id, livemode, currency, COUNT(*) AS refunds,
			   CAST(SUM(COALESCE(amount, 0)) AS TEXT) AS refunded
			 FROM refunds WHERE id >= ? AND id < ? AND status = 'succeeded'
			 GROUP BY merchant_id, livemode, currency`,
		).bind(...ids("refund")),
		env.DB.prepare(
			`SELECT merchant_id, livemode, to_currency AS currency,
			   CAST(SUM(CAST(fee AS INTEGER)) AS TEXT) AS spread
			 FROM conversions WHERE id >= ? AND id < ? AND status = 'completed'
			 GROUP BY merchant_id, livemode, to_currency`,
		).bind(...ids("conversion")),
		// Fee postings name no merchant: their transfer's reference is the payment, which does.
		env.DB.prepare(
			`SELECT pay.merchant_id AS merchant_id, t.livemode AS livemode, g.currency AS currency,
			   CAST(SUM(g.amount) AS TEXT) AS fees
			 FROM ledger_postings g
			 JOIN ledger_transfers t ON t.id = g.transfer_id
			 JOIN payments pay ON pay.id = t.reference
			 WHERE ((g.account >= 'live:gateway:fees:' AND g.account < 'live:gateway:fees;')
			     OR (g.account >= 'test:gateway:fees:' AND g.account < 'test:gateway:fees;'))
			   AND g.created >= ? AND g.created < ? AND t.kind <> 'conversion'
			 GROUP BY pay.merchant_id, t.livemode, g.currency`,
		).bind(start, end),
	]);
	const lines = new Map<Key, SummaryLine>();
	const line = (merchant: string, livemode: number, currency: string) => {
		const key = keyOf(merchant, livemode, currency);
		let l = lines.get(key);
		if (!l) {
			l = {
				merchant,
				merchant_name: null,
				livemode: livemode === 1,
				currency,
				payments: 0,
				succeeded: 0,
				volume: 0n,
				refunds: 0,
				refunded: 0n,
				fees: 0n,
				conversion_spread: 0n,
			};
			lines.set(key, l);
		}
		return l;
	};
	type Base = { merchant_id: string; livemode: number; currency: string };
	for (const r of (payments?.results ?? []) as (Base & {
		payments: number;
		succeeded: number;
		volume: string;
	})[]) {
		const l = line(r.merchant_id, r.livemode, r.currency);
		l.payments = r.payments;
		l.succeeded = r.succeeded;
		l.volume = BigInt(r.volume);
	}
	for (const r of (refunds?.results ?? []) as (Base & { refunds: number; refunded: string })[]) {
		const l = line(r.merchant_id, r.livemode, r.currency);
		l.refunds = r.refunds;
		l.refunded = BigInt(r.refunded);
	}
	for (const r of (conversions?.results ?? []) as (Base & { spread: string })[])
		line(r.merchant_id, r.livemode, r.currency).conversion_spread = BigInt(r.spread);
	for (const r of (fees?.results ?? []) as (Base & { fees: string })[])
		line(r.merchant_id, r.livemode, r.currency).fees = BigInt(r.fees);

	const merchants = [...new Set([...lines.values()].map((l) => l.merchant))];
	const names = new Map<string, string>();
	// Bound the statement's parameters (D1 allows 100 per statement).
	for (let i = 0; i < merchants.length; i += 90) {
		const chunk = merchants.slice(i, i + 90);
		const { results } = await env.DB.prepare(
			`SELECT id, name FROM merchants WHERE id IN (${chunk.map(() => "?").join(", ")})`,
		)
			.bind(...chunk)
			.all<{ id: string; name: string }>();
		for (const r of results) names.set(r.id, r.name);
	}
	return [...lines.values()]
		.map((l) => ({ ...l, merchant_name: names.get(l.merchant) ?? null }))
		.sort((a, b) => {
			const ka = keyOf(a.merchant, a.livemode, a.currency);
			const kb = keyOf(b.merchant, b.livemode, b.currency);
			return ka < kb ? -1 : ka > kb ? 1 : 0;
		});
}

/** Amounts per currency as decimal integer strings of the smallest unit. */
export type AmountsByCurrency = Record<string, string>;

export interface MerchantSummary {
	merchant: string;
	merchant_name: string | null;
	livemode: boolean;
	payments: number;
	succeeded: number;
	volume: AmountsByCurrency;
	refunds: number;
	refunded: AmountsByCurrency;
	fees: AmountsByCurrency;
	conversion_spread: AmountsByCurrency;
}

/** The JSON form: one entry per merchant and mode, amounts per currency (zeros left out). */
export function summaryByMerchant(lines: SummaryLine[]): MerchantSummary[] {
	const out = new Map<string, MerchantSummary>();
	for (const l of lines) {
		const key = `${l.merchant}\u0000${l.livemode}`;
		let m = out.get(key);
		if (!m) {
			m = {
				merchant: l.merchant,
				merchant_name: l.merchant_name,
				livemode: l.livemode,
				payments: 0,
				succeeded: 0,
				volume: {},
				refunds: 0,
				refunded: {},
				fees: {},
				conversion_spread: {},
			};
			out.set(key, m);
		}
		m.payments += l.payments;
		m.succeeded += l.succeeded;
		m.refunds += l.refunds;
		for (const field of ["volume", "refunded", "fees", "conversion_spread"] as const)
			if (l[field] !== 0n) m[field][l.currency] = l[field].toString();
	}
	return [...out.values()];
}

export const SUMMARY_COLUMNS = [
	"merchant",
	"merchant_name",
	"mode",
	"currency",
	"payments",
	"succeeded",
	"volume",
	"volume_decimal",
	"refunds",
	"refunded",
	"refunded_decimal",
	"fees",
	"fees_decimal",
	"conversion_spread",
	"conversion_spread_decimal",
] as const;

/** The CSV form: one line per merchant, mode and currency. */
export function summaryCsv(env: Env, lines: SummaryLine[]): string {
	const digitsOf = digitsResolver(env);
	return toCsv(
		SUMMARY_COLUMNS,
		lines.map((l) => {
			const digits = digitsOf(l.currency);
			const dec = (v: bigint) => (digits === null ? null : formatUnits(v, digits));
			return [
				l.merchant,
				l.merchant_name,
				l.livemode ? "live" : "test",
				l.currency,
				l.payments,
				l.succeeded,
				l.volume,
				dec(l.volume),
				l.refunds,
				l.refunded,
				dec(l.refunded),
				l.fees,
				dec(l.fees),
				l.conversion_spread,
				dec(l.conversion_spread),
			];
		}),
	);
}
