/**
 * Cross-border card payments presented in the payer's currency, pure part. The payer's card is
 * charged the price converted at the current rate plus the gateway's spread; the merchant is
 * owed the price in its own currency. The charged amount is rounded up once (less than one
 * minor unit), and Stripe's amounts, which are in the payer's currency, are read back into the
 * price currency at the same terms.
 */
import type { CardPresentment, StripeIntentSnapshot } from "./card-details";
import { formatRational, MAX_SPREAD_BPS, type Rational, unitRate } from "./fx";
import { currencyExponent, MAX_MINOR_UNITS } from "./money";

/**
 * The card charge for `amount` of `currency` presented in `payerCurrency`, at `rate` (payer
 * currency units per one price currency unit) plus `spreadBps`. Null when the currencies are the
 * same or the converted amount would exceed the API's maximum.
 */
export function cardPresentment(input: {
	amount: number;
	currency: string;
	payerCurrency: string;
	rate: Rational;
	spreadBps: number;
}): CardPresentment | null {
	const { amount, currency, payerCurrency, rate, spreadBps } = input;
	if (currency === payerCurrency) return null;
	if (!Number.isSafeInteger(amount) || amount <= 0) throw new RangeError("amount must be positive");
	if (!Number.isSafeInteger(spreadBps) || spreadBps < 0 || spreadBps > MAX_SPREAD_BPS) {
		throw new RangeError(`spread must be an integer from 0 to ${MAX_SPREAD_BPS} bps`);
	}
	const unit = unitRate(rate, currencyExponent(currency), currencyExponent(payerCurrency));
	// value = amount × unit exactly; the merchant's part is the value rounded up, the total is
	// value × (1 + spread) rounded up, and the fee is the difference (never negative).
	const n = BigInt(amount) * unit.numerator;
	const d = unit.denominator;
	const converted = (n + d - 1n) / d;
	const totalDen = d * 10_000n;
	const total = (n * (10_000n + BigInt(spreadBps)) + totalDen - 1n) / totalDen;
	if (total > BigInt(MAX_MINOR_UNITS)) return null;
	return {
		currency: payerCurrency,
		amount: Number(total),
		rate: formatRational(rate, 8),
		fee: Number(total - converted),
		spread_bps: spreadBps,
		price_amount: amount,
		price_currency: currency,
	};
}

/** Intent metadata carrying the presentment, so every later read of the intent knows it. */
export function presentmentMetadata(p: CardPresentment): Record<string, string> {
	return {
		presentment_currency: p.currency,
		presentment_amount: String(p.amount),
		presentment_rate: p.rate,
		presentment_fee: String(p.fee),
		presentment_spread_bps: String(p.spread_bps),
		price_amount: String(p.price_amount),
		price_currency: p.price_currency,
	};
}

const INTEGER = /^(?:0|[1-9][0-9]{0,14})$/;

/** The presentment recorded in an intent's metadata, or null when it has none (or it is bad). */
export function presentmentFromMetadata(
	metadata: Record<string, string> | null | undefined,
): CardPresentment | null {
	if (!metadata) return null;
	const {
		presentment_currency: currency,
		presentment_amount: amount,
		presentment_rate: rate,
		presentment_fee: fee,
		presentment_spread_bps: spread,
		price_amount: priceAmount,
		price_currency: priceCurrency,
	} = metadata;
	if (
		currency === undefined ||
		priceCurrency === undefined ||
		rate === undefined ||
		![amount, fee, spread, priceAmount].every((v) => v !== undefined && INTEGER.test(v)) ||
		Number(amount) <= 0 ||
		Number(priceAmount) <= 0
	) {
		return null;
	}
	return {
		currency,
		amount: Number(amount),
		rate,
		fee: Number(fee),
		spread_bps: Number(spread),
		price_amount: Number(priceAmount),
		price_currency: priceCurrency,
	};
}

/**
 * Payer-currency minor units back into the price currency, proportionally to the presented
 * charge: the whole charge is exactly the price; a part is rounded in the merchant's favour
 * (up for money received, down for money going back or fees).
 */
export function toPriceAmount(p: CardPresentment, presented: number, round: "up" | "down"): number {
	if (presented === p.amount) return p.price_amount;
	const n = BigInt(presented) * BigInt(p.price_amount);
	const d = BigInt(p.amount);
	const value = round === "up" ? (n + d - 1n) / d : n / d;
	return Number(value < BigInt(p.price_amount) ? value : BigInt(p.price_amount));
}

/** Price-currency minor units to capture, in the payer's currency (never past the charge). */
export function toPresentedAmount(p: CardPresentment, price: number): number {
	if (price === p.price_amount) return p.amount;
	const n = BigInt(price) * BigInt(p.amount);
	const d = BigInt(p.price_amount);
	const value = (n + d - 1n) / d;
	return Number(value < BigInt(p.amount) ? value : BigInt(p.amount));
}

/**
 * A Stripe snapshot of a presented intent, in the payment's own currency, with the presentment
 * attached. `feeCurrency` is the currency of Stripe's balance transaction: its fee is translated
 * only when it is in the payer's currency. Snapshots of other intents pass through unchanged.
 */
export function snapshotInPriceCurrency(
	snapshot: StripeIntentSnapshot,
	presentment: CardPresentment | null,
	feeCurrency: string | null,
): StripeIntentSnapshot {
	if (!presentment || snapshot.currency !== presentment.currency) return snapshot;
	const up = (v: number) => toPriceAmount(presentment, v, "up");
	const down = (v: number) => toPriceAmount(presentment, v, "down");
	const charge = snapshot.charge;
	return {
		...snapshot,
		amount: presentment.price_amount,
		currency: presentment.price_currency,
		amount_capturable: up(snapshot.amount_capturable),
		amount_received: up(snapshot.amount_received),
		charge: charge
			? {
					...charge,
					amount_refunded: down(charge.amount_refunded),
					fee:
						charge.fee !== null && feeCurrency === presentment.currency
							? down(charge.fee)
							: charge.fee,
				}
			: null,
		presentment,
	};
}
