import { createHash } from "node:crypto";
import type Stripe from "stripe";
import { docUrl, invalidParam, StripeApiError } from "./errors.js";
import type { Params } from "./form.js";
import type { CardBehaviour, StripeStore } from "./store.js";

// Stripe's documented test cards (https://docs.stripe.com/testing): the raw numbers and the
// `pm_card_*` shortcuts. Each becomes a fresh PaymentMethod (`pm_…`) when used, as on Stripe.

interface TestCard {
	number: string;
	brand: "visa" | "mastercard" | "amex" | "discover";
	funding: "credit" | "debit";
	tokens: string[];
	behaviour: CardBehaviour;
}

function decline(declineCode: string, message: string): CardBehaviour {
	return {
		decline: { code: "card_declined", declineCode, message, reason: declineCode },
	};
}

const DECLINED = "Your card was declined.";

export const TEST_CARDS: readonly TestCard[] = [
	{
		number: "4242424242424242",
		brand: "visa",
		funding: "credit",
		tokens: ["pm_card_visa"],
		behaviour: {},
	},
	{
		number: "4000056655665556",
		brand: "visa",
		funding: "debit",
		tokens: ["pm_card_visa_debit"],
		behaviour: {},
	},
	{
		number: "5555555555554444",
		brand: "mastercard",
		funding: "credit",
		tokens: ["pm_card_mastercard"],
		behaviour: {},
	},
	{
		number: "378282246310005",
		brand: "amex",
		funding: "credit",
		tokens: ["pm_card_amex"],
		behaviour: {},
	},
	{
		number: "6011111111111117",
		brand: "discover",
		funding: "credit",
		tokens: ["pm_card_discover"],
		behaviour: {},
	},
	{
		number: "4000000000000002",
		brand: "visa",
		funding: "credit",
		tokens: ["pm_card_chargeDeclined"],
		behaviour: decline("generic_decline", DECLINED),
	},
	{
		number: "4000000000009995",
		brand: "visa",
		funding: "credit",
		tokens: ["pm_card_chargeDeclinedInsufficientFunds"],
		behaviour: decline("insufficient_funds", "Your card has insufficient funds."),
	},
	{
		number: "4000000000009987",
		brand: "visa",
		funding: "credit",
		tokens: ["pm_card_chargeDeclinedLostCard"],
		behaviour: decline("lost_card", DECLINED),
	},
	{
		number: "4000000000009979",
		brand: "visa",
		funding: "credit",
		tokens: ["pm_card_chargeDeclinedStolenCard"],
		behaviour: decline("stolen_card", DECLINED),
	},
	{
		number: "4000000000000069",
		brand: "visa",
		funding: "credit",
		tokens: ["pm_card_chargeDeclinedExpiredCard"],
		behaviour: {
			decline: { code: "expired_card", message: "Your card has expired.", reason: "expired_card" },
		},
	},
	{
		number: "4000000000000127",
		brand: "visa",
		funding: "credit",
		tokens: ["pm_card_chargeDeclinedIncorrectCvc"],
		behaviour: {
			decline: {
				code: "incorrect_cvc",
				message: "Your card's security code is incorrect.",
				reason: "incorrect_cvc",
			},
		},
	},
	{
		number: "4000000000000119",
		brand: "visa",
		funding: "credit",
		tokens: ["pm_card_chargeDeclinedProcessingError"],
		behaviour: {
			decline: {
				code: "processing_error",
				message: "An error occurred while processing your card. Try again in a little bit.",
				reason: "processing_error",
			},
		},
	},
	{
		number: "4000002500003155",
		brand: "visa",
		funding: "credit",
		tokens: ["pm_card_authenticationRequiredOnSetup"],
		behaviour: { authentication: "on_session" },
	},
	{
		number: "4000002760003184",
		brand: "visa",
		funding: "credit",
		tokens: ["pm_card_authenticationRequired"],
		behaviour: { authentication: "always" },
	},
	{
		number: "4000000000003220",
		brand: "visa",
		funding: "credit",
		tokens: ["pm_card_threeDSecure2Required"],
		behaviour: { authentication: "always" },
	},
	{
		number: "4000000000000259",
		brand: "visa",
		funding: "credit",
		tokens: ["pm_card_createDispute"],
		behaviour: { dispute: true },
	},
	{
		number: "4000000000005126",
		brand: "visa",
		funding: "credit",
		tokens: ["pm_card_refundFail"],
		behaviour: { refundFails: true },
	},
	{
		number: "4000000000000077",
		brand: "visa",
		funding: "credit",
		tokens: ["pm_card_bypassPending"],
		behaviour: { bypassPending: true },
	},
];

const BY_NUMBER = new Map(TEST_CARDS.map((card) => [card.number, card]));
const BY_TOKEN = new Map(TEST_CARDS.flatMap((card) => card.tokens.map((token) => [token, card])));

export function isTestToken(id: string): boolean {
	return BY_TOKEN.has(id);
}

function luhnValid(number: string): boolean {
	let sum = 0;
	for (let i = 0; i < number.length; i++) {
		let digit = Number(number[number.length - 1 - i]);
		if (i % 2 === 1) {
			digit *= 2;
			if (digit > 9) digit -= 9;
		}
		sum += digit;
	}
	return sum % 10 === 0;
}

function cardError(
	code: string,
	message: string,
	param: string,
	declineCode?: string,
): StripeApiError {
	const body = { type: "card_error" as const, code, message, param, doc_url: docUrl(code) };
	return new StripeApiError(402, declineCode ? { ...body, decline_code: declineCode } : body);
}

export interface RawCard {
	number: string;
	expMonth: number;
	expYear: number;
}

/** Reads `card[number|exp_month|exp_year|cvc]` with Stripe's card_error codes. */
export function readRawCard(
	card: Params | undefined,
	now: Date,
	paramPrefix: string,
): TestCard & RawCard {
	if (!card)
		throw invalidParam(`Missing required param: ${paramPrefix}.`, paramPrefix, "parameter_missing");
	card.only(["number", "exp_month", "exp_year", "cvc"]);
	const number = card.requiredString("number").replace(/[\s-]/g, "");
	const expMonth = card.integer("exp_month");
	const expYear = card.integer("exp_year");
	const cvc = card.string("cvc");
	if (!/^\d{12,19}$/.test(number) || !luhnValid(number)) {
		throw cardError("incorrect_number", "Your card number is incorrect.", card.name("number"));
	}
	if (expMonth === undefined)
		throw invalidParam(
			`Missing required param: ${card.name("exp_month")}.`,
			card.name("exp_month"),
			"parameter_missing",
		);
	if (expYear === undefined)
		throw invalidParam(
			`Missing required param: ${card.name("exp_year")}.`,
			card.name("exp_year"),
			"parameter_missing",
		);
	if (expMonth < 1 || expMonth > 12) {
		throw cardError(
			"invalid_expiry_month",
			"Your card's expiration month is invalid.",
			card.name("exp_month"),
		);
	}
	const year = expYear < 100 ? 2000 + expYear : expYear;
	const thisYear = now.getUTCFullYear();
	if (
		year < thisYear ||
		year > thisYear + 50 ||
		(year === thisYear && expMonth < now.getUTCMonth() + 1)
	) {
		throw cardError(
			"invalid_expiry_year",
			"Your card's expiration year is invalid.",
			card.name("exp_year"),
		);
	}
	if (cvc !== undefined && !/^\d{3,4}$/.test(cvc)) {
		throw cardError("invalid_cvc", "Your card's security code is invalid.", card.name("cvc"));
	}
	const known = BY_NUMBER.get(number);
	if (!known) {
		// Stripe's answer to a real card number in test mode.
		throw cardError(
			"card_declined",
			"Your card was declined. Your request was in test mode, but used a non test (live) card. For a list of valid test cards, visit: https://stripe.com/docs/testing.",
			card.name("number"),
			"test_mode_live_card",
		);
	}
	return { ...known, number, expMonth, expYear: year };
}

function fingerprint(number: string): string {
	return createHash("sha256").update(`stripe-sandbox:${number}`).digest("base64url").slice(0, 16);
}

export function billingDetails(params: Params | undefined): Stripe.PaymentMethod.BillingDetails {
	params?.only(["address", "email", "name", "phone", "tax_id"]);
	const address = params?.object("address");
	address?.only(["city", "country", "line1", "line2", "postal_code", "state"]);
	return {
		address: {
			city: address?.nullableString("city") ?? null,
			country: address?.nullableString("country") ?? null,
			line1: address?.nullableString("line1") ?? null,
			line2: address?.nullableString("line2") ?? null,
			postal_code: address?.nullableString("postal_code") ?? null,
			state: address?.nullableString("state") ?? null,
		},
		email: params?.nullableString("email") ?? null,
		name: params?.nullableString("name") ?? null,
		phone: params?.nullableString("phone") ?? null,
		tax_id: params?.nullableString("tax_id") ?? null,
	};
}

export function savePaymentMethod(
	store: StripeStore,
	card: TestCard & RawCard,
	billing: Stripe.PaymentMethod.BillingDetails = billingDetails(undefined),
	metadata: Record<string, string> = {},
): Stripe.PaymentMethod {
	const method: Stripe.PaymentMethod = {
		id: store.newId("pm"),
		object: "payment_method",
		allow_redisplay: "unspecified",
		billing_details: billing,
		card: {
			brand: card.brand,
			checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: "pass" },
			country: "US",
			display_brand: card.brand === "amex" ? "american_express" : card.brand,
			exp_month: card.expMonth,
			exp_year: card.expYear,
			fingerprint: fingerprint(card.number),
			funding: card.funding,
			generated_from: null,
			last4: card.number.slice(-4),
			networks: { available: [card.brand], preferred: null },
			regulated_status: "unregulated",
			three_d_secure_usage: { supported: true },
			wallet: null,
		},
		created: store.seconds(),
		customer: null,
		customer_account: null,
		livemode: false,
		metadata,
		type: "card",
	};
	store.paymentMethods.set(method.id, method);
	store.cards.set(method.id, card.behaviour);
	return method;
}

/**
 * Resolves `payment_method` on a PaymentIntent: a `pm_card_*` shortcut mints a new
 * PaymentMethod each time; a `pm_…` id must exist.
 */
export function resolvePaymentMethod(
	store: StripeStore,
	id: string,
	param: string,
): Stripe.PaymentMethod {
	const testCard = BY_TOKEN.get(id);
	if (testCard) {
		const now = new Date(store.now());
		return savePaymentMethod(store, {
			...testCard,
			expMonth: 12,
			expYear: now.getUTCFullYear() + 3,
		});
	}
	const found = store.paymentMethods.get(id);
	if (!found) {
		throw invalidParam(`No such PaymentMethod: '${id}'`, param, "resource_missing");
	}
	return found;
}

export function behaviourOf(store: StripeStore, paymentMethod: string): CardBehaviour {
	return store.cards.get(paymentMethod) ?? {};
}
