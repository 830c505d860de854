import type { StripeJsError } from "./protocol";

// The card frame's field logic, DOM-free so Node tests can run it: brand detection, formatting
// as the payer types, and validation with Stripe.js's own error codes and messages.

export type CardBrand =
	| "visa"
	| "mastercard"
	| "amex"
	| "discover"
	| "diners"
	| "jcb"
	| "unionpay"
	| "unknown";

interface BrandRule {
	brand: CardBrand;
	pattern: RegExp;
	lengths: number[];
	/** Digit positions after which a space goes. */
	gaps: number[];
	cvcLength: number;
}

const BRANDS: BrandRule[] = [
	{ brand: "amex", pattern: /^3[47]/, lengths: [15], gaps: [4, 10], cvcLength: 4 },
	{
		brand: "diners",
		pattern: /^3(0[0-5]|[689])/,
		lengths: [14, 16, 19],
		gaps: [4, 10],
		cvcLength: 3,
	},
	{ brand: "jcb", pattern: /^35/, lengths: [16, 19], gaps: [4, 8, 12, 16], cvcLength: 3 },
	{ brand: "visa", pattern: /^4/, lengths: [13, 16, 19], gaps: [4, 8, 12, 16], cvcLength: 3 },
	{
		brand: "mastercard",
		pattern: /^(5[1-5]|2(2[2-9]|[3-6]|7[01]|720))/,
		lengths: [16],
		gaps: [4, 8, 12, 16],
		cvcLength: 3,
	},
	{
		brand: "discover",
		pattern: /^(6011|65|64[4-9])/,
		lengths: [16, 19],
		gaps: [4, 8, 12, 16],
		cvcLength: 3,
	},
	{
		brand: "unionpay",
		pattern: /^62/,
		lengths: [16, 17, 18, 19],
		gaps: [4, 8, 12, 16],
		cvcLength: 3,
	},
];

const UNKNOWN: BrandRule = {
	brand: "unknown",
	pattern: /^/,
	lengths: [16],
	gaps: [4, 8, 12, 16],
	cvcLength: 3,
};

function ruleFor(digits: string): BrandRule {
	return BRANDS.find((rule) => rule.pattern.test(digits)) ?? UNKNOWN;
}

export function cardBrand(number: string): CardBrand {
	return ruleFor(digitsOf(number)).brand;
}

export function digitsOf(text: string): string {
	return text.replace(/\D/g, "");
}

export function luhnValid(digits: string): boolean {
	let sum = 0;
	for (let i = 0; i < digits.length; i++) {
		let digit = Number(digits[digits.length - 1 - i]);
		if (i % 2 === 1) {
			digit *= 2;
			if (digit > 9) digit -= 9;
		}
		sum += digit;
	}
	return digits.length > 0 && sum % 10 === 0;
}

/** "4242424242424242" → "4242 4242 4242 4242" (amex 4-6-5), cut at the brand's longest length. */
export function formatCardNumber(input: string): string {
	const rule = ruleFor(digitsOf(input));
	const digits = digitsOf(input).slice(0, Math.max(...rule.lengths));
	const gaps = rule.brand === "diners" && digits.length > 14 ? [4, 8, 12, 16] : rule.gaps;
	let out = "";
	for (let i = 0; i < digits.length; i++) {
		if (gaps.includes(i)) out += " ";
		out += digits[i];
	}
	return out;
}

/** "1234" → "12 / 34"; a first digit above 1 is a month ("4" → "04 / "). */
export function formatExpiry(input: string, deleting = false): string {
	let digits = digitsOf(input).slice(0, 4);
	if (/^[2-9]$/.test(digits)) digits = `0${digits}`;
	if (digits.length < 2) return digits;
	const month = digits.slice(0, 2);
	const year = digits.slice(2);
	if (year === "" && deleting) return month;
	return `${month} / ${year}`;
}

export function formatCvc(input: string, number: string): string {
	return digitsOf(input).slice(0, ruleFor(digitsOf(number)).cvcLength);
}

export function formatPostalCode(input: string): string {
	return input.replace(/[^\d-]/g, "").slice(0, 10);
}

export type CardField = "number" | "expiry" | "cvc" | "postalCode";

export interface FieldError extends StripeJsError {
	type: "validation_error";
	field: CardField;
}

function fieldError(field: CardField, code: string, message: string): FieldError {
	return { type: "validation_error", field, code, message };
}

export function validateNumber(input: string): FieldError | null {
	const digits = digitsOf(input);
	const rule = ruleFor(digits);
	if (digits.length < Math.min(...rule.lengths)) {
		return fieldError("number", "incomplete_number", "Your card number is incomplete.");
	}
	if (!rule.lengths.includes(digits.length) || !luhnValid(digits)) {
		return fieldError("number", "invalid_number", "Your card number is invalid.");
	}
	return null;
}

export function validateExpiry(input: string, now: Date): FieldError | null {
	const digits = digitsOf(input);
	if (digits.length < 4) {
		return fieldError("expiry", "incomplete_expiry", "Your card's expiration date is incomplete.");
	}
	const month = Number(digits.slice(0, 2));
	const year = 2000 + Number(digits.slice(2, 4));
	if (month < 1 || month > 12) {
		return fieldError("expiry", "invalid_expiry_month", "Your card's expiration month is invalid.");
	}
	const thisYear = now.getFullYear();
	if (year < thisYear) {
		return fieldError(
			"expiry",
			"invalid_expiry_year_past",
			"Your card's expiration year is in the past.",
		);
	}
	if (year === thisYear && month < now.getMonth() + 1) {
		return fieldError(
			"expiry",
			"invalid_expiry_month_past",
			"Your card's expiration date is in the past.",
		);
	}
	if (year > thisYear + 50) {
		return fieldError("expiry", "invalid_expiry_year", "Your card's expiration year is invalid.");
	}
	return null;
}

export function validateCvc(input: string, number: string): FieldError | null {
	const digits = digitsOf(input);
	if (digits.length < ruleFor(digitsOf(number)).cvcLength) {
		return fieldError("cvc", "incomplete_cvc", "Your card's security code is incomplete.");
	}
	return null;
}

export function validatePostalCode(input: string): FieldError | null {
	const value = input.trim();
	if (/^\d{5}(-?\d{4})?$/.test(value)) return null;
	if (/^\d{0,4}$/.test(value) || /^\d{5}-?\d{0,3}$/.test(value)) {
		return fieldError("postalCode", "incomplete_zip", "Your ZIP is incomplete.");
	}
	return fieldError("postalCode", "invalid_zip", "Your ZIP is invalid.");
}

export interface CardFieldValues {
	number: string;
	expiry: string;
	cvc: string;
	postalCode: string;
}

export interface CardDetails {
	number: string;
	expMonth: number;
	expYear: number;
	cvc: string;
	postalCode: string;
	brand: CardBrand;
}

/** Every field's error (in the form's order), or the card ready for `POST /v1/payment_methods`. */
export function readCard(
	values: CardFieldValues,
	now: Date,
): { card: CardDetails; errors: [] } | { card: null; errors: FieldError[] } {
	const errors = [
		validateNumber(values.number),
		validateExpiry(values.expiry, now),
		validateCvc(values.cvc, values.number),
		validatePostalCode(values.postalCode),
	].filter((error): error is FieldError => error !== null);
	if (errors.length > 0) return { card: null, errors };
	const number = digitsOf(values.number);
	const expiry = digitsOf(values.expiry);
	return {
		card: {
			number,
			expMonth: Number(expiry.slice(0, 2)),
			expYear: 2000 + Number(expiry.slice(2, 4)),
			cvc: digitsOf(values.cvc),
			postalCode: values.postalCode.trim(),
			brand: ruleFor(number).brand,
		},
		errors: [],
	};
}

/** The check a field gets as soon as it is full, to move on to the next one. */
export function fieldComplete(field: CardField, values: CardFieldValues, now: Date): boolean {
	switch (field) {
		case "number":
			// 16 digits is where most cards end, though Visa and others may run to 19.
			return (
				validateNumber(values.number) === null &&
				[16, Math.max(...ruleFor(digitsOf(values.number)).lengths)].includes(
					digitsOf(values.number).length,
				)
			);
		case "expiry":
			return validateExpiry(values.expiry, now) === null;
		case "cvc":
			return validateCvc(values.cvc, values.number) === null;
		case "postalCode":
			return validatePostalCode(values.postalCode) === null;
	}
}
