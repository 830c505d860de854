/**
 * The operator's report across merchants: per merchant, mode and currency, the payments created
 * in the period, how many succeeded and their volume, refunds that succeeded, the fees the
 * gateway earned and the spread it kept on conversions. Payments, refunds and conversions are
 * read by primary key range (their ids sort by creation time); fees from the gateway's fee
 * accounts by (account, created).
 */

import { merchantNames } from "../db/merchants";
import { operatorSums } from "../db/report-sources";
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
	const { payments, refunds, conversions, fees } = await operatorSums(
		env.DB,
		{ payment: ids("payment"), refund: ids("refund"), conversion: ids("conversion") },
		start,
		end,
	);
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
	for (const r of payments) {
		const l = line(r.merchant_id, r.livemode, r.currency);
		l.payments = r.payments;
		l.succeeded = r.succeeded;
		l.volume = BigInt(r.volume);
	}
	for (const r of refunds) {
		const l = line(r.merchant_id, r.livemode, r.currency);
		l.refunds = r.refunds;
		l.refunded = BigInt(r.refunded);
	}
	for (const r of conversions)
		line(r.merchant_id, r.livemode, r.currency).conversion_spread = BigInt(r.spread);
	for (const r of fees) line(r.merchant_id, r.livemode, r.currency).fees = BigInt(r.fees);

	const merchants = [...new Set([...lines.values()].map((l) => l.merchant))];
	const names = await merchantNames(env.DB, merchants);
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
