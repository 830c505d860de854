/**
 * Currency conversion, pure part: exact rationals, converting an amount at a rate with a spread,
 * and the ledger transfer of a conversion. Every amount is a bigint of the smallest unit (minor
 * units for fiat, base units for tokens); rounding happens once per figure and is stated.
 */
import type { ExactRate } from "./conversion";
import { reduceRate } from "./conversion";
import { accounts, modeOf, type Transfer } from "./ledger";

/** A positive rational, numerator / denominator, in lowest terms. */
export type Rational = ExactRate;

export function rational(numerator: bigint, denominator: bigint = 1n): Rational {
	return reduceRate(numerator, denominator);
}

export function multiply(a: Rational, b: Rational): Rational {
	return rational(a.numerator * b.numerator, a.denominator * b.denominator);
}

export function inverse(a: Rational): Rational {
	return rational(a.denominator, a.numerator);
}

export function divide(a: Rational, b: Rational): Rational {
	return multiply(a, inverse(b));
}

/** mantissa × 10^expo, exactly (a Pyth price, a reference rate read losslessly). */
export function decimalRational(mantissa: bigint, expo: number): Rational {
	if (!Number.isInteger(expo) || Math.abs(expo) > 64) throw new RangeError("exponent out of range");
	return expo >= 0
		? rational(mantissa * 10n ** BigInt(expo))
		: rational(mantissa, 10n ** BigInt(-expo));
}

/** Exact decimal text of a rational; past `maxPlaces` digits it is rounded half up. */
export function formatRational(r: Rational, maxPlaces = 12): string {
	const scale = 10n ** BigInt(maxPlaces);
	const scaled = (r.numerator * scale * 2n + r.denominator) / (r.denominator * 2n);
	const digits = scaled.toString().padStart(maxPlaces + 1, "0");
	const whole = digits.slice(0, digits.length - maxPlaces);
	const fraction = digits.slice(digits.length - maxPlaces).replace(/0+$/, "");
	return fraction === "" ? whole : `${whole}.${fraction}`;
}

/** Parses "0.92593" (plain decimal, positive) into an exact rational. */
export function parseRational(text: string): Rational {
	const m = /^(0|[1-9][0-9]{0,30})(?:\.([0-9]{1,30}))?$/.exec(text);
	if (m === null) throw new RangeError(`not a plain decimal: ${text.slice(0, 40)}`);
	const fraction = m[2] ?? "";
	return rational(BigInt((m[1] ?? "") + fraction), 10n ** BigInt(fraction.length));
}

function floorDiv(n: bigint, d: bigint): bigint {
	return n / d;
}

/** n / d rounded up, for non-negative n and positive d. */
export function ceilDiv(n: bigint, d: bigint): bigint {
	return (n + d - 1n) / d;
}

/**
 * A major-unit rate (quote units per one base unit: 150 dollars per SOL) as smallest units per
 * smallest unit (cents per lamport: 150 × 10^2 / 10^9).
 */
export function unitRate(major: Rational, baseDigits: number, quoteDigits: number): Rational {
	return multiply(major, rational(10n ** BigInt(quoteDigits), 10n ** BigInt(baseDigits)));
}

/** The other way round: smallest-unit rate back to a major-unit rate, for display. */
export function majorRate(unit: Rational, baseDigits: number, quoteDigits: number): Rational {
	return multiply(unit, rational(10n ** BigInt(baseDigits), 10n ** BigInt(quoteDigits)));
}

/**
 * Smallest units of the price currency per token base unit, from rationals: US dollars per
 * token and, for another currency, that currency's units per US dollar. The same value
 * conversion.ts composeTokenRate builds from oracle mantissas.
 */
export function tokenRateFromRationals(input: {
	tokenUsd: Rational;
	tokenDecimals: number;
	currencyExponent: number;
	currencyPerUsd?: Rational;
}): Rational {
	const major = input.currencyPerUsd
		? multiply(input.tokenUsd, input.currencyPerUsd)
		: input.tokenUsd;
	return unitRate(major, input.tokenDecimals, input.currencyExponent);
}

export const MAX_SPREAD_BPS = 1_000;

/** What converting an amount yields, every figure in the target's smallest unit. */
export interface ConversionAmounts {
	/** The amount's value at the rate, rounded down: what FX clearing pays out. */
	gross: bigint;
	/** The spread, rounded down: the gateway never takes more than the stated spread. */
	fee: bigint;
	/** What the merchant receives: (value − spread) rounded up, at most one unit in its favour. */
	amount: bigint;
	/** amount + fee − gross (0 or 1): the rounding the gateway bears, posted to its own account. */
	rounding: bigint;
}

/**
 * Converts `amount` smallest units at `rate` (target smallest units per source smallest unit),
 * keeping `spreadBps` of the value as the gateway's fee. The value and the spread are computed
 * exactly; only the three published figures are rounded, each in the merchant's favour.
 */
export function convertAmount(
	amount: bigint,
	rate: Rational,
	spreadBps: number,
): ConversionAmounts {
	if (typeof amount !== "bigint" || amount <= 0n) {
		throw new RangeError("amount must be a positive bigint");
	}
	if (!Number.isSafeInteger(spreadBps) || spreadBps < 0 || spreadBps > MAX_SPREAD_BPS) {
		throw new RangeError(`spread must be an integer from 0 to ${MAX_SPREAD_BPS} bps`);
	}
	const bps = BigInt(spreadBps);
	// value = amount × rate = n / d exactly; spread = value × bps / 10 000.
	const n = amount * rate.numerator;
	const d = rate.denominator;
	const gross = floorDiv(n, d);
	const fee = floorDiv(n * bps, d * 10_000n);
	const net = ceilDiv(n * (10_000n - bps), d * 10_000n);
	return { gross, fee, amount: net, rounding: net + fee - gross };
}

/** The named gateway account that absorbs conversion rounding (never more than one unit each). */
export function fxRoundingAccount(livemode: boolean, currency: string): string {
	return `${modeOf(livemode)}:gateway:fx_rounding:${currency}`;
}

/**
 * The ledger side of a conversion, balanced per currency: the source amount leaves the merchant
 * into FX clearing; in the target currency FX clearing pays the value, which goes to the
 * merchant and, as the spread, to the gateway's fees, with the rounding from the gateway's
 * rounding account. The id is derived from the payment, so a payment is converted once.
 */
export function conversionTransfer(input: {
	paymentId: string;
	merchantId: string;
	livemode: boolean;
	from: { currency: string; amount: bigint };
	to: { currency: string };
	amounts: ConversionAmounts;
	created: number;
}): Transfer {
	const { livemode, merchantId, from, to, amounts } = input;
	const legs: [string, string, bigint][] = [
		[accounts.merchantAvailable(merchantId, livemode, from.currency), from.currency, -from.amount],
		[accounts.fxClearing(livemode, from.currency), from.currency, from.amount],
		[accounts.fxClearing(livemode, to.currency), to.currency, -amounts.gross],
		[accounts.merchantAvailable(merchantId, livemode, to.currency), to.currency, amounts.amount],
		[accounts.gatewayFees(livemode, to.currency), to.currency, amounts.fee],
		[fxRoundingAccount(livemode, to.currency), to.currency, -amounts.rounding],
	];
	return {
		id: `${input.paymentId}:conversion`,
		kind: "conversion",
		reference: input.paymentId,
		livemode,
		created: input.created,
		postings: legs
			.filter(([, , amount]) => amount !== 0n)
			.map(([account, currency, amount]) => ({ account, currency, amount })),
	};
}
