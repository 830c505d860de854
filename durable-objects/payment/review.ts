import type { TransitionResult } from "../../src/domain/payment";
import type { PaymentStatus } from "../../src/domain/payment-state";
import { settlementTransfer } from "../../src/domain/solana-receipts";
import type { PaymentCore } from "./core";
import type { RefundSide } from "./refunds";

/**
 * The merchant's decision on a payment the risk rules sent to review. Approving: it succeeds and
 * its funds are settled as a normal success would have settled them. Refused once any of its held
 * funds went back.
 */
export async function approveReview(
	core: PaymentCore,
	refunds: RefundSide,
): Promise<TransitionResult> {
	const current = core.read();
	if (!current) return { ok: false, error: "not_found", message: "No such payment" };
	if (current.status !== "requires_review") {
		return notUnderReview(current.status, "approved");
	}
	if (refunds.heldCryptoReturned()) {
		return refused(
			current.status,
			"Funds of this payment were refunded during the review; it cannot be approved.",
		);
	}
	const nowS = Math.floor(Date.now() / 1000);
	return core.transition(
		"succeeded",
		(p, now) => ({ ...p, succeeded_at: now }),
		(p) =>
			p.solana ? [settlementTransfer(p, p.solana, BigInt(p.solana.amount_received), nowS)] : [],
	);
}

/** The merchant rejects a payment under review: it fails and its funds stay held for refund. */
export async function rejectReview(core: PaymentCore): Promise<TransitionResult> {
	const current = core.read();
	if (current && current.status !== "requires_review") {
		return notUnderReview(current.status, "rejected");
	}
	return core.transition("failed", (p) => ({
		...p,
		failure_code: "risk_rejected",
		failure_message: "Rejected by the merchant after a risk review; the funds are held for refund.",
	}));
}

function refused(status: PaymentStatus, message: string): TransitionResult {
	return { ok: false, error: "illegal_transition", status, message };
}

function notUnderReview(status: PaymentStatus, verb: "approved" | "rejected"): TransitionResult {
	return refused(
		status,
		`This payment's status is '${status}'; only a payment under review can be ${verb}.`,
	);
}
