/**
 * Exact conversion between fiat minor units and token base units. A rate is a rational number
 * of bigints, built from integer price mantissas and decimal exponents, so no step is a float
 * and rounding happens exactly once, at the end, in the payer's disfavour by at most one base
 * unit (the merchant is never undercharged).
 */
import { MoneyError, U64_MAX } from "./money";

/** How a settlement conversion ended. */
export const CONVERSION_STATUSES = ["completed", "failed"] as const;
export type ConversionStatus = (typeof CONVERSION_STATUSES)[number];

/** Which rate a conversion uses: the quote's at payment time, or the one when it runs. */
export const CONVERSION_RATE_POLICIES = ["locked", "current"] as const;
export type ConversionRatePolicy = (typeof CONVERSION_RATE_POLICIES)[number];

/** Price-currency minor units per one token base unit, as numerator / denominator (both > 0). */
export interface ExactRate {
	readonly numerator: bigint;
	readonly denominator: bigint;
}

/** A decimal as an oracle reports it: mantissa × 10^expo. */
export interface ScaledPrice {
	readonly mantissa: bigint;
	readonly expo: number;
}

/**
 * How a fiat currency is priced against the US dollar. `usdIsQuote` feeds price one unit of
 * the currency in dollars (EUR/USD = 1.08); the others price one dollar in the currency
 * (USD/JPY = 155).
 */
export interface FxPrice {
	readonly price: ScaledPrice;
	readonly usdIsQuote: boolean;
}

export interface TokenRateInputs {
	/** US dollars per one whole token (SOL/USD). */
	readonly tokenUsd: ScaledPrice;
	/** Decimals of the token's base unit: 9 for SOL (lamports), 6 for USDC. */
	readonly tokenDecimals: number;
	/** ISO 4217 minor-unit digits of the price currency (money.ts currencyExponent). */
	readonly currencyExponent: number;
	/** Absent when the price currency is the US dollar. */
	readonly fx?: FxPrice;
}

/** Oracle exponents are small (Pyth uses -12..0); the bound keeps 10^n cheap. */
const MAX_ABS_EXPO = 32;
const MAX_DECIMALS = 18;

function checkPrice(name: string, p: ScaledPrice): void {
	if (typeof p.mantissa !== "bigint" || p.mantissa <= 0n) {
		throw new RangeError(`${name} must be a positive price, got ${String(p.mantissa)}`);
	}
	if (!Number.isInteger(p.expo) || Math.abs(p.expo) > MAX_ABS_EXPO) {
		throw new RangeError(`${name} exponent must be an integer within ±${MAX_ABS_EXPO}`);
	}
}

function gcd(a: bigint, b: bigint): bigint {
	let x = a < 0n ? -a : a;
	let y = b < 0n ? -b : b;
	while (y !== 0n) [x, y] = [y, x % y];
	return x;
}

/** Reduces to lowest terms so stored and compared rates have one spelling. */
export function reduceRate(numerator: bigint, denominator: bigint): ExactRate {
	if (numerator <= 0n || denominator <= 0n) {
		throw new RangeError("a rate needs a positive numerator and denominator");
	}
	const g = gcd(numerator, denominator);
	return { numerator: numerator / g, denominator: denominator / g };
}

/**
 * Minor units of the price currency per token base unit:
 * tokenUsd × (currency per USD) × 10^currencyExponent / 10^tokenDecimals, exactly.
 * SOL at $150.00 in usd is 15000 cents / 10^9 lamports = 3/200000.
 */
export function composeTokenRate(inputs: TokenRateInputs): ExactRate {
	const { tokenUsd, tokenDecimals, currencyExponent, fx } = inputs;
	checkPrice("token price", tokenUsd);
	if (!Number.isInteger(tokenDecimals) || tokenDecimals < 0 || tokenDecimals > MAX_DECIMALS) {
		throw new RangeError(`token decimals must be an integer from 0 to ${MAX_DECIMALS}`);
	}
	if (!Number.isInteger(currencyExponent) || currencyExponent < 0 || currencyExponent > 4) {
		throw new RangeError("currency exponent must be an integer from 0 to 4");
	}
	let numerator = tokenUsd.mantissa;
	let denominator = 1n;
	let power = tokenUsd.expo + currencyExponent - tokenDecimals;
	if (fx !== undefined) {
		checkPrice("fx price", fx.price);
		if (fx.usdIsQuote) {
			// Dollars per currency unit: divide to get currency units per dollar.
			denominator *= fx.price.mantissa;
			power -= fx.price.expo;
		} else {
			numerator *= fx.price.mantissa;
			power += fx.price.expo;
		}
	}
	if (power >= 0) numerator *= 10n ** BigInt(power);
	else denominator *= 10n ** BigInt(-power);
	return reduceRate(numerator, denominator);
}

/**
 * Token base units a payer must send for `minorUnits` of the price currency, rounded up to the
 * next whole base unit: the amount is worth at least the price and less than the price plus one
 * base unit. $25.00 at SOL = $150.00 is 2500 × 200000 / 3 = 166666666.67 → 166666667 lamports.
 */
export function tokenAmountForPrice(minorUnits: bigint, rate: ExactRate): bigint {
	if (typeof minorUnits !== "bigint" || minorUnits < 0n) {
		throw new MoneyError("amount_invalid", "minor units must be a non-negative bigint");
	}
	if (rate.numerator <= 0n || rate.denominator <= 0n) {
		throw new RangeError("a rate needs a positive numerator and denominator");
	}
	const scaled = minorUnits * rate.denominator;
	const amount = (scaled + rate.numerator - 1n) / rate.numerator;
	if (amount > U64_MAX) {
		throw new MoneyError("amount_too_large", `token amount exceeds the u64 maximum ${U64_MAX}`);
	}
	return amount;
}
