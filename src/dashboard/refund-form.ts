import { MoneyError, parseDecimal } from "../domain/money";
import type { PaymentRecord } from "../domain/payment";
import { REFUND_REASONS, type RefundReason } from "../domain/refund";
import { refundNeedsStepUp } from "../domain/roles";
import type { Env } from "../env";
import { createRefund } from "../services/refunds";
import { getTeamSettings } from "../services/team";
import { requireStepUp } from "./access";
import { type DashboardContext, PageError } from "./context";
import { checkFormToken, newFormToken, onceByFormToken } from "./form-once";
import type { DashboardSession } from "./session";

export { newFormToken };

export interface RefundFormInput {
	formToken: string | undefined;
	/** Major units as typed ("12.50"); absent refunds everything left. */
	amount: string | undefined;
	reason: string | undefined;
}

export type RefundFormOutcome =
	| { state: "created"; refundId: string }
	| { state: "replayed"; refundId: string }
	| { state: "in_progress" };

function parseInput(payment: PaymentRecord, input: RefundFormInput) {
	const formToken = checkFormToken(input.formToken, "refund");
	let amount: number | undefined;
	if (input.amount !== undefined) {
		try {
			amount = Number(parseDecimal(input.amount, payment.currency));
		} catch (error) {
			if (!(error instanceof MoneyError)) throw error;
			throw new PageError(
				400,
				"Check the form",
				`'${input.amount.slice(0, 40)}' is not an amount in ${payment.currency.toUpperCase()} (e.g. 12.50).`,
			);
		}
		if (amount <= 0) throw new PageError(400, "Check the form", "The amount must be above zero.");
	}
	let reason: RefundReason | undefined;
	if (input.reason !== undefined) {
		if (!(REFUND_REASONS as readonly string[]).includes(input.reason)) {
			throw new PageError(400, "Check the form", `Unknown refund reason '${input.reason}'.`);
		}
		reason = input.reason as RefundReason;
	}
	return { formToken, amount, reason };
}

/**
 * Creates the refund through the same service as POST /v1/refunds, once per form token (see
 * form-once.ts): a double submit finds the first refund; a refused attempt frees the token.
 */
export async function refundOnce(
	env: Env,
	session: DashboardSession,
	payment: PaymentRecord,
	input: RefundFormInput,
): Promise<RefundFormOutcome> {
	const { formToken, amount, reason } = parseInput(payment, input);
	const outcome = await onceByFormToken(
		env,
		session,
		{ kind: "refund", formToken, request: `${payment.id}\n${amount ?? "all"}\n${reason ?? ""}` },
		async () =>
			(
				await createRefund(env, session, {
					payment: payment.id,
					amount,
					reason,
					metadata: { source: "dashboard" },
				})
			).id,
	);
	return outcome.state === "in_progress" ? outcome : { state: outcome.state, refundId: outcome.id };
}

/**
 * Refunds above the merchant's step-up amount (or in another currency than it) need a passkey
 * assertion within five minutes. An empty amount refunds what is left, so that is what counts.
 */
export async function refundStepUp(
	c: DashboardContext,
	session: DashboardSession,
	payment: PaymentRecord,
	typed: string | undefined,
): Promise<void> {
	const { refundStepUp: threshold } = await getTeamSettings(c.env.DB, session.merchantId);
	if (!threshold) return;
	let amount = payment.amount_received - payment.amount_refunded;
	if (typed !== undefined) {
		try {
			amount = Number(parseDecimal(typed, payment.currency));
		} catch (error) {
			if (!(error instanceof MoneyError)) throw error;
			return; // The refund itself refuses the amount, with its own message.
		}
	}
	if (refundNeedsStepUp(threshold, amount, payment.currency)) await requireStepUp(c, session);
}
