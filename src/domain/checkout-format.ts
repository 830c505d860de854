import { formatTokenAmount } from "./checkout";
import { currencyExponent, formatMinorUnits } from "./money";

// How the checkout writes amounts, rates and times for the payer's locale, on the server and in
// the browser alike. Money stays an integer (minor or base units) until here, and even here it
// is never a float: `Intl` formats the whole part as a bigint and the fraction digits are ours.

const DECIMAL = /^-?\d+(\.\d+)?$/;

/** A message's `{name}` placeholders filled with text (escaped by whoever renders it). */
export function fill(template: string, values: Record<string, string>): string {
	return template.replace(/\{(\w+)\}/g, (whole, name: string) => values[name] ?? whole);
}

/**
 * A decimal string ("1234.50") in `locale`'s digits, grouping and separator, as an amount of
 * `currency` when given. Every fraction digit of the input is kept, none added.
 */
export function formatDecimal(locale: string, decimal: string, currency?: string): string {
	if (!DECIMAL.test(decimal)) return decimal;
	const negative = decimal.startsWith("-");
	const [whole = "0", fraction = ""] = (negative ? decimal.slice(1) : decimal).split(".");
	// Older engines cap fraction digits at 20; the digits themselves are put back below.
	const digits = Math.min(fraction.length, 20);
	const format = new Intl.NumberFormat(locale, {
		...(currency ? { style: "currency", currency: currency.toUpperCase() } : {}),
		minimumFractionDigits: digits,
		maximumFractionDigits: digits,
	});
	const parts = format.formatToParts(BigInt(whole));
	const text = parts.map((p) => (p.type === "fraction" ? fraction : p.value)).join("");
	return negative ? `-${text}` : text;
}

/** An amount in minor units (2500, "usd") as the payer's locale writes money ("$25.00", "25,00 $US"). */
export function formatFiat(locale: string, amount: number, currency: string): string {
	return formatDecimal(locale, formatMinorUnits(amount, currency), currency);
}

/** Token base units as "12.5 USDC", in the locale's digits, every significant decimal kept. */
export function formatToken(
	locale: string,
	baseUnits: string,
	decimals: number,
	symbol: string,
): string {
	return `${formatDecimal(locale, formatTokenAmount(baseUnits, decimals))} ${symbol}`;
}

/** A non-negative decimal string rounded half-up to `digits` fraction digits, padded to them. */
export function roundDecimal(decimal: string, digits: number): string {
	if (!/^\d+(\.\d+)?$/.test(decimal)) return decimal;
	const [whole = "0", fraction = ""] = decimal.split(".");
	if (fraction.length <= digits) {
		return digits > 0 ? `${whole}.${fraction.padEnd(digits, "0")}` : whole;
	}
	const up = Number(fraction[digits]) >= 5 ? 1n : 0n;
	const scaled = (BigInt(whole + fraction.slice(0, digits)) + up).toString();
	if (digits === 0) return scaled;
	const padded = scaled.padStart(digits + 1, "0");
	return `${padded.slice(0, -digits)}.${padded.slice(-digits)}`;
}

/**
 * A token's price in the payment's currency with the precision a person reads: the currency's
 * own minor units when a token is worth at least one unit ("187.54"), else four significant
 * digits ("0.00001234"), never more than twelve decimals.
 */
export function formatRate(locale: string, rate: string, currency: string): string {
	if (!/^\d+(\.\d+)?$/.test(rate)) return rate;
	const exponent = currencyExponent(currency);
	const [whole = "0", fraction = ""] = rate.split(".");
	let digits = exponent;
	if (BigInt(whole) === 0n) {
		const zeros = fraction.length - fraction.replace(/^0+/, "").length;
		digits = Math.min(12, Math.max(exponent, zeros + 4));
	}
	return formatDecimal(locale, roundDecimal(rate, digits), currency);
}

/**
 * A time for the payer: in the browser their own time zone (short), on the server UTC with the
 * zone named, which the page's script replaces with local time.
 */
export function formatDateTime(locale: string, unixSeconds: number, utc = false): string {
	return new Intl.DateTimeFormat(locale, {
		dateStyle: "medium",
		timeStyle: utc ? "long" : "short",
		...(utc ? { timeZone: "UTC" } : {}),
	}).format(new Date(unixSeconds * 1000));
}

/** The transaction on Solana's explorer for the cluster the gateway runs against. */
export function explorerTxUrl(signature: string, cluster: string, rpcUrl: string): string {
	const base = `https://explorer.solana.com/tx/${encodeURIComponent(signature)}`;
	if (cluster === "mainnet-beta") return base;
	if (cluster === "localnet")
		return `${base}?cluster=custom&customUrl=${encodeURIComponent(rpcUrl)}`;
	return `${base}?cluster=${encodeURIComponent(cluster)}`;
}

/**
 * The wallets' documented "browse" deep links: on a phone they open this checkout inside the
 * wallet's own browser, where the wallet is injected and the page can ask it to pay.
 * Phantom: https://docs.phantom.com/phantom-deeplinks/other-methods/browse
 * Solflare: https://docs.solflare.com/solflare/technical/deeplinks/other-methods/browse
 */
export function walletBrowseLinks(checkoutUrl: string): { phantom: string; solflare: string } {
	const url = encodeURIComponent(checkoutUrl);
	const ref = encodeURIComponent(new URL(checkoutUrl).origin);
	return {
		phantom: `https://phantom.app/ul/browse/${url}?ref=${ref}`,
		solflare: `https://solflare.com/ul/v1/browse/${url}?ref=${ref}`,
	};
}
