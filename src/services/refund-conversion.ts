/**
 * Refunding a converted payment, service part: before a succeeded crypto payment's price is
 * refunded, its conversion runs (idempotent, one per payment), so the refund always lands after
 * it, whichever of the two was asked for first. A completed conversion makes the refund a
 * converted one, priced at the current rates read here (refund-conversion.ts has the rules); a
 * failed or skipped one (the merchant keeps the token) leaves today's token refund.
 */

import { completedConversionOf } from "../db/conversions";
import { type Rational, rational, unitRate } from "../domain/fx";
import { currencyExponent } from "../domain/money";
import { type PaymentRecord, paidWith } from "../domain/payment";
import type { RefundFunds } from "../domain/refund";
import { type RefundConversionTerms, rateToText } from "../domain/refund-conversion";
import type { Env } from "../env";
import { ApiError } from "../lib/errors";
import { RateError } from "../processors/prices/rates";
import {
	classifyFailure,
	conversionSpreadBps,
	convertPayment,
	failConversion,
} from "./conversions";
import { type Asset, exchangeRate } from "./rates";
import { tokenCatalog } from "./tokens";

const unavailable = (what: string, err: unknown) =>
	new ApiError(
		"service_unavailable",
		`${what}: ${err instanceof Error ? err.message : String(err)}. Retry shortly.`,
	);

/**
 * The terms a refund of this payment is priced at, or null for a token refund. Runs the
 * payment's conversion first when it has not run yet. Throws a 503 ApiError when a rate (for the
 * conversion or for the refund) cannot be had now: nothing is created, the caller retries.
 */
export async function refundConversionTerms(
	env: Env,
	payment: PaymentRecord,
	params: { funds?: RefundFunds | undefined; method?: string | undefined },
	now: number = Math.floor(Date.now() / 1000),
): Promise<RefundConversionTerms | undefined> {
	const solana = payment.solana;
	// Only a crypto price the merchant was credited is ever converted; held funds stay tokens.
	if (
		payment.status !== "succeeded" ||
		!solana ||
		paidWith(payment) !== "solana" ||
		BigInt(solana.amount_received) <= 0n ||
		params.funds === "held" ||
		params.method === "card"
	) {
		return undefined;
	}
	try {
		await convertPayment(env, payment.id, now);
	} catch (err) {
		const failure = classifyFailure(err);
		if (err instanceof RateError && failure.retryable) {
			throw unavailable(`The payment's conversion has no current rate`, err);
		}
		if (failure.retryable) throw err;
		// Never possible (a settlement currency the gateway cannot deliver): recorded as the queue
		// would, so no later message converts what this refund returns in tokens.
		await failConversion(env, payment.id, failure, now);
	}
	const row = await completedConversionOf(env.DB, payment.id);
	if (!row) return undefined;

	const token: Asset = { kind: "token", symbol: solana.token, decimals: solana.decimals };
	const price: Asset = { kind: "fiat", currency: payment.currency };
	let target: Asset;
	let digits: number;
	if (row.to_token === null) {
		target = { kind: "fiat", currency: row.to_currency };
		digits = currencyExponent(row.to_currency);
	} else {
		const t = tokenCatalog(env).find((x) => x.symbol === row.to_token);
		if (!t) throw new Error(`Conversion ${row.id}: unknown settlement token ${row.to_token}`);
		target = { kind: "token", symbol: t.symbol, decimals: t.decimals };
		digits = t.decimals;
	}
	const samePrice = target.kind === "fiat" && target.currency === payment.currency;
	let tokenRate: Rational;
	let priceRate: Rational;
	const sources: string[] = [];
	const published: number[] = [];
	try {
		const [tokenLeg, priceLeg] = await Promise.all([
			exchangeRate(env, token, target, now),
			samePrice ? null : exchangeRate(env, price, target, now),
		]);
		tokenRate = unitRate(tokenLeg.rate, solana.decimals, digits);
		priceRate = priceLeg
			? unitRate(priceLeg.rate, currencyExponent(payment.currency), digits)
			: rational(1n);
		for (const leg of [tokenLeg, priceLeg]) {
			if (!leg) continue;
			sources.push(...leg.source.split("+").filter((s) => s !== ""));
			if (leg.publishTime !== null) published.push(leg.publishTime);
		}
	} catch (err) {
		if (err instanceof RateError) {
			throw unavailable(`No current ${solana.token}/${row.to_token ?? row.to_currency} rate`, err);
		}
		throw err;
	}
	return {
		conversion: row.id,
		settlement_currency: row.to_currency,
		settlement_token: row.to_token,
		settlement_digits: digits,
		token_rate: rateToText(tokenRate),
		price_rate: rateToText(priceRate),
		rate_source: [...new Set(sources)].join("+"),
		rate_published: published.length > 0 ? Math.min(...published) : null,
		spread_bps: conversionSpreadBps(env),
	};
}
