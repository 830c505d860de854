import type Stripe from "stripe";
import { merchantSettings } from "../db/merchants";
import type { CardPresentment } from "../domain/card-details";
import { payingWith } from "../domain/checkout";
import { currencyForCountry } from "../domain/countries";
import type { PaymentRecord } from "../domain/payment";
import { cardPresentment, presentmentMetadata, toPresentedAmount } from "../domain/presentment";
import type { Env } from "../env";
import { ApiError } from "../lib/errors";
import { log } from "../lib/log";
import { RateError } from "../processors/prices/rates";
import {
	isStripeError,
	retrieveIntent,
	snapshotOf,
	stripeConfigured,
	stripeFromEnv,
} from "../processors/stripe/client";
import { conversionSpreadBps } from "./conversions";
import { paymentStub, unwrapTransition } from "./payments";
import { exchangeRate } from "./rates";
import { recordProcessorOutcome } from "./routing";

const EXPAND = ["latest_charge.balance_transaction"];

/**
 * A Stripe failure as a house error: the processor's trouble is ours to report, not the caller's.
 * Outages (not a card's or a request's own problem) feed the routing circuit breaker.
 */
async function processorError(env: Env, err: unknown, action: string): Promise<ApiError> {
	const outage =
		!isStripeError(err) ||
		err.type === "StripeConnectionError" ||
		err.type === "StripeAPIError" ||
		(err.statusCode ?? 0) >= 500;
	if (outage) await recordProcessorOutcome(env, "stripe", "failure");
	if (isStripeError(err)) {
		log("warn", "stripe call failed", {
			action,
			type: err.type,
			code: err.code,
			status: err.statusCode,
		});
		if (err.type === "StripeCardError") return new ApiError("card_declined", err.message);
		if (err.type === "StripeInvalidRequestError") {
			return new ApiError(
				"payment_unexpected_state",
				`Stripe refused to ${action}: ${err.message}`,
			);
		}
	}
	return new ApiError("processor_error", `Stripe could not ${action} right now. Retry shortly.`);
}

export interface CardIntentOptions {
	/**
	 * The payer's country (ISO 3166-1 alpha-2, Cloudflare's `request.cf.country`). When it uses
	 * another currency than the price's and the merchant's `card_presentment` is
	 * `payer_currency`, the card is charged in the payer's currency at the current rate plus the
	 * spread, disclosed on `payment.card.presentment`.
	 */
	payerCountry?: string | null;
}

/**
 * The charge in the payer's currency, or null to charge the price as it is: same currency, a
 * country not in the table, a merchant that did not opt in, or no current rate (a card payment
 * is never held up for want of a rate).
 */
async function presentmentFor(
	env: Env,
	payment: PaymentRecord,
	country: string,
): Promise<CardPresentment | null> {
	const payerCurrency = currencyForCountry(country);
	if (!payerCurrency || payerCurrency === payment.currency) return null;
	const settings = await merchantSettings(env.DB, payment.merchant_id);
	if (settings.card_presentment !== "payer_currency") return null;
	try {
		const { rate } = await exchangeRate(
			env,
			{ kind: "fiat", currency: payment.currency },
			{ kind: "fiat", currency: payerCurrency },
			Math.floor(Date.now() / 1000),
		);
		return cardPresentment({
			amount: payment.amount,
			currency: payment.currency,
			payerCurrency,
			rate,
			spreadBps: conversionSpreadBps(env),
		});
	} catch (err) {
		if (!(err instanceof RateError)) throw err;
		log("warn", "card presentment skipped: no current rate", {
			payment: payment.id,
			currency: payerCurrency,
			error: err.message,
		});
		return null;
	}
}

/**
 * The card side of a payment for its checkout: the PaymentIntent (created on first use, with an
 * idempotency key derived from our payment id, so two tabs or a retry share one intent) and its
 * client secret for Stripe's Payment Element. Card data never reaches the gateway. With a
 * payer's country, a cross-border card may be charged in the payer's currency (see
 * CardIntentOptions); the intent, once created, keeps its currency.
 */
export async function openCardIntent(
	env: Env,
	payment: PaymentRecord,
	options: CardIntentOptions = {},
): Promise<{ client_secret: string; payment: PaymentRecord }> {
	if (!stripeConfigured(env)) {
		throw new ApiError("payment_unexpected_state", "Card payments are not available here.");
	}
	if (!payment.payment_method_types.includes("card")) {
		throw new ApiError("payment_unexpected_state", "This payment does not accept cards.");
	}
	if (payment.status !== "requires_payment" && payment.status !== "processing") {
		throw new ApiError(
			"payment_unexpected_state",
			`This payment is ${payment.status.replace("_", " ")}.`,
		);
	}
	if (payingWith(payment) === "solana") {
		// One method settles a payment: while crypto confirms, no card can be charged for it.
		throw new ApiError(
			"payment_unexpected_state",
			"This payment is being paid in crypto; the card is no longer offered.",
		);
	}
	const presentment =
		!payment.card && options.payerCountry
			? await presentmentFor(env, payment, options.payerCountry)
			: null;
	let intent: Stripe.PaymentIntent;
	try {
		if (payment.card) {
			intent = await retrieveIntent(env, payment.card.payment_intent);
		} else {
			intent = await stripeFromEnv(env).paymentIntents.create(
				{
					amount: presentment?.amount ?? payment.amount,
					currency: presentment?.currency ?? payment.currency,
					capture_method: payment.capture_method ?? "automatic",
					allowed_payment_method_types: ["card"],
					description: payment.description ?? undefined,
					metadata: {
						payment_id: payment.id,
						merchant_id: payment.merchant_id,
						...(presentment ? presentmentMetadata(presentment) : {}),
					},
					expand: EXPAND,
				},
				{
					idempotencyKey: presentment
						? `${payment.id}:intent:${presentment.currency}`
						: `${payment.id}:intent`,
				},
			);
		}
	} catch (err) {
		throw await processorError(env, err, "start the card payment");
	}
	const result = await paymentStub(env, payment.id).syncCard(snapshotOf(intent));
	if (!intent.client_secret)
		throw new ApiError("processor_error", "Stripe returned no client secret.");
	return { client_secret: intent.client_secret, payment: unwrapTransition(result, payment.id) };
}

/** Captures all or part of an authorisation (capture_method "manual"). */
export async function captureCard(
	env: Env,
	payment: PaymentRecord,
	amount: number | undefined,
): Promise<PaymentRecord> {
	const card = payment.card;
	if (payment.status !== "requires_capture" || !card) {
		throw new ApiError(
			"payment_unexpected_state",
			`Only an authorised card payment can be captured; this one is '${payment.status}'.`,
		);
	}
	if (amount !== undefined && amount > card.amount_capturable) {
		throw new ApiError(
			"parameter_invalid",
			`amount must be at most the authorised ${card.amount_capturable}.`,
			"amount",
		);
	}
	let intent: Stripe.PaymentIntent;
	try {
		// A charge presented in the payer's currency is captured in that currency.
		const toCapture =
			amount !== undefined && card.presentment
				? toPresentedAmount(card.presentment, amount)
				: amount;
		intent = await stripeFromEnv(env).paymentIntents.capture(
			card.payment_intent,
			{ ...(toCapture !== undefined ? { amount_to_capture: toCapture } : {}), expand: EXPAND },
			{ idempotencyKey: `${payment.id}:capture:${amount ?? "full"}` },
		);
	} catch (err) {
		throw await processorError(env, err, "capture the payment");
	}
	return unwrapTransition(
		await paymentStub(env, payment.id).syncCard(snapshotOf(intent)),
		payment.id,
	);
}

/**
 * Cancels the card intent before the payment is canceled, so an authorisation is released and a
 * payer still on the card form cannot be charged afterwards.
 */
export async function cancelCardIntent(
	env: Env,
	payment: PaymentRecord,
	reason: string | null,
): Promise<PaymentRecord | null> {
	const card = payment.card;
	if (!card || card.intent_status === "canceled") return null;
	if (card.intent_status === "succeeded") {
		throw new ApiError("payment_unexpected_state", "This payment's card charge has succeeded.");
	}
	try {
		const intent = await stripeFromEnv(env).paymentIntents.cancel(
			card.payment_intent,
			{
				...(reason === "duplicate" ||
				reason === "fraudulent" ||
				reason === "requested_by_customer" ||
				reason === "abandoned"
					? { cancellation_reason: reason }
					: {}),
				expand: EXPAND,
			},
			{ idempotencyKey: `${payment.id}:cancel` },
		);
		const result = await paymentStub(env, payment.id).syncCard(snapshotOf(intent));
		return result.ok ? result.payment : null;
	} catch (err) {
		throw await processorError(env, err, "release the card authorisation");
	}
}
