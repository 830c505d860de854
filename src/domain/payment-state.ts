/**
 * The payment state machine. Every change of status goes through `assertTransition`; an illegal
 * transition is an error, never a silent overwrite.
 */
export const PAYMENT_STATUSES = [
	"requires_payment",
	"processing",
	"requires_capture",
	"requires_review",
	"succeeded",
	"expired",
	"canceled",
	"failed",
] as const;

export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

/** Allowed next statuses for each status. Terminal statuses allow none. */
export const TRANSITIONS: Readonly<Record<PaymentStatus, readonly PaymentStatus[]>> = {
	// A payment may succeed directly when a processor reports funds final in one step.
	requires_payment: [
		"processing",
		"requires_capture",
		"requires_review",
		"succeeded",
		"expired",
		"canceled",
		"failed",
	],
	// A failed attempt (a declined card, a dropped transaction) returns to requires_payment so the
	// payer can try again, as Stripe's PaymentIntents do.
	processing: ["requires_capture", "requires_review", "succeeded", "failed", "requires_payment"],
	// A card authorisation the merchant captures later (capture_method "manual"); it is released
	// when the payment is canceled or expires.
	requires_capture: ["succeeded", "canceled", "expired", "failed"],
	// Funds arrived but the merchant's risk rules asked for a review: approval settles them
	// (succeeded); rejection fails the payment and the funds stay held for refund. It never
	// expires: the funds are already here.
	requires_review: ["succeeded", "failed"],
	succeeded: [],
	expired: [],
	canceled: [],
	failed: [],
};

export const TERMINAL_STATUSES: readonly PaymentStatus[] = PAYMENT_STATUSES.filter(
	(s) => TRANSITIONS[s].length === 0,
);

export class IllegalTransitionError extends Error {
	constructor(
		readonly from: PaymentStatus,
		readonly to: PaymentStatus,
	) {
		super(`A payment in status '${from}' cannot become '${to}'`);
		this.name = "IllegalTransitionError";
	}
}

export function canTransition(from: PaymentStatus, to: PaymentStatus): boolean {
	return TRANSITIONS[from].includes(to);
}

export function assertTransition(from: PaymentStatus, to: PaymentStatus): void {
	if (!canTransition(from, to)) throw new IllegalTransitionError(from, to);
}

export function isTerminal(status: PaymentStatus): boolean {
	return TRANSITIONS[status].length === 0;
}

/** The event type a transition into `status` appends to the event log. */
export function eventTypeFor(status: PaymentStatus): string {
	return `payment.${status}`;
}
