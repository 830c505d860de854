/**
 * Money is never a float. Fiat amounts are integer minor units of an ISO 4217 currency (lowercase
 * code on the wire); token amounts are base units, bigint in code and decimal strings on the wire.
 */
import { CURRENCIES, type CurrencyInfo } from "./currencies";

export type MoneyErrorCode =
	| "currency_invalid"
	| "amount_invalid"
	| "amount_too_large"
	| "amount_negative"
	| "precision_exceeded";

export class MoneyError extends Error {
	constructor(
		readonly code: MoneyErrorCode,
		message: string,
	) {
		super(message);
		this.name = "MoneyError";
	}
}

/**
 * Largest fiat amount in minor units: 10^12 − 1, i.e. just under 10 billion in a 2-exponent
 * currency. Far above any single payment, and small enough that thousands of such amounts can
 * be summed as plain numbers without leaving Number.MAX_SAFE_INTEGER (about 9 × 10^15), so
 * totals and refunds stay exact without bigint.
 */
export const MAX_MINOR_UNITS = 999_999_999_999;

/** Token amounts are u64 on chain (SPL token amounts, lamports). */
export const U64_MAX = 18446744073709551615n;

/** Mint decimals are a u8 on Solana; formatting supports the 0..18 range real tokens use. */
const MAX_TOKEN_DECIMALS = 18;

const UNSIGNED_INTEGER = /^(?:0|[1-9][0-9]*)$/;
const UNSIGNED_DECIMAL = /^(0|[1-9][0-9]*)(?:\.([0-9]+))?$/;

/** Quotes untrusted input for an error message, bounded so a huge value cannot bloat logs. */
function quote(value: unknown): string {
	const text = typeof value === "string" ? value : String(value);
	return JSON.stringify(text.length > 32 ? `${text.slice(0, 32)}…` : text);
}

function lookupCurrency(code: unknown): CurrencyInfo | undefined {
	// hasOwn, not `in` or plain indexing: inherited names such as "constructor" are not currencies.
	return typeof code === "string" && Object.hasOwn(CURRENCIES, code) ? CURRENCIES[code] : undefined;
}

/** A lowercase ISO 4217 code from the table; uppercase is rejected since the wire is lowercase. */
export function isSupportedCurrency(code: string): boolean {
	return lookupCurrency(code) !== undefined;
}

/** Number of minor-unit digits of a supported currency (0, 2, 3 or 4). */
export function currencyExponent(code: string): number {
	const info = lookupCurrency(code);
	if (info === undefined) {
		throw new MoneyError("currency_invalid", `unsupported currency ${quote(code)}`);
	}
	return info.exponent;
}

/**
 * Validates a fiat amount in minor units as received from JSON: a safe integer, positive (or
 * zero with allowZero) and at most MAX_MINOR_UNITS. Returns it unchanged, except -0 becomes 0.
 */
export function assertMinorUnits(value: unknown, opts?: { allowZero?: boolean }): number {
	if (typeof value !== "number" || !Number.isFinite(value)) {
		throw new MoneyError("amount_invalid", "amount must be an integer number of minor units");
	}
	if (!Number.isInteger(value)) {
		throw new MoneyError("amount_invalid", `amount must be an integer, got ${value}`);
	}
	if (value < 0) {
		throw new MoneyError("amount_negative", "amount must not be negative");
	}
	if (value === 0) {
		if (opts?.allowZero === true) return 0;
		throw new MoneyError("amount_invalid", "amount must be greater than zero");
	}
	if (value > MAX_MINOR_UNITS) {
		throw new MoneyError("amount_too_large", `amount must be at most ${MAX_MINOR_UNITS}`);
	}
	return value;
}

/**
 * Parses a decimal major-unit string ("12.34") into minor units of `currency` (1234n for usd).
 * Canonical form only: digits with an optional "." and at least one digit on each side, no
 * sign, exponent, whitespace, grouping or leading zeros. Up to `exponent` fractional digits
 * ("12.3" usd is 1230n); more is precision_exceeded even when they are zeros, so a value is
 * never silently rounded. Zero is accepted; callers that need a positive amount say so.
 * The result is at most MAX_MINOR_UNITS.
 */
export function parseDecimal(value: string, currency: string): bigint {
	const exponent = currencyExponent(currency);
	if (typeof value !== "string") {
		throw new MoneyError("amount_invalid", "amount must be a decimal string");
	}
	const negative = value.startsWith("-");
	const match = UNSIGNED_DECIMAL.exec(negative ? value.slice(1) : value);
	if (match === null) {
		throw new MoneyError("amount_invalid", `amount ${quote(value)} is not a plain decimal number`);
	}
	if (negative) {
		throw new MoneyError("amount_negative", "amount must not be negative");
	}
	const whole = match[1] ?? "";
	const fraction = match[2] ?? "";
	if (fraction.length > exponent) {
		throw new MoneyError(
			"precision_exceeded",
			`${currency} amounts allow at most ${exponent} decimal places, got ${fraction.length}`,
		);
	}
	// Without leading zeros, 13+ whole digits is already over the limit: reject before BigInt
	// so an arbitrarily long string costs nothing to refuse.
	if (whole.length > 12) {
		throw new MoneyError("amount_too_large", `amount must be at most ${maxDecimal(exponent)}`);
	}
	const minor = BigInt(whole + fraction.padEnd(exponent, "0"));
	if (minor > BigInt(MAX_MINOR_UNITS)) {
		throw new MoneyError("amount_too_large", `amount must be at most ${maxDecimal(exponent)}`);
	}
	return minor;
}

function maxDecimal(exponent: number): string {
	return insertPoint(String(MAX_MINOR_UNITS), exponent);
}

/** Places a decimal point `exponent` digits from the right of unsigned digits, zero-padding. */
function insertPoint(digits: string, exponent: number): string {
	if (exponent === 0) return digits;
	const padded = digits.padStart(exponent + 1, "0");
	return `${padded.slice(0, -exponent)}.${padded.slice(-exponent)}`;
}

/**
 * Formats minor units as a major-unit decimal string with exactly the currency's exponent digits
 * (1234 usd is "12.34", 1000 jpy is "1000"). Negative amounts (refunds, adjustments) keep their
 * sign. Bigints are formatted exactly at any size; numbers must be safe integers.
 */
export function formatMinorUnits(amount: bigint | number, currency: string): string {
	const exponent = currencyExponent(currency);
	let value: bigint;
	if (typeof amount === "bigint") {
		value = amount;
	} else if (typeof amount === "number" && Number.isSafeInteger(amount)) {
		value = BigInt(amount);
	} else {
		throw new MoneyError("amount_invalid", "amount must be a safe integer or a bigint");
	}
	const negative = value < 0n;
	const digits = (negative ? -value : value).toString();
	return (negative ? "-" : "") + insertPoint(digits, exponent);
}

/**
 * Parses a token amount in base units from the wire: an unsigned decimal integer string without
 * sign, leading zeros (except "0" itself), whitespace or exponent, at most U64_MAX.
 */
export function parseBaseUnits(value: string): bigint {
	if (typeof value !== "string") {
		throw new MoneyError("amount_invalid", "amount must be a decimal integer string");
	}
	const negative = value.startsWith("-");
	if (!UNSIGNED_INTEGER.test(negative ? value.slice(1) : value)) {
		throw new MoneyError("amount_invalid", `amount ${quote(value)} is not a decimal integer`);
	}
	if (negative) {
		throw new MoneyError("amount_negative", "amount must not be negative");
	}
	// U64_MAX has 20 digits; refuse longer input before BigInt parses it.
	if (value.length > 20 || BigInt(value) > U64_MAX) {
		throw new MoneyError("amount_too_large", `amount must be at most ${U64_MAX}`);
	}
	return BigInt(value);
}

/**
 * Formats base units as a human-readable token amount with trailing zeros trimmed
 * (1500000n with 6 decimals is "1.5", 0n is "0"). For display and logs only: the wire carries
 * base units.
 */
export function formatBaseUnits(amount: bigint, decimals: number): string {
	if (!Number.isInteger(decimals) || decimals < 0 || decimals > MAX_TOKEN_DECIMALS) {
		throw new MoneyError(
			"amount_invalid",
			`decimals must be an integer from 0 to ${MAX_TOKEN_DECIMALS}, got ${quote(decimals)}`,
		);
	}
	if (typeof amount !== "bigint") {
		throw new MoneyError("amount_invalid", "amount must be a bigint");
	}
	if (amount < 0n) {
		throw new MoneyError("amount_negative", "amount must not be negative");
	}
	if (amount > U64_MAX) {
		throw new MoneyError("amount_too_large", `amount must be at most ${U64_MAX}`);
	}
	const text = insertPoint(amount.toString(), decimals);
	return decimals === 0 ? text : text.replace(/\.?0+$/, "");
}
