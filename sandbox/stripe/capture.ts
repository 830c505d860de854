import type Stripe from "stripe";
import { captureCharge } from "./charges.js";
import { scheduleDisputeIfTestCard } from "./disputes.js";
import type { RequestContext, StripeEmulator } from "./emulator.js";
import { invalidRequest } from "./errors.js";
import { formatAmount } from "./money.js";
import { CANCELABLE, unexpectedState } from "./payment-intents.js";
import { snapshot } from "./store.js";

// How a PaymentIntent ends after confirmation: capturing an authorisation (all or part; the
// rest is released) or canceling, which releases any authorisation in full.

/** Captures `amount` (default all) of an authorisation; the rest is released. */
export function capturePaymentIntent(
	em: StripeEmulator,
	intent: Stripe.PaymentIntent,
	amountToCapture: number | undefined,
	ctx: RequestContext,
): void {
	if (intent.status !== "requires_capture") {
		throw unexpectedState(
			intent,
			`This PaymentIntent could not be captured because it has a status of ${intent.status}. Only a PaymentIntent with one of the following statuses may be captured: requires_capture.`,
		);
	}
	const amount = amountToCapture ?? intent.amount_capturable;
	if (amount > intent.amount_capturable) {
		throw invalidRequest(
			`The payment could not be captured because the requested capture amount is greater than the amount you can capture for this charge (${formatAmount(intent.amount_capturable, intent.currency)}).`,
			{ code: "amount_too_large", param: "amount_to_capture", payment_intent: snapshot(intent) },
		);
	}
	const charge = em.store.charges.get(intent.latest_charge as string);
	if (!charge) throw new Error(`intent ${intent.id} in requires_capture has no charge`);
	const previous = captureCharge(em.store, charge, amount);
	intent.status = "succeeded";
	intent.amount_received = amount;
	intent.amount_capturable = 0;
	em.emit("charge.captured", charge, ctx, previous);
	em.emit("payment_intent.succeeded", intent, ctx);
	scheduleDisputeIfTestCard(em, charge);
}

export function cancelPaymentIntent(
	em: StripeEmulator,
	intent: Stripe.PaymentIntent,
	reason: Stripe.PaymentIntent.CancellationReason | null,
	ctx: RequestContext,
): void {
	if (!CANCELABLE.includes(intent.status)) {
		throw unexpectedState(
			intent,
			`You cannot cancel this PaymentIntent because it has a status of ${intent.status}. Only a PaymentIntent with one of the following statuses may be canceled: ${CANCELABLE.join(", ")}.`,
		);
	}
	const charge = intent.latest_charge
		? em.store.charges.get(intent.latest_charge as string)
		: undefined;
	const wasCapturable = intent.status === "requires_capture";
	const wasProcessing = intent.status === "processing";
	intent.status = "canceled";
	intent.canceled_at = em.store.seconds();
	intent.cancellation_reason = reason;
	intent.amount_capturable = 0;
	intent.next_action = null;
	em.store.attempts.delete(intent.id);
	if (charge && wasCapturable) {
		// Releasing the authorisation refunds the uncaptured charge in full; no money moved.
		const previous = { amount_refunded: charge.amount_refunded, refunded: charge.refunded };
		charge.amount_refunded = charge.amount;
		charge.refunded = true;
		em.emit("charge.refunded", charge, ctx, previous);
	} else if (charge && wasProcessing) {
		charge.status = "failed";
	}
	em.emit("payment_intent.canceled", intent, ctx);
}
