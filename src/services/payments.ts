import type { TransitionResult } from "../../durable-objects/payment-object";
import type { PaymentRecord } from "../domain/payment";
import type { Env } from "../env";
import { ApiError, notFound } from "../lib/errors";
import { isId } from "../lib/ids";
import type { AuthContext } from "../types";

export function paymentStub(env: Env, paymentId: string) {
	return env.PAYMENTS.get(env.PAYMENTS.idFromName(paymentId));
}

/**
 * Loads a payment the caller may see. Another merchant's payment, or one of the other mode, is
 * reported exactly like an unknown id: existence is never revealed.
 */
export async function loadPayment(
	env: Env,
	auth: AuthContext,
	paymentId: string,
): Promise<PaymentRecord> {
	if (!isId("payment", paymentId)) throw notFound("payment", paymentId);
	const payment = await paymentStub(env, paymentId).get();
	if (!payment || payment.merchant_id !== auth.merchantId || payment.livemode !== auth.livemode) {
		throw notFound("payment", paymentId);
	}
	return payment;
}

/** Turns a PaymentObject transition result into the payment or the house error. */
export function unwrapTransition(result: TransitionResult, paymentId: string): PaymentRecord {
	if (result.ok) return result.payment;
	if (result.error === "not_found") throw notFound("payment", paymentId);
	throw new ApiError("payment_unexpected_state", result.message);
}
