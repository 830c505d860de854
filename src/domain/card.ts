import type { CardDispute, CardPaymentDetails, StripeIntentSnapshot } from "./card-details";
import { accounts, type Transfer } from "./ledger";
import { type PaymentRecord, paidWith } from "./payment";
import type { PaymentStatus } from "./payment-state";
import { canTransition, isTerminal } from "./payment-state";

/**
 * Card payments, pure part: what a Stripe PaymentIntent's current state means for our payment.
 * The gateway always reconciles from a fresh snapshot of the intent (never from the event type
 * alone), so events that arrive twice, late or out of order change nothing they should not.
 */

export interface CardChange {
	/** The payment's next status, or null to keep it. */
	to: PaymentStatus | null;
	/** The event to record when nothing else names one (a change of status names its own). */
	event: string | null;
	card: CardPaymentDetails;
	/** Patch of payment fields besides status and card. */
	patch: Partial<
		Pick<
			PaymentRecord,
			"amount_received" | "amount_refunded" | "failure_code" | "failure_message" | "paid_with"
		>
	>;
	transfers: Transfer[];
}

const PROCESSOR = "stripe";

/**
 * `refundsInFlight`: refunds made through our API that Stripe may already count but the ledger
 * books only when they finish; that part of Stripe's refunded total is left to them.
 */
export function cardDetails(
	previous: CardPaymentDetails | null,
	intent: StripeIntentSnapshot,
	refundsInFlight = 0,
): CardPaymentDetails {
	return {
		payment_intent: intent.id,
		intent_status: intent.status,
		capture_method: intent.capture_method === "manual" ? "manual" : "automatic",
		amount_capturable: intent.amount_capturable,
		amount_received: intent.amount_received,
		charge: intent.charge?.id ?? previous?.charge ?? null,
		fee: intent.charge?.fee ?? previous?.fee ?? null,
		available_on: intent.charge?.available_on ?? previous?.available_on ?? null,
		amount_refunded: Math.max(
			(intent.charge?.amount_refunded ?? 0) - refundsInFlight,
			previous?.amount_refunded ?? 0,
		),
		last_payment_error: intent.last_payment_error,
		disputes: previous?.disputes ?? [],
		...((intent.presentment ?? previous?.presentment)
			? { presentment: intent.presentment ?? previous?.presentment }
			: {}),
	};
}

/**
 * Whether a card charge on this payment is held for refund rather than paid to the merchant:
 * the payment closed unpaid (late), or crypto already paid its price (extra).
 */
export function cardIsHeld(p: PaymentRecord): boolean {
	return (isTerminal(p.status) && p.status !== "succeeded") || paidWith(p) === "solana";
}

/** The ledger's card accounts for a payment. */
function cardAccounts(p: PaymentRecord) {
	return {
		settlement: accounts.settlement(p.livemode, PROCESSOR, p.currency),
		pending: accounts.merchantPending(p.merchant_id, p.livemode, p.currency),
		available: accounts.merchantAvailable(p.merchant_id, p.livemode, p.currency),
		holding: accounts.paymentHolding(p.id, p.livemode, p.currency),
	};
}

function transfer(
	p: PaymentRecord,
	id: string,
	kind: Transfer["kind"],
	created: number,
	legs: [string, bigint][],
): Transfer {
	return {
		id: `${p.id}:${id}`,
		kind,
		reference: p.id,
		livemode: p.livemode,
		created,
		postings: legs.map(([account, amount]) => ({ account, currency: p.currency, amount })),
	};
}

/**
 * Money movements a card payment's new state calls for, each with a stable id so that recording
 * it twice is a no-op in the ledger: the captured amount into the merchant's pending balance
 * (or the payment's holding account when it is held: it arrived after the payment closed, or
 * crypto had paid the price), Stripe's fee out of it, and refunds back out through Stripe.
 */
export function cardTransfers(
	p: PaymentRecord,
	before: CardPaymentDetails | null,
	after: CardPaymentDetails,
	held: boolean,
	now: number,
): Transfer[] {
	const a = cardAccounts(p);
	const out: Transfer[] = [];
	const receivedBefore = before?.intent_status === "succeeded" ? before.amount_received : 0;
	const into = held ? a.holding : a.pending;
	if (after.intent_status === "succeeded" && receivedBefore === 0 && after.amount_received > 0) {
		const amount = BigInt(after.amount_received);
		const id = !held ? "received" : paidWith(p) === "solana" ? "card_extra" : "card_late";
		out.push(
			transfer(p, id, "payment", now, [
				[a.settlement, -amount],
				[into, amount],
			]),
		);
	}
	if (after.intent_status === "succeeded" && after.fee && !before?.fee) {
		const fee = BigInt(after.fee);
		out.push(
			transfer(p, "stripe_fee", "fee", now, [
				[into, -fee],
				[a.settlement, fee],
			]),
		);
	}
	const refundedBefore = before?.amount_refunded ?? 0;
	if (after.amount_refunded > refundedBefore) {
		const delta = BigInt(after.amount_refunded - refundedBefore);
		out.push(
			transfer(p, `stripe_refund:${after.amount_refunded}`, "refund", now, [
				[into, -delta],
				[a.settlement, delta],
			]),
		);
	}
	return out;
}

/**
 * Moves a settled card payment's net from pending to available, once Stripe pays it out. A net
 * below zero (refunded in full before payout: Stripe kept its fee) moves too, so pending ends at
 * zero and the fee the merchant owes shows in available.
 */
export function cardAvailableTransfer(
	p: PaymentRecord,
	card: CardPaymentDetails,
	now: number,
): Transfer | null {
	const net = card.amount_received - (card.fee ?? 0) - card.amount_refunded;
	if (net === 0) return null;
	const a = cardAccounts(p);
	return transfer(p, "available", "payment", now, [
		[a.pending, -BigInt(net)],
		[a.available, BigInt(net)],
	]);
}

/** The payment's next state for the intent's current state. */
export function reconcileCard(
	p: PaymentRecord,
	intent: StripeIntentSnapshot,
	now: number,
	refundsInFlight = 0,
): CardChange {
	const before = p.card ?? null;
	const card = cardDetails(before, intent, refundsInFlight);
	const status = p.status;
	const can = (to: PaymentStatus) => canTransition(status, to);
	// Crypto paid the price (or the payment closed): whatever the card brings is held for refund.
	const held = cardIsHeld(p);
	const extra = held && paidWith(p) === "solana";
	const change: CardChange = {
		to: null,
		event: null,
		card,
		patch: {},
		transfers: cardTransfers(p, before, card, held, now),
	};
	if (card.amount_refunded > (before?.amount_refunded ?? 0)) {
		// A held charge's refunds are its own: the price's refunded amount does not move.
		if (!held) change.patch.amount_refunded = card.amount_refunded;
		change.event = "payment.refunded";
	}
	switch (intent.status) {
		case "succeeded":
			if (held) {
				if (before?.intent_status !== "succeeded") {
					change.event = extra ? "payment.extra_funds_received" : "payment.late_payment_received";
				}
			} else if (can("succeeded")) {
				change.to = "succeeded";
				change.patch.paid_with = "card";
				change.patch.amount_received = intent.amount_received;
				change.patch.failure_code = null;
				change.patch.failure_message = null;
			}
			break;
		case "requires_capture":
			if (!held && can("requires_capture")) {
				change.to = "requires_capture";
				change.patch.paid_with = "card";
			}
			break;
		case "processing":
			if (status === "requires_payment") change.to = "processing";
			break;
		case "requires_payment_method": {
			const error = intent.last_payment_error;
			const newError =
				error && JSON.stringify(error) !== JSON.stringify(before?.last_payment_error ?? null);
			if (error) {
				change.patch.failure_code = error.decline_code ?? error.code ?? "card_error";
				change.patch.failure_message = error.message ?? "The card was declined.";
			}
			// A declined attempt leaves the payment open for another card, as Stripe does (only when
			// the card was what was processing: crypto awaiting finality is not the card's to undo).
			if (status === "processing" && before?.intent_status === "processing")
				change.to = "requires_payment";
			else if (newError && status === "requires_payment") change.event = "payment.payment_failed";
			break;
		}
		case "canceled":
			if (can("canceled") && status !== "succeeded") change.to = "canceled";
			break;
		default:
			break;
	}
	if (
		change.to === null &&
		change.event === null &&
		JSON.stringify(before) !== JSON.stringify(card)
	) {
		change.event = before ? "payment.card_updated" : "payment.card_attached";
	}
	return change;
}

/**
 * A dispute's withdrawal, in one adjustment. A held charge (extra or late) is withdrawn from the
 * payment's holding account as far as it still holds it; the merchant's balance covers the rest,
 * as for the price.
 */
export function disputeTransfer(
	payment: PaymentRecord,
	card: CardPaymentDetails,
	dispute: CardDispute,
	now: number,
): Transfer {
	const amount = BigInt(dispute.amount);
	const { currency, livemode } = payment;
	const inHolding = cardIsHeld(payment)
		? BigInt(Math.max(0, card.amount_received - (card.fee ?? 0) - card.amount_refunded))
		: 0n;
	const fromHolding = inHolding < amount ? inHolding : amount;
	const legs: [string, bigint][] = [
		[accounts.paymentHolding(payment.id, livemode, currency), -fromHolding],
		[accounts.merchantAvailable(payment.merchant_id, livemode, currency), fromHolding - amount],
		[accounts.settlement(livemode, "stripe", currency), amount],
	];
	return {
		id: `${payment.id}:dispute:${dispute.id}`,
		kind: "adjustment",
		reference: payment.id,
		livemode,
		created: now,
		postings: legs
			.filter(([, value]) => value !== 0n)
			.map(([account, value]) => ({ account, currency, amount: value })),
	};
}
