import { invalidParam, invalidRequest } from "./errors.js";

// Currencies, minimum charge amounts, processing fees and Stripe's way of printing amounts in
// error messages. All integer minor units.

/** ISO 4217 currencies with no minor unit, as Stripe lists them. */
const ZERO_DECIMAL = new Set([
	"bif",
	"clp",
	"djf",
	"gnf",
	"jpy",
	"kmf",
	"krw",
	"mga",
	"pyg",
	"rwf",
	"ugx",
	"vnd",
	"vuv",
	"xaf",
	"xof",
	"xpf",
]);
const THREE_DECIMAL = new Set(["bhd", "jod", "kwd", "omr", "tnd"]);

export const SUPPORTED_CURRENCIES = new Set([
	"usd",
	"eur",
	"gbp",
	"jpy",
	"cad",
	"aud",
	"chf",
	"sek",
	"nok",
	"dkk",
	"pln",
	"czk",
	"huf",
	"nzd",
	"sgd",
	"hkd",
	"mxn",
	"brl",
	"inr",
	"krw",
	"kwd",
	"bhd",
	"jod",
	"omr",
	"aed",
	"thb",
	"myr",
	"php",
	"idr",
	"zar",
]);

/** Stripe's minimum charge amounts (https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts). */
const MINIMUM: Record<string, number> = {
	usd: 50,
	eur: 50,
	gbp: 30,
	jpy: 50,
	cad: 50,
	aud: 50,
	chf: 50,
	sek: 300,
	nok: 300,
	dkk: 250,
	pln: 200,
	czk: 1500,
	huf: 17500,
	nzd: 50,
	sgd: 50,
	hkd: 400,
	mxn: 1000,
	brl: 50,
	inr: 50,
	aed: 200,
};

/** Fixed part of the card fee per currency; the sandbox settles in the charge's currency. */
const FIXED_FEE: Record<string, number> = {
	usd: 30,
	cad: 30,
	aud: 30,
	nzd: 30,
	sgd: 50,
	eur: 25,
	gbp: 20,
	chf: 30,
	jpy: 0,
};

/** Stripe's maximum: 8 digits of minor units. */
export const MAX_AMOUNT = 99_999_999;

export function readCurrency(value: string, param = "currency"): string {
	const currency = value.toLowerCase();
	if (!SUPPORTED_CURRENCIES.has(currency)) {
		throw invalidParam(
			`Invalid currency: ${value}. Stripe currently supports these currencies: ${[...SUPPORTED_CURRENCIES].join(", ")}`,
			param,
		);
	}
	return currency;
}

export function exponent(currency: string): number {
	if (ZERO_DECIMAL.has(currency)) return 0;
	if (THREE_DECIMAL.has(currency)) return 3;
	return 2;
}

const SYMBOLS: Record<string, string> = {
	usd: "$",
	eur: "€",
	gbp: "£",
	jpy: "¥",
	cad: "$",
	aud: "$",
};

/** `$20.00`, `€7.50`, `¥500`, or `1.250 KWD` as in Stripe's amount messages. */
export function formatAmount(amount: number, currency: string): string {
	const digits = exponent(currency);
	const sign = amount < 0 ? "-" : "";
	const abs = Math.abs(amount);
	const whole = Math.floor(abs / 10 ** digits);
	const fraction = digits === 0 ? "" : `.${String(abs % 10 ** digits).padStart(digits, "0")}`;
	const symbol = SYMBOLS[currency];
	return symbol
		? `${sign}${symbol}${whole}${fraction}`
		: `${sign}${whole}${fraction} ${currency.toUpperCase()}`;
}

/** Checks a PaymentIntent amount against Stripe's per-currency minimum and global maximum. */
export function checkChargeAmount(amount: number, currency: string): void {
	const minimum = MINIMUM[currency] ?? 50;
	if (amount < minimum) {
		throw invalidRequest(`Amount must be at least ${formatAmount(minimum, currency)} ${currency}`, {
			code: "amount_too_small",
			param: "amount",
		});
	}
	if (amount > MAX_AMOUNT) {
		throw invalidRequest(`Amount must be no more than ${formatAmount(MAX_AMOUNT, currency)}`, {
			code: "amount_too_large",
			param: "amount",
		});
	}
}

/**
 * Stripe's standard card pricing: 2.9% (rounded half up to the minor unit) plus a fixed fee,
 * 30 cents for USD.
 */
export function processingFee(amount: number, currency: string): number {
	const percent = Math.floor((amount * 29 + 500) / 1000);
	return percent + (FIXED_FEE[currency] ?? 30);
}

/** Stripe's dispute fee, $15.00 in the US. */
export const DISPUTE_FEE = 1500;
