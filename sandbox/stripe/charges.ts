import type Stripe from "stripe";
import { processingFee } from "./money.js";
import type { CardBehaviour, StripeStore } from "./store.js";

// Charges (one per payment attempt) and the balance transactions that money movements create.

const DAY = 86_400;

export interface BalanceTransactionInit {
	amount: number;
	currency: string;
	type: Stripe.BalanceTransaction.Type;
	reportingCategory: string;
	source: string;
	fee: number;
	feeDescription?: string;
	feeType?: string;
	description: string | null;
}

export function createBalanceTransaction(
	store: StripeStore,
	init: BalanceTransactionInit,
): Stripe.BalanceTransaction {
	const created = store.seconds();
	// Card funds become available two days later, at midnight UTC (US standard schedule).
	const availableOn = Math.floor(created / DAY) * DAY + 2 * DAY;
	const txn: Stripe.BalanceTransaction = {
		id: store.newId("txn"),
		object: "balance_transaction",
		amount: init.amount,
		available_on: availableOn,
		balance_type: "payments",
		created,
		currency: init.currency,
		description: init.description,
		exchange_rate: null,
		fee: init.fee,
		fee_details:
			init.fee === 0
				? []
				: [
						{
							amount: init.fee,
							application: null,
							currency: init.currency,
							description: init.feeDescription ?? "Stripe processing fees",
							type: init.feeType ?? "stripe_fee",
						},
					],
		net: init.amount - init.fee,
		reporting_category: init.reportingCategory,
		source: init.source,
		status: "pending",
		type: init.type,
	};
	store.balanceTransactions.set(txn.id, txn);
	return txn;
}

/** `pending` until `available_on`, then `available`, as Stripe reports it. */
export function refreshBalanceTransaction(
	store: StripeStore,
	txn: Stripe.BalanceTransaction,
): void {
	if (txn.status === "pending" && store.seconds() >= txn.available_on) txn.status = "available";
}

export interface ChargeInit {
	intent: Stripe.PaymentIntent;
	method: Stripe.PaymentMethod;
	status: "succeeded" | "pending" | "failed";
	decline?: CardBehaviour["decline"];
	authenticated?: boolean;
}

export function chargeOutcome(decline: CardBehaviour["decline"]): Stripe.Charge.Outcome {
	if (!decline) {
		return {
			advice_code: null,
			network_advice_code: null,
			network_decline_code: null,
			network_status: "approved_by_network",
			reason: null,
			risk_level: "normal",
			risk_score: 32,
			seller_message: "Payment complete.",
			type: "authorized",
		};
	}
	const generic = decline.reason === "generic_decline";
	return {
		advice_code: null,
		network_advice_code: null,
		network_decline_code: null,
		network_status: "declined_by_network",
		reason: decline.reason,
		risk_level: "normal",
		risk_score: 32,
		seller_message: generic
			? "The bank did not return any further details with this decline."
			: `The bank returned the decline code \`${decline.reason}\`.`,
		type: "issuer_declined",
	};
}

export function createCharge(store: StripeStore, init: ChargeInit): Stripe.Charge {
	const { intent, method, status, decline } = init;
	const card = method.card;
	const created = store.seconds();
	const manual = intent.capture_method === "manual";
	const charge: Stripe.Charge = {
		id: store.newId("ch"),
		object: "charge",
		amount: intent.amount,
		amount_captured: 0,
		amount_refunded: 0,
		application: null,
		application_fee: null,
		application_fee_amount: null,
		balance_transaction: null,
		billing_details: method.billing_details,
		calculated_statement_descriptor: (
			intent.statement_descriptor ?? `SANDBOX* ${intent.statement_descriptor_suffix ?? ""}`
		)
			.trim()
			.slice(0, 22),
		captured: false,
		created,
		currency: intent.currency,
		customer: null,
		description: intent.description,
		disputed: false,
		failure_balance_transaction: null,
		failure_code: decline?.code ?? null,
		failure_message: decline?.message ?? null,
		fraud_details: {},
		livemode: false,
		metadata: { ...intent.metadata },
		on_behalf_of: null,
		outcome: status === "pending" ? null : chargeOutcome(decline),
		paid: status === "succeeded",
		payment_intent: intent.id,
		payment_method: method.id,
		payment_method_details: {
			card: {
				amount_authorized: status === "failed" ? null : intent.amount,
				authorization_code: status === "failed" ? null : String(100000 + (created % 900000)),
				brand: card?.brand ?? null,
				...(manual && status !== "failed" ? { capture_before: created + 7 * DAY } : {}),
				checks: card?.checks ?? null,
				country: card?.country ?? null,
				electronic_commerce_indicator: init.authenticated ? "05" : null,
				exp_month: card?.exp_month ?? 12,
				exp_year: card?.exp_year ?? 2030,
				fingerprint: card?.fingerprint ?? null,
				funding: card?.funding ?? null,
				installments: null,
				last4: card?.last4 ?? null,
				mandate: null,
				network: card?.brand ?? null,
				network_transaction_id: status === "failed" ? null : String(created).padStart(15, "0"),
				regulated_status: "unregulated",
				three_d_secure: init.authenticated
					? {
							authentication_flow: "challenge",
							electronic_commerce_indicator: "05",
							exemption_indicator: null,
							result: "authenticated",
							result_reason: null,
							transaction_id: store.newId("3ds"),
							version: "2.2.0",
						}
					: null,
				transaction_link_id: null,
				wallet: null,
			},
			type: "card",
		},
		receipt_email: intent.receipt_email,
		receipt_number: null,
		receipt_url: null,
		refunded: false,
		review: null,
		shipping: null,
		source: null,
		source_transfer: null,
		statement_descriptor: intent.statement_descriptor,
		statement_descriptor_suffix: intent.statement_descriptor_suffix,
		status,
		transfer_data: null,
		transfer_group: null,
	};
	store.charges.set(charge.id, charge);
	return charge;
}

/** Money lands: the charge is captured for `amount` and gets its balance transaction. */
export function captureCharge(
	store: StripeStore,
	charge: Stripe.Charge,
	amount: number,
): Partial<Stripe.Charge> {
	const previous: Partial<Stripe.Charge> = {
		amount_captured: charge.amount_captured,
		balance_transaction: charge.balance_transaction,
		captured: charge.captured,
	};
	const txn = createBalanceTransaction(store, {
		amount,
		currency: charge.currency,
		type: "charge",
		reportingCategory: "charge",
		source: charge.id,
		fee: processingFee(amount, charge.currency),
		description: charge.description,
	});
	if (charge.payment_method && store.cards.get(charge.payment_method as string)?.bypassPending) {
		txn.available_on = txn.created;
		txn.status = "available";
	}
	charge.captured = true;
	charge.amount_captured = amount;
	charge.balance_transaction = txn.id;
	return previous;
}

/** What can still be refunded: captured minus refunded (failed refunds give theirs back). */
export function refundableAmount(charge: Stripe.Charge): number {
	return charge.amount_captured - charge.amount_refunded;
}
