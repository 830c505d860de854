import { MoneyError, parseDecimal } from "../domain/money";
import type { PaymentRecord } from "../domain/payment";
import { REFUND_REASONS, type RefundReason } from "../domain/refund";
import type { Env } from "../env";
import { sha256Hex } from "../lib/crypto";
import { randomBase62 } from "../lib/ids";
import { createRefund } from "../services/refunds";
import { PageError } from "./context";
import type { DashboardSession } from "./session";

/** How long a refund form's token is remembered (as long as the API's idempotency keys). */
const TOKEN_TTL_SECONDS = 24 * 60 * 60;
/** How long a submission holds its token; a crashed one frees it after this. */
const LOCK_SECONDS = 60;
const TOKEN = /^[0-9A-Za-z]{32}$/;

/** A fresh one-time token for a refund form. */
export function newFormToken(): string {
	return randomBase62(32);
}

export interface RefundFormInput {
	formToken: string | undefined;
	/** Major units as typed ("12.50"); absent refunds everything left. */
	amount: string | undefined;
	reason: string | undefined;
}

export type RefundOutcome =
	| { state: "created"; refundId: string }
	| { state: "replayed"; refundId: string }
	| { state: "in_progress" };

function parseInput(payment: PaymentRecord, input: RefundFormInput) {
	if (!input.formToken || !TOKEN.test(input.formToken)) {
		throw new PageError(400, "Check the form", "The refund form is incomplete; reload the page.");
	}
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
	return { formToken: input.formToken, amount, reason };
}

/**
 * Creates the refund through the same service as POST /v1/refunds, once per form token: the
 * token becomes an idempotency key of the merchant and mode, so a double submit (or a resent
 * form) finds the first refund instead of making a second. A failed attempt frees the token.
 */
export async function refundOnce(
	env: Env,
	session: DashboardSession,
	payment: PaymentRecord,
	input: RefundFormInput,
): Promise<RefundOutcome> {
	const { formToken, amount, reason } = parseInput(payment, input);
	const db = env.DB;
	const pk = [session.merchantId, session.livemode ? 1 : 0, `dashboard-refund:${formToken}`];
	const requestHash = await sha256Hex(
		`dashboard refund\n${payment.id}\n${amount ?? "all"}\n${reason ?? ""}`,
	);
	const now = Math.floor(Date.now() / 1000);
	const claimed = await db
		.prepare(
			`INSERT INTO idempotency_keys (merchant_id, livemode, key, request_hash, locked_until, created, expires_at)
			 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
			 ON CONFLICT (merchant_id, livemode, key) DO UPDATE SET locked_until = excluded.locked_until
			 WHERE idempotency_keys.response_status IS NULL AND idempotency_keys.locked_until <= ?6
			   AND idempotency_keys.request_hash = excluded.request_hash`,
		)
		.bind(...pk, requestHash, now + LOCK_SECONDS, now, now + TOKEN_TTL_SECONDS)
		.run();
	if (claimed.meta.changes !== 1) {
		const stored = await db
			.prepare(
				"SELECT request_hash, response_status, response_body FROM idempotency_keys WHERE merchant_id = ? AND livemode = ? AND key = ?",
			)
			.bind(...pk)
			.first<{
				request_hash: string;
				response_status: number | null;
				response_body: string | null;
			}>();
		if (stored && stored.request_hash !== requestHash) {
			throw new PageError(
				422,
				"Not accepted",
				"This refund form was already used for another refund. Reload the page to start a new one.",
			);
		}
		if (stored?.response_status === 200 && stored.response_body) {
			return { state: "replayed", refundId: stored.response_body };
		}
		return { state: "in_progress" };
	}
	let refundId: string | null = null;
	try {
		const refund = await createRefund(env, session, {
			payment: payment.id,
			amount,
			reason,
			metadata: { source: "dashboard" },
		});
		refundId = refund.id;
		await db
			.prepare(
				"UPDATE idempotency_keys SET response_status = 200, response_body = ?, locked_until = NULL WHERE merchant_id = ? AND livemode = ? AND key = ?",
			)
			.bind(refund.id, ...pk)
			.run();
		return { state: "created", refundId: refund.id };
	} finally {
		if (refundId === null) {
			// Refused or failed: the same form may be sent again (corrected).
			await db
				.prepare("DELETE FROM idempotency_keys WHERE merchant_id = ? AND livemode = ? AND key = ?")
				.bind(...pk)
				.run()
				.catch(() => undefined);
		}
	}
}
