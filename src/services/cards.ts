import type Stripe from "stripe";
import type { PaymentRecord } from "../domain/payment";
import type { Env } from "../env";
import { ApiError } from "../lib/errors";
import { log } from "../lib/log";
import {
	isStripeError,
	retrieveIntent,
	snapshotOf,
	stripeConfigured,
	stripeFromEnv,
} from "../processors/stripe/client";
import { paymentStub, unwrapTransition } from "./payments";
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

/**
 * The card side of a payment for its checkout: the PaymentIntent (created on first use, with an
 * idempotency key derived from our payment id, so two tabs or a retry share one intent) and its
 * client secret for Stripe's Payment Element. Card data never reaches the gateway.
 */
export async function openCardIntent(
	env: Env,
	payment: PaymentRecord,
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
	let intent: Stripe.PaymentIntent;
	try {
		intent = payment.card
			? await retrieveIntent(env, payment.card.payment_intent)
			: await stripeFromEnv(env).paymentIntents.create(
					{
						amount: payment.amount,
						currency: payment.currency,
						capture_method: payment.capture_method ?? "automatic",
						allowed_payment_method_types: ["card"],
						description: payment.description ?? undefined,
						metadata: { payment_id: payment.id, merchant_id: payment.merchant_id },
						expand: EXPAND,
					},
					{ idempotencyKey: `${payment.id}:intent` },
				);
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
		intent = await stripeFromEnv(env).paymentIntents.capture(
			card.payment_intent,
			{ ...(amount !== undefined ? { amount_to_capture: amount } : {}), expand: EXPAND },
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
