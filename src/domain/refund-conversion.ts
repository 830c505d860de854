/**
 * Refunding a converted payment, pure part. A crypto payment whose price the conversions queue
 * moved into the merchant's settlement currency is refunded in its price currency: the payer
 * gets the paid token back at the current rate, bought by the gateway's FX clearing, and the
 * merchant's settlement-currency balance pays for it, spread included.
 *
 * Money rules (every figure exact until it is rounded once, in the stated direction):
 *   value  = amount / amount_received × tokens paid × price / tokens quoted before the fee
 *            (the refunded share of everything the payer paid, the gateway fee included, at the
 *            rate the payer paid), in price-currency minor units;
 *   tokens = value at the current rate, rounded UP: the payer never gets less than the value;
 *   debit  = those tokens at the current rate in the settlement currency, rounded UP: FX
 *            clearing always receives at least what the tokens it pays out are worth;
 *   spread = spread_bps of that worth, rounded DOWN: never more than the stated spread.
 * The merchant's settlement balance is charged debit + spread; both roundings (under one
 * minor unit each) are the merchant's, who pays for the refund (src/domain/refund.ts).
 */
import { ceilDiv, formatRational, majorRate, multiply, type Rational, rational } from "./fx";
import { accounts, type Transfer } from "./ledger";
import type { PaymentRecord } from "./payment";
import type { RefundConversion, RefundRecord } from "./refund";

/** A rational as it travels and is stored: decimal strings. */
export interface RateText {
	numerator: string;
	denominator: string;
}

/**
 * What the gateway offers for a converted payment's refund, read when the refund is created and
 * carried in the refund request: the payment object prices the refund's amount with it, in the
 * same step that reserves that amount.
 */
export interface RefundConversionTerms {
	/** The payment's conversion (`conv_…`) whose currency the refund is taken from. */
	conversion: string;
	/** Ledger currency the conversion credited: "usd", or a token's mint. */
	settlement_currency: string;
	/** The settlement token's symbol when the settlement currency is a token, else null. */
	settlement_token: string | null;
	/** Digits of the settlement currency's smallest unit. */
	settlement_digits: number;
	/** Settlement smallest units per base unit of the paid token, now. */
	token_rate: RateText;
	/** Settlement smallest units per price-currency minor unit, now ("1"/"1" when they are one). */
	price_rate: RateText;
	rate_source: string;
	/** The oldest publication among the rates used, Unix seconds; null when none was needed. */
	rate_published: number | null;
	spread_bps: number;
}

/** Fiat amounts are integer minor units; token amounts decimal strings (as on conversions). */
type Amount = number | string;

export const MAX_REFUND_SPREAD_BPS = 1_000;

export function rateFromText(r: RateText): Rational {
	return rational(BigInt(r.numerator), BigInt(r.denominator));
}

export function rateToText(r: Rational): RateText {
	return { numerator: r.numerator.toString(), denominator: r.denominator.toString() };
}

export interface RefundConversionAmounts {
	/** Price-currency minor units the refund is worth to the payer, exactly. */
	value: Rational;
	tokens: bigint;
	debit: bigint;
	spread: bigint;
}

/**
 * The refund of `amount` (price-currency minor units) of a converted payment, by the rules in
 * this file's header. `paid`: token base units the payer paid towards the quote; `priceTokens`:
 * the quote's tokens before the fee; `received`: the price-currency amount those paid.
 */
export function refundConversionAmounts(input: {
	amount: number;
	price: number;
	received: number;
	paid: bigint;
	priceTokens: bigint;
	tokenRate: Rational;
	priceRate: Rational;
	spreadBps: number;
}): RefundConversionAmounts {
	const { amount, price, received, paid, priceTokens, tokenRate, priceRate, spreadBps } = input;
	for (const [name, v] of [
		["amount", amount],
		["price", price],
		["received", received],
	] as const) {
		if (!Number.isSafeInteger(v) || v <= 0) throw new RangeError(`${name} must be positive`);
	}
	if (paid <= 0n || priceTokens <= 0n) throw new RangeError("token amounts must be positive");
	if (!Number.isSafeInteger(spreadBps) || spreadBps < 0 || spreadBps > MAX_REFUND_SPREAD_BPS) {
		throw new RangeError(`spread must be an integer from 0 to ${MAX_REFUND_SPREAD_BPS} bps`);
	}
	const value = rational(BigInt(amount) * paid * BigInt(price), BigInt(received) * priceTokens);
	// value in settlement units ÷ settlement units per token base unit, rounded up.
	const inSettlement = multiply(value, priceRate);
	const tokens = ceilDiv(
		inSettlement.numerator * tokenRate.denominator,
		inSettlement.denominator * tokenRate.numerator,
	);
	const worth = multiply(rational(tokens), tokenRate);
	const debit = ceilDiv(worth.numerator, worth.denominator);
	const spread = (worth.numerator * BigInt(spreadBps)) / (worth.denominator * 10_000n);
	return { value, tokens, debit, spread };
}

/** The refund's record of its conversion, from the terms and the amount the payment planned. */
export function quoteRefundConversion(
	terms: RefundConversionTerms,
	input: {
		amount: number;
		price: number;
		received: number;
		paid: bigint;
		priceTokens: bigint;
		tokenDecimals: number;
	},
): RefundConversion {
	const tokenRate = rateFromText(terms.token_rate);
	const amounts = refundConversionAmounts({
		...input,
		tokenRate,
		priceRate: rateFromText(terms.price_rate),
		spreadBps: terms.spread_bps,
	});
	// Fiat figures are numbers on the wire, token figures strings: the conversion's convention.
	const figure = (v: bigint): Amount =>
		terms.settlement_token === null ? Number(v) : v.toString();
	return {
		payment_conversion: terms.conversion,
		settlement_currency: terms.settlement_currency,
		settlement_token: terms.settlement_token,
		debit: figure(amounts.debit),
		spread_bps: terms.spread_bps,
		spread: figure(amounts.spread),
		tokens: amounts.tokens.toString(),
		rate: formatRational(majorRate(tokenRate, input.tokenDecimals, terms.settlement_digits), 12),
		rate_source: terms.rate_source,
		rate_published: terms.rate_published,
	};
}

/**
 * A succeeded converted refund in the ledger, balanced per currency: the merchant's settlement
 * balance pays the tokens' worth to FX clearing and the spread to the gateway's fees; FX
 * clearing pays the tokens out to the settlement wallet's account, which they leave on chain.
 * The id derives from the refund's, like every refund's transfer.
 */
export function convertedRefundTransfer(
	p: Pick<PaymentRecord, "id" | "merchant_id" | "livemode">,
	r: Pick<RefundRecord, "id" | "solana">,
	c: RefundConversion,
	now: number,
): Transfer {
	const token = r.solana?.mint ?? "sol";
	const settle = c.settlement_currency;
	const tokens = BigInt(c.tokens);
	const debit = BigInt(c.debit);
	const spread = BigInt(c.spread);
	const legs: [string, string, bigint][] = [
		[accounts.merchantAvailable(p.merchant_id, p.livemode, settle), settle, -(debit + spread)],
		[accounts.fxClearing(p.livemode, settle), settle, debit],
		[accounts.gatewayFees(p.livemode, settle), settle, spread],
		[accounts.fxClearing(p.livemode, token), token, -tokens],
		[accounts.settlement(p.livemode, "solana", token), token, tokens],
	];
	return {
		id: `${r.id}:refund`,
		kind: "refund",
		reference: p.id,
		livemode: p.livemode,
		created: now,
		postings: legs
			.filter(([, , amount]) => amount !== 0n)
			.map(([account, currency, amount]) => ({ account, currency, amount })),
	};
}
