import type Stripe from "stripe";
import { behaviourOf } from "./cards.js";
import { createBalanceTransaction, refundableAmount } from "./charges.js";
import type { RequestContext, StripeEmulator } from "./emulator.js";
import { invalidRequest } from "./errors.js";
import { formatAmount } from "./money.js";

// Refunds of captured charges. Card refunds succeed at once; the `pm_card_refundFail` test card
// makes them turn `failed` a moment later (Stripe's documented asynchronous refund failure),
// which gives the amount back to the charge.

export const REFUND_REASONS = ["duplicate", "fraudulent", "requested_by_customer"] as const;

export interface NewRefund {
	charge: Stripe.Charge;
	amount?: number;
	reason: Stripe.Refund.Reason | null;
	metadata: Record<string, string>;
}

function checkRefundable(charge: Stripe.Charge, amount: number | undefined): number {
	if (charge.disputed) {
		throw invalidRequest(`Charge ${charge.id} has been charged back; cannot issue a refund.`, {
			code: "charge_disputed",
		});
	}
	if (!charge.captured) {
		throw invalidRequest(
			`Charge ${charge.id} has not been captured. Cancel its PaymentIntent to release the authorization instead.`,
			{ param: "charge" },
		);
	}
	const refundable = refundableAmount(charge);
	if (refundable <= 0) {
		throw invalidRequest(`Charge ${charge.id} has already been refunded.`, {
			code: "charge_already_refunded",
		});
	}
	const wanted = amount ?? refundable;
	if (wanted > refundable) {
		const what = charge.amount_refunded === 0 ? "charge amount" : "unrefunded amount on charge";
		throw invalidRequest(
			`Refund amount (${formatAmount(wanted, charge.currency)}) is greater than ${what} (${formatAmount(refundable, charge.currency)})`,
			{ param: "amount" },
		);
	}
	return wanted;
}

export function createRefund(
	em: StripeEmulator,
	init: NewRefund,
	ctx: RequestContext,
): Stripe.Refund {
	const { charge } = init;
	const amount = checkRefundable(charge, init.amount);
	const id = em.store.newId("re");
	const txn = createBalanceTransaction(em.store, {
		amount: -amount,
		currency: charge.currency,
		type: "refund",
		reportingCategory: "refund",
		source: id,
		fee: 0,
		description: "REFUND FOR CHARGE",
	});
	const refund: Stripe.Refund = {
		id,
		object: "refund",
		amount,
		balance_transaction: txn.id,
		charge: charge.id,
		created: em.store.seconds(),
		currency: charge.currency,
		customer: null,
		customer_account: null,
		destination_details: {
			card: {
				reference_status: "pending",
				reference_type: "acquirer_reference_number",
				type: "refund",
			},
			type: "card",
		},
		metadata: init.metadata,
		payment_intent: charge.payment_intent,
		payment_method: charge.payment_method,
		reason: init.reason,
		receipt_number: null,
		source_transfer_reversal: null,
		status: "succeeded",
		transfer_reversal: null,
	};
	em.store.refunds.set(id, refund);
	const previous = { amount_refunded: charge.amount_refunded, refunded: charge.refunded };
	charge.amount_refunded += amount;
	charge.refunded = charge.amount_refunded >= charge.amount_captured;
	em.emit("refund.created", refund, ctx);
	em.emit("charge.refunded", charge, ctx, previous);
	if (charge.payment_method && behaviourOf(em.store, charge.payment_method).refundFails) {
		em.schedule(em.timings.refundFailureDelayMs, () => failRefund(em, refund, charge));
	}
	return refund;
}

/** The refund bounces: status failed, a refund_failure credit, the amount refundable again. */
function failRefund(em: StripeEmulator, refund: Stripe.Refund, charge: Stripe.Charge): void {
	if (refund.status !== "succeeded") return;
	const txn = createBalanceTransaction(em.store, {
		amount: refund.amount,
		currency: refund.currency,
		type: "refund_failure",
		reportingCategory: "refund_failure",
		source: refund.id,
		fee: 0,
		description: "REFUND FAILURE",
	});
	const previous = { status: refund.status };
	refund.status = "failed";
	refund.failure_reason = "expired_or_canceled_card";
	refund.failure_balance_transaction = txn.id;
	charge.amount_refunded -= refund.amount;
	charge.refunded = charge.amount_refunded >= charge.amount_captured;
	em.emit("refund.updated", refund, null, previous);
	em.emit("charge.refund.updated", refund, null, previous);
	em.emit("refund.failed", refund, null);
}
