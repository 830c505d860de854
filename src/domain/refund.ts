import type { PaymentMethodType } from "./payment-method";

/**
 * Refunds, pure part: the refund record, its statuses and its API shape. What a payment holds
 * for refund is src/domain/refund-held.ts, deciding a refund src/domain/refund-plan.ts, its ledger
 * transfers src/domain/refund-booking.ts, a converted price's refund src/domain/refund-conversion.ts.
 *
 * Fee policy: the payer gets back everything the refunded share of the payment cost them (the
 * gateway fee a crypto payer paid on top included); the merchant pays for it. Stripe keeps its
 * card fee and the gateway keeps its fee, as Stripe does, and the network fee of a crypto
 * refund's transaction is charged to the merchant's SOL balance. A merchant's balance can
 * therefore dip below zero by those fees; later payments make it up. A converted payment (its
 * price moved into the merchant's settlement currency) goes back at the current rate, paid from
 * the settlement balance with the conversion spread on top (src/domain/refund-conversion.ts).
 */
export const REFUND_REASONS = ["duplicate", "fraudulent", "requested_by_customer"] as const;
export type RefundReason = (typeof REFUND_REASONS)[number];

export const REFUND_STATUSES = ["pending", "succeeded", "failed", "canceled"] as const;
export type RefundStatus = (typeof REFUND_STATUSES)[number];

/**
 * `received`: what the merchant was paid (the price, in the payment's currency). `held`: crypto
 * the payment holds for refund (an overpayment's excess, funds that arrived late or after the
 * quote ran out), or a card charge that succeeded after the payment had closed.
 */
export const REFUND_FUNDS = ["received", "held"] as const;
export type RefundFunds = (typeof REFUND_FUNDS)[number];

export interface SolanaRefundDetails {
	token: string;
	mint: string | null;
	token_program: string | null;
	decimals: number;
	/** Base units sent back (decimal string). */
	amount: string;
	recipient: string;
	/** The refund id, carried by the transfer as an SPL memo. */
	memo: string;
	/**
	 * The settlement wallet's token account the tokens leave from, when it is not its associated
	 * one (funds a payer sent to another account the wallet owns go back from there).
	 */
	source?: string;
	/**
	 * A full refund of a payment several wallets paid: each gets back its share, in one
	 * transaction (all or nothing). `amount` is their sum, `recipient` the largest payer.
	 */
	splits?: { recipient: string; amount: string }[];
	/**
	 * Held funds sent to a wallet other than the one they came from (its sender asked): whose
	 * funds they were, so they are not owed to it again.
	 */
	sender?: string;
	/** The transaction that paid the refund, once it is final. */
	signature: string | null;
	/** Lamports the refund's transactions cost the settlement wallet (fees, a new token account). */
	network_fee: string | null;
}

export interface CardRefundDetails {
	charge: string | null;
	/** Stripe's refund (`re_…` at Stripe), once Stripe has it. */
	stripe_refund: string | null;
	stripe_status: string | null;
}

/** What a change to a refund returns: the stored refund, or why it was refused. */
export type RefundResult =
	| { ok: true; refund: RefundRecord }
	| {
			ok: false;
			code:
				| "resource_missing"
				| "parameter_invalid"
				| "parameter_missing"
				| "payment_unexpected_state";
			message: string;
			param?: string;
	  };

/** What a PaymentObject stores for each refund of its payment. */
export interface RefundRecord {
	id: string;
	payment_id: string;
	merchant_id: string;
	livemode: boolean;
	status: RefundStatus;
	funds: RefundFunds;
	/** Minor units of `currency`; null for held crypto, which has no price (see `solana.amount`). */
	amount: number | null;
	currency: string;
	reason: RefundReason | null;
	metadata: Record<string, string>;
	processor: "stripe" | "solana";
	failure_reason: string | null;
	card: CardRefundDetails | null;
	solana: SolanaRefundDetails | null;
	/** A converted payment's refund: its price taken from the settlement balance, at these terms. */
	conversion?: RefundConversion;
	created: number;
	updated: number;
	version: number;
}

export interface RefundJson
	extends Omit<RefundRecord, "payment_id" | "merchant_id" | "version" | "conversion"> {
	object: "refund";
	payment: string;
	/** Null unless the refund is of a converted payment (refund-conversion.ts). */
	conversion: RefundConversion | null;
	/** The method the money goes back by: `card` (Stripe) or `solana` (on chain). */
	method: PaymentMethodType;
	fees: {
		paid_by: "merchant";
		/** Stripe's fee and the gateway fee stay with whoever charged them. */
		payment_fee_returned: false;
		/** Lamports (crypto), charged to the merchant's SOL balance; null for cards and until final. */
		network_fee: string | null;
	};
}

export function toApiRefund(r: RefundRecord): RefundJson {
	const { id, payment_id, merchant_id: _m, version: _v, ...rest } = r;
	return {
		id,
		object: "refund",
		...rest,
		payment: payment_id,
		conversion: r.conversion ?? null,
		method: r.processor === "stripe" ? "card" : "solana",
		fees: {
			paid_by: "merchant",
			payment_fee_returned: false,
			network_fee: r.solana?.network_fee ?? null,
		},
	};
}

/** An amount in the API: minor units (number) or token base units (decimal string). */
type Amount = number | string;

/** What a converted refund records (the refund's `conversion`). */
export interface RefundConversion {
	/** The payment's conversion this refund is taken against (`conv_…`). */
	payment_conversion: string;
	settlement_currency: string;
	settlement_token: string | null;
	/** What the tokens sent back are worth in the settlement currency, rounded up. */
	debit: Amount;
	spread_bps: number;
	/** The gateway's spread on buying the tokens back, in settlement units, rounded down. */
	spread: Amount;
	/** Base units of the paid token sent to the payer (decimal string; `solana.amount`). */
	tokens: string;
	/** Settlement-currency units per one whole paid token (display; exact in the terms). */
	rate: string;
	rate_source: string;
	rate_published: number | null;
}
