import type { CardPaymentDetails } from "./card-details";
import type { PaymentMethodType } from "./payment-method";
import type { PaymentStatus } from "./payment-state";
import type { RiskAssessment } from "./risk";
import type { RoutingDecision } from "./routing";

/** What a change to a payment's state returns: the stored payment, or why it was refused. */
export type TransitionResult =
	| { ok: true; payment: PaymentRecord }
	| {
			ok: false;
			error: "not_found" | "illegal_transition";
			message: string;
			status?: PaymentStatus;
	  };

/** The crypto side of a payment: what to pay, where, and what has been seen on chain. */
export interface SolanaPaymentDetails {
	/** "SOL", "USDC" or a configured token's symbol. */
	token: string;
	/** The SPL mint; null for native SOL. */
	mint: string | null;
	token_program: string | null;
	decimals: number;
	/** Base units to pay, fee included (decimal string). */
	amount: string;
	/** The settlement wallet (owner address). */
	recipient: string;
	/** A fresh public key that identifies this payment's transactions. */
	reference: string;
	/** The references of earlier quotes: funds sent to any of them are still this payment's. */
	previous_references?: string[];
	memo: string;
	solana_pay_url: string;
	transaction_request_url: string;
	quote: {
		/** Price-currency units per whole token, as a decimal string. */
		rate: string;
		/** Base units (decimal strings). */
		fee: string;
		amount_before_fee: string;
		source: string;
		expires_at: number;
	};
	required_commitment: "confirmed" | "finalized";
	amount_received: string;
	amount_excess: string;
	/** The transaction that completed the payment, and who sent it. */
	signature: string | null;
	payer: string | null;
}

/**
 * Funds a payment holds for refund rather than for its merchant: a charge by the method that
 * did not pay the price, an overpayment's excess, funds that arrived after the payment closed.
 * Card amounts are minor units of the payment's currency; crypto amounts base units.
 */
export interface HeldFundsSummary {
	card: { amount: number; refunded: number } | null;
	solana: { token: string; amount: string; refunded: string } | null;
}

/** What the PaymentObject stores: the API object plus the fields only the gateway sees. */
export interface PaymentRecord {
	id: string;
	merchant_id: string;
	livemode: boolean;
	status: PaymentStatus;
	amount: number;
	currency: string;
	amount_received: number;
	amount_refunded: number;
	payment_method_types: PaymentMethodType[];
	description: string | null;
	metadata: Record<string, string>;
	success_url: string | null;
	cancel_url: string | null;
	checkout_url: string;
	/** Unix seconds. */
	expires_at: number;
	created: number;
	updated: number;
	canceled_at: number | null;
	cancellation_reason: string | null;
	succeeded_at: number | null;
	failure_code: string | null;
	failure_message: string | null;
	solana: SolanaPaymentDetails | null;
	/** The merchant's customer paying (`cus_…`). Absent in records stored before customers existed. */
	customer?: string | null;
	/** Card payments: capture at once, or authorise now and capture later. Absent means automatic. */
	capture_method?: "automatic" | "manual";
	/** The Stripe PaymentIntent behind the card side, once the payer opened the card tab. */
	card?: CardPaymentDetails | null;
	/** Which processor the routing rules chose, and why. */
	routing?: RoutingDecision | null;
	/** The fraud rules' verdict: at creation, then again (the stricter) when funds arrive. */
	risk?: RiskAssessment | null;
	/**
	 * The method whose funds paid the price (set when they arrive in full: a card authorised or
	 * captured, crypto counted). Funds from the other method are extra: held, never revenue.
	 */
	paid_with?: PaymentMethodType | null;
	/** What the payment holds for refund, per method; kept current by every commit. */
	held_funds?: HeldFundsSummary | null;
	/** Increases by one with every committed change; orders the D1 projection. */
	version: number;
}

export interface PaymentObjectJson
	extends Omit<
		PaymentRecord,
		| "merchant_id"
		| "version"
		| "updated"
		| "customer"
		| "capture_method"
		| "card"
		| "routing"
		| "risk"
		| "paid_with"
		| "held_funds"
	> {
	object: "payment";
	customer: string | null;
	capture_method: "automatic" | "manual";
	card: CardPaymentDetails | null;
	routing: RoutingDecision | null;
	risk: RiskAssessment | null;
	paid_with: PaymentMethodType | null;
	held_funds: HeldFundsSummary;
	/** `refunded` once all it received went back, `partially_refunded` before; the status stays. */
	refund_status: "refunded" | "partially_refunded" | null;
}

/** The API representation: internal fields stay inside the gateway. */
export function toApiPayment(record: PaymentRecord): PaymentObjectJson {
	const { id, merchant_id: _m, version: _v, updated: _u, customer, ...rest } = record;
	// Records stored before a field existed read as its default.
	return {
		id,
		object: "payment",
		...rest,
		customer: customer ?? null,
		capture_method: record.capture_method ?? "automatic",
		card: record.card ?? null,
		routing: record.routing ?? null,
		risk: record.risk ?? null,
		paid_with: paidWith(record),
		held_funds: record.held_funds ?? { card: null, solana: null },
		refund_status: refundStatusOf(record),
	};
}

/**
 * Which method paid the price. Every path that pays a payment sets `paid_with`; a paid record
 * without it (stored before it existed) reads it from its state: a captured or authorised card
 * paid it, else crypto did.
 */
export function paidWith(
	p: Pick<PaymentRecord, "paid_with" | "status" | "card" | "solana">,
): PaymentMethodType | null {
	if (p.paid_with) return p.paid_with;
	if (!["succeeded", "requires_capture", "requires_review"].includes(p.status)) return null;
	const card = p.card?.intent_status;
	if (card === "succeeded" || card === "requires_capture") return "card";
	return p.solana ? "solana" : null;
}

export interface NewPaymentInput {
	id: string;
	merchant_id: string;
	livemode: boolean;
	amount: number;
	currency: string;
	payment_method_types: PaymentMethodType[];
	description: string | null;
	metadata: Record<string, string>;
	success_url: string | null;
	cancel_url: string | null;
	checkout_url: string;
	expires_at: number;
	created: number;
	solana?: SolanaPaymentDetails | null;
	customer?: string | null;
	capture_method?: "automatic" | "manual";
	routing?: RoutingDecision | null;
	risk?: RiskAssessment | null;
}

export function newPaymentRecord(input: NewPaymentInput): PaymentRecord {
	return {
		...input,
		solana: input.solana ?? null,
		customer: input.customer ?? null,
		capture_method: input.capture_method ?? "automatic",
		card: null,
		routing: input.routing ?? null,
		risk: input.risk ?? null,
		paid_with: null,
		held_funds: null,
		status: "requires_payment",
		amount_received: 0,
		amount_refunded: 0,
		updated: input.created,
		canceled_at: null,
		cancellation_reason: null,
		succeeded_at: null,
		failure_code: null,
		failure_message: null,
		version: 1,
	};
}

/** Default and bounds of a payment's lifetime, in seconds. */
export const EXPIRES_IN = { default: 60 * 60, min: 60, max: 7 * 24 * 60 * 60 };

/** `refunded` once everything received has gone back, `partially_refunded` before, else null. */
export function refundStatusOf(
	p: Pick<PaymentRecord, "amount_received" | "amount_refunded" | "card">,
): "refunded" | "partially_refunded" | null {
	if (p.amount_refunded <= 0) return null;
	const base = p.amount_received > 0 ? p.amount_received : (p.card?.amount_received ?? 0);
	return p.amount_refunded >= base ? "refunded" : "partially_refunded";
}
