/**
 * What a payment records of its card side, and the parts of Stripe's objects it is built from:
 * plain types, so the payment record, the card rules and card presentment all read them.
 */

/** The parts of a Stripe PaymentIntent (and its latest charge) the gateway acts on. */
export interface StripeIntentSnapshot {
	id: string;
	status:
		| "requires_payment_method"
		| "requires_confirmation"
		| "requires_action"
		| "processing"
		| "requires_capture"
		| "canceled"
		| "succeeded";
	amount: number;
	currency: string;
	capture_method: "automatic" | "automatic_async" | "manual";
	amount_capturable: number;
	amount_received: number;
	cancellation_reason: string | null;
	last_payment_error: {
		code: string | null;
		decline_code: string | null;
		message: string | null;
	} | null;
	charge: {
		id: string;
		amount_refunded: number;
		/** Stripe's fee and when the funds become available, once its balance transaction exists. */
		fee: number | null;
		available_on: number | null;
		/** The card's fingerprint (the same card gives the same value), for the risk rules. */
		fingerprint?: string | null;
	} | null;
	/** A charge presented in the payer's currency; amounts above are already in the price's. */
	presentment?: CardPresentment;
}

export interface CardDispute {
	id: string;
	amount: number;
	currency: string;
	reason: string;
	status: string;
	created: number;
}

/** What a payment records of its card side. */
export interface CardPaymentDetails {
	payment_intent: string;
	/** Stripe's status of the intent. */
	intent_status: StripeIntentSnapshot["status"];
	capture_method: "automatic" | "manual";
	amount_capturable: number;
	amount_received: number;
	charge: string | null;
	fee: number | null;
	available_on: number | null;
	amount_refunded: number;
	last_payment_error: StripeIntentSnapshot["last_payment_error"];
	disputes: CardDispute[];
	/** Charged in the payer's currency: the amount, rate and fee disclosed (absent otherwise). */
	presentment?: CardPresentment;
}

/** What a presented card payment discloses (`payment.card.presentment`). */
export interface CardPresentment {
	/** The payer's currency: what the card is charged in. */
	currency: string;
	/** Charged, in minor units of `currency`, fee included. */
	amount: number;
	/** Payer-currency units per one price-currency unit, mid-market, as a decimal string. */
	rate: string;
	/** The spread, in minor units of `currency`, included in `amount`. */
	fee: number;
	spread_bps: number;
	/** The price, in the payment's own currency: what the merchant is owed. */
	price_amount: number;
	price_currency: string;
}
