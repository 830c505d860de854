import { eventTypeFor, PAYMENT_STATUSES } from "./payment-state";

/**
 * Every event type the gateway appends to the event log: what a webhook endpoint can subscribe
 * to. A producer that emits a new type adds it here; test/unit/event-types.test.ts reads the
 * source tree and fails on an emitted type this list lacks.
 */
export const EVENT_TYPES: readonly string[] = Object.freeze(
	[
		// Payments: created, each status it moves into, and what happens to it without a transition.
		"payment.created",
		...PAYMENT_STATUSES.map(eventTypeFor),
		"payment.quote_updated",
		"payment.partially_funded",
		"payment.late_payment_received",
		"payment.extra_funds_received",
		"payment.card_attached",
		"payment.card_updated",
		"payment.payment_failed",
		"payment.dispute_created",
		"payment.funds_available",
		"payment.refunded",
		"payment.refund_failed",
		// Refunds, conversions and reports.
		"refund.created",
		"refund.updated",
		"refund.succeeded",
		"refund.failed",
		"conversion.completed",
		"conversion.failed",
		"report.ready",
		"report.failed",
		// Configuration the merchant's systems may mirror.
		"risk_rules.updated",
		"routing_rules.updated",
		"webhook_endpoint.disabled",
		// Payouts: created, every status change, and the outcome.
		"payout.created",
		"payout.updated",
		"payout.paid",
		"payout.failed",
		"payout.canceled",
		// Payout destinations: announced at once, before a new one can receive money.
		"payout_destination.created",
		"payout_destination.updated",
		"payout_destination.removed",
	].sort(),
);

const KNOWN = new Set(EVENT_TYPES);

/** The entries of an endpoint's `enabled_events` that name no event type (`*` is known). */
export function unknownEventTypes(types: readonly string[]): string[] {
	return types.filter((t) => t !== "*" && !KNOWN.has(t));
}
