import type Stripe from "stripe";
import { behaviourOf } from "./cards.js";
import { createBalanceTransaction } from "./charges.js";
import type { RequestContext, StripeEmulator } from "./emulator.js";
import { invalidRequest } from "./errors.js";
import { DISPUTE_FEE } from "./money.js";

// Disputes (chargebacks). On Stripe they come from the card network; here from the
// `pm_card_createDispute` test card (after a captured payment) or on demand through the
// emulator-only route or the control server. The disputed amount and Stripe's $15 fee are
// withdrawn at once (`charge.dispute.funds_withdrawn`), as Stripe does.

export const DISPUTE_REASONS = [
	"bank_cannot_process",
	"credit_not_processed",
	"customer_initiated",
	"debit_not_authorized",
	"duplicate",
	"fraudulent",
	"general",
	"incorrect_account_details",
	"insufficient_funds",
	"product_not_received",
	"product_unacceptable",
	"subscription_canceled",
	"unrecognized",
] as const;

const NETWORK_REASON: Record<string, string> = {
	fraudulent: "10.4",
	duplicate: "12.6.1",
	product_not_received: "13.1",
};

function emptyEvidence(): Stripe.Dispute.Evidence {
	const fields = [
		"access_activity_log",
		"billing_address",
		"cancellation_policy",
		"cancellation_policy_disclosure",
		"cancellation_rebuttal",
		"customer_communication",
		"customer_email_address",
		"customer_name",
		"customer_purchase_ip",
		"customer_signature",
		"duplicate_charge_documentation",
		"duplicate_charge_explanation",
		"duplicate_charge_id",
		"product_description",
		"receipt",
		"refund_policy",
		"refund_policy_disclosure",
		"refund_refusal_explanation",
		"service_date",
		"service_documentation",
		"shipping_address",
		"shipping_carrier",
		"shipping_date",
		"shipping_documentation",
		"shipping_tracking_number",
		"uncategorized_file",
		"uncategorized_text",
	];
	return {
		...Object.fromEntries(fields.map((field) => [field, null])),
		enhanced_evidence: {},
	} as unknown as Stripe.Dispute.Evidence;
}

export interface DisputeOptions {
	reason?: string;
	amount?: number;
}

export function createDispute(
	em: StripeEmulator,
	charge: Stripe.Charge,
	options: DisputeOptions,
	ctx: RequestContext | null,
): Stripe.Dispute {
	if (!charge.captured) {
		throw invalidRequest(`Charge ${charge.id} has not been captured and cannot be disputed.`, {
			param: "charge",
		});
	}
	if (charge.disputed) {
		throw invalidRequest(`Charge ${charge.id} has already been disputed.`, {
			code: "charge_disputed",
			param: "charge",
		});
	}
	const reason = options.reason ?? "fraudulent";
	if (!(DISPUTE_REASONS as readonly string[]).includes(reason)) {
		throw invalidRequest(`Invalid reason: must be one of ${DISPUTE_REASONS.join(", ")}`, {
			param: "reason",
		});
	}
	const amount = options.amount ?? charge.amount_captured;
	if (!Number.isInteger(amount) || amount < 1 || amount > charge.amount_captured) {
		throw invalidRequest(
			`The dispute amount must be between 1 and the captured amount (${charge.amount_captured}).`,
			{ param: "amount" },
		);
	}
	const id = em.store.newId("du");
	const txn = createBalanceTransaction(em.store, {
		amount: -amount,
		currency: charge.currency,
		type: "adjustment",
		reportingCategory: "dispute",
		source: id,
		fee: DISPUTE_FEE,
		feeDescription: "Dispute fee",
		description: `Chargeback withdrawal for ${charge.id}`,
	});
	const created = em.store.seconds();
	const dispute: Stripe.Dispute = {
		id,
		object: "dispute",
		amount,
		balance_transactions: [txn],
		charge: charge.id,
		created,
		currency: charge.currency,
		enhanced_eligibility_types: [],
		evidence: emptyEvidence(),
		evidence_details: {
			due_by: created + 7 * 86_400,
			enhanced_eligibility: {},
			has_evidence: false,
			past_due: false,
			submission_count: 0,
			submission_method: "not_submitted",
		},
		intended_submission_method: null,
		is_charge_refundable: false,
		livemode: false,
		metadata: {},
		payment_intent: charge.payment_intent,
		payment_method_details: {
			card: {
				brand: charge.payment_method_details?.card?.brand ?? "visa",
				case_type: "chargeback",
				network: charge.payment_method_details?.card?.network ?? "visa",
				network_reason_code: NETWORK_REASON[reason] ?? null,
			},
			type: "card",
		},
		reason,
		status: "needs_response",
	};
	em.store.disputes.set(id, dispute);
	charge.disputed = true;
	em.emit("charge.dispute.created", dispute, ctx);
	em.emit("charge.dispute.funds_withdrawn", dispute, ctx);
	return dispute;
}

/** `pm_card_createDispute`: the captured charge is disputed as fraudulent a moment later. */
export function scheduleDisputeIfTestCard(em: StripeEmulator, charge: Stripe.Charge): void {
	if (!charge.payment_method || !behaviourOf(em.store, charge.payment_method).dispute) return;
	em.schedule(em.timings.disputeDelayMs, () => {
		if (!charge.disputed) createDispute(em, charge, { reason: "fraudulent" }, null);
	});
}
