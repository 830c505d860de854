import type Stripe from "stripe";
import { createServices } from "../context";
import { placeRefundHold, refundCoverage } from "../db/balance-holds";
import { checkCursors, paginate } from "../db/pagination";
import { pendingRefundIds, refundDataWindow, refundOwnerRow } from "../db/refunds";
import { isId, lowestIdAt, newId } from "../domain/ids";
import type { Owner } from "../domain/owner";
import type { PaymentMethodType } from "../domain/payment-method";
import type { RefundsMessage } from "../domain/queue-messages";
import type {
	RefundFunds,
	RefundJson,
	RefundReason,
	RefundRecord,
	RefundResult,
} from "../domain/refund";
import type { RefundDraw } from "../domain/refund-booking";
import type { RefundRequest } from "../domain/refund-plan";
import type { Env } from "../env";
import { ApiError, notFound } from "../lib/errors";
import { log } from "../lib/log";
import { SolanaRpcError } from "../processors/solana/rpc";
import { isStripeError, refusedByStripe } from "../processors/stripe/client";
import { paymentStub } from "./payments";
import { refundConversionTerms } from "./refund-conversion";
import { recordProcessorOutcome } from "./routing";

/** The validated body of `POST /v1/refunds`. */
export interface NewRefundParams {
	payment: string;
	method?: PaymentMethodType | undefined;
	amount?: number | undefined;
	funds?: RefundFunds | undefined;
	reason?: RefundReason | undefined;
	destination?: string | undefined;
	metadata: Record<string, string>;
}

export function refundSender(env: Env, refundId: string) {
	if (!env.REFUNDS) throw new Error("Crypto refunds need the REFUNDS Durable Object binding");
	return env.REFUNDS.get(env.REFUNDS.idFromName(refundId));
}

function unwrap(result: RefundResult): RefundRecord {
	if (result.ok) return result.refund;
	if (result.code === "resource_missing") throw new ApiError("resource_missing", result.message);
	throw new ApiError(result.code, result.message, result.param);
}

/**
 * Creates a refund: the payment's object plans it against the refunds before it and reserves its
 * amount in one step, then (through its outbox) records it in D1, emits refund.created and puts
 * it on the refunds queue, whose consumer sends the money back.
 */
export async function createRefund(
	env: Env,
	owner: Owner,
	params: NewRefundParams,
): Promise<RefundRecord> {
	if (!isId("payment", params.payment)) throw notFound("payment", params.payment, "payment");
	const stub = paymentStub(env, params.payment);
	const payment = await stub.get();
	if (!payment || payment.merchant_id !== owner.merchantId || payment.livemode !== owner.livemode) {
		throw notFound("payment", params.payment, "payment");
	}
	if (params.destination !== undefined && payment.solana && params.method !== "card") {
		await assertRefundDestination(env, params.destination);
	}
	// A converted price goes back from the settlement currency at the current rate; the
	// payment's conversion runs first if it has not, so a refund racing it always lands after it.
	const conversion = await refundConversionTerms(env, payment, params);
	const now = Date.now();
	const request: RefundRequest = {
		id: newId("refund", now),
		method: params.method,
		amount: params.amount,
		funds: params.funds,
		reason: params.reason,
		destination: params.destination,
		metadata: params.metadata,
		now: Math.floor(now / 1000),
		conversion,
	};
	// The common case answered here; under races the consumer's hold (processRefund) decides.
	const draw = await stub.previewRefundDraw(request);
	if (draw) {
		const { free, need } = await refundCoverage(env.DB, draw);
		if (need > 0n && free < need) throw balanceInsufficient(draw, free, need);
	}
	return unwrap(await stub.createRefund(request));
}

/** Refused: the merchant's available balance (less pending refunds) cannot pay for the refund. */
function balanceInsufficient(draw: RefundDraw, free: bigint, need: bigint): ApiError {
	const fees = draw.amount - need;
	return new ApiError(
		"balance_insufficient",
		`Insufficient available balance for this refund: it takes ${draw.amount} ${draw.unit} from your available balance${fees > 0n ? ` (${fees} of it the payment's fees, which may take the balance below zero)` : ""}, which has ${free < 0n ? 0n : free} ${draw.unit} not already paid out or set aside for other refunds; short by ${need - free} ${draw.unit}.`,
		"amount",
	);
}

const SYSTEM_PROGRAM = "11111111111111111111111111111111";

/**
 * A crypto refund goes to a wallet: an account the System program owns (or one that does not
 * exist yet). Never to the settlement wallet itself (the transfer would move nothing while the
 * ledger booked it as gone), nor to a token account, a mint or a program, whose associated
 * token account nobody could ever spend from.
 */
export async function assertRefundDestination(
	env: Env,
	destination: string,
	as: { param: string; hint: string } = {
		param: "destination",
		hint: "Name the payer's wallet address.",
	},
): Promise<void> {
	const refuse = (why: string) => {
		throw new ApiError("parameter_invalid", `${as.param} ${why}`, as.param);
	};
	if (destination === env.SOLANA_SETTLEMENT_WALLET) refuse("is the gateway's settlement wallet.");
	let info: { value: { owner: string; executable: boolean } | null };
	try {
		info = await createServices(env).solana.call<typeof info>("getAccountInfo", [
			destination,
			{ encoding: "base64", commitment: "confirmed", dataSlice: { offset: 0, length: 0 } },
		]);
	} catch (err) {
		if (err instanceof SolanaRpcError && !err.retryable) refuse("is not a Solana address.");
		throw new ApiError(
			"processor_error",
			"The Solana network could not be reached to check the destination. Retry shortly.",
		);
	}
	const account = info.value;
	if (account && (account.executable || account.owner !== SYSTEM_PROGRAM)) {
		refuse(
			`is not a wallet: it is ${account.executable ? "a program" : `an account of program ${account.owner}`}. ${as.hint}`,
		);
	}
}

/** A refund the caller may see, read from its payment's object (strongly consistent). */
export async function loadRefund(env: Env, owner: Owner, id: string): Promise<RefundRecord> {
	const row = isId("refund", id) ? await refundOwnerRow(env.DB, id) : undefined;
	if (!row || row.merchantId !== owner.merchantId || row.livemode !== owner.livemode) {
		throw notFound("refund", id);
	}
	const refund = await paymentStub(env, row.paymentId).getRefund(id);
	if (!refund) throw notFound("refund", id);
	return refund;
}

export interface RefundPageQuery {
	limit: number;
	starting_after?: string | undefined;
	ending_before?: string | undefined;
	payment?: string | undefined;
}

/** Newest first from the D1 projection (eventually consistent, like payment lists). */
export async function listRefunds(
	env: Env,
	owner: Owner,
	query: RefundPageQuery,
): Promise<{ data: RefundJson[]; has_more: boolean }> {
	checkCursors(query, "refund");
	const page = await paginate(query, (window) =>
		refundDataWindow(env.DB, owner, query.payment, window),
	);
	return { data: page.data.map((r) => JSON.parse(r.data) as RefundJson), has_more: page.has_more };
}

/**
 * One go at a pending refund (the refunds queue's work). `done`: finished or handed to its
 * sender, nothing more for the queue to do; `waiting`: Stripe is still working on it. Throws
 * when trying again later may help (Stripe or a Durable Object unreachable).
 */
export async function processRefund(env: Env, refundId: string): Promise<"done" | "waiting"> {
	const row = await refundOwnerRow(env.DB, refundId);
	if (!row) {
		log("warn", "refund message for an unknown refund", { refund: refundId });
		return "done";
	}
	const stub = paymentStub(env, row.paymentId);
	const refund = await stub.getRefund(refundId);
	// Already finished (a duplicate message): nothing to do, nothing to change.
	if (refund?.status !== "pending") return "done";
	if (!(await holdRefundFunds(env, refund))) return "done";
	if (refund.processor === "stripe") return refundCard(env, refund);
	if (!refund.solana) throw new Error(`Refund ${refund.id} has no crypto details`);
	// The sender takes it from here (alarm-driven); a repeated start only looks again.
	await refundSender(env, refund.id).start({
		refund_id: refund.id,
		payment_id: refund.payment_id,
		solana: refund.solana,
	});
	return "done";
}

/**
 * Sets aside what the refund will debit from the merchant's available balance, before any money
 * moves (Stripe's call, the chain sender): a payout or another refund cannot take it meanwhile.
 * When the balance cannot cover it (paid out since the refund was created) the refund fails with
 * `insufficient_funds` and its amount is free again. False when it failed.
 */
async function holdRefundFunds(env: Env, refund: RefundRecord): Promise<boolean> {
	const stub = paymentStub(env, refund.payment_id);
	const draw = await stub.refundDraw(refund.id);
	if (!draw) return true;
	const held = await placeRefundHold(env.DB, {
		refund_id: refund.id,
		merchant_id: refund.merchant_id,
		livemode: refund.livemode,
		draw,
		now: Math.floor(Date.now() / 1000),
	});
	if (held.placed) return true;
	log("warn", "refund refused: the merchant's available balance cannot cover it", {
		refund: refund.id,
		account: draw.account,
		amount: draw.amount.toString(),
		shortfall: held.shortfall.toString(),
	});
	await stub.failRefund(refund.id, { reason: "insufficient_funds" });
	return false;
}

/**
 * The card refund at Stripe, with an idempotency key derived from our refund id: a retry after a
 * lost answer gets the same Stripe refund, never a second one.
 */
async function refundCard(env: Env, refund: RefundRecord): Promise<"done" | "waiting"> {
	const stub = paymentStub(env, refund.payment_id);
	const payment = await stub.get();
	const intent = payment?.card?.payment_intent;
	if (!intent) throw new Error(`Refund ${refund.id}: the payment has no card intent`);
	const stripe = createServices(env).stripe();
	let result: Stripe.Refund;
	try {
		result = refund.card?.stripe_refund
			? await stripe.refunds.retrieve(refund.card.stripe_refund)
			: await stripe.refunds.create(
					{
						payment_intent: intent,
						amount: refund.amount ?? undefined,
						...(refund.reason ? { reason: refund.reason } : {}),
						metadata: { refund_id: refund.id, payment_id: refund.payment_id },
					},
					{ idempotencyKey: `${refund.id}:stripe` },
				);
	} catch (err) {
		if (refusedByStripe(err, "StripeCardError")) {
			await stub.failRefund(refund.id, { reason: `Stripe refused the refund: ${err.message}` });
			return "done";
		}
		if (
			!isStripeError(err) ||
			err.type === "StripeConnectionError" ||
			(err.statusCode ?? 0) >= 500
		) {
			await recordProcessorOutcome(env, "stripe", "failure");
		}
		throw err;
	}
	const card = { stripe_refund: result.id, stripe_status: result.status ?? "pending" };
	if (result.status === "succeeded") {
		await stub.completeRefund(refund.id, { card });
		return "done";
	}
	if (result.status === "failed" || result.status === "canceled") {
		await stub.failRefund(refund.id, {
			reason: `Stripe ${result.status} the refund${result.failure_reason ? `: ${result.failure_reason}` : "."}`,
			status: result.status,
			card,
		});
		return "done";
	}
	await stub.noteStripeRefund(refund.id, card);
	return "waiting";
}

/**
 * The queue gives up on a refund: it fails (its amount free again, refund.failed) unless money
 * may still be on its way. A crypto refund whose transaction could still land is left to its
 * sender, which finishes it either way; only one proven never to land (or never built) fails.
 */
export async function abandonRefund(env: Env, refundId: string, reason: string): Promise<void> {
	const row = await refundOwnerRow(env.DB, refundId);
	if (!row) return;
	const stub = paymentStub(env, row.paymentId);
	const refund = await stub.getRefund(refundId);
	if (refund?.status !== "pending") return;
	if (refund.processor === "solana") {
		const state = await refundSender(env, refundId).abandon(reason);
		if (state === "sending") {
			log("warn", "refund left to its sender: its transaction may still land", {
				refund: refundId,
			});
			return;
		}
		// "failed": the sender has booked it; null: it never took the refund on.
		if (state !== null) return;
	}
	await stub.failRefund(refundId, { reason });
}

/**
 * Ages at which a still-pending refund gets one more refunds-queue message: a refund normally
 * finishes in seconds, and its queue retries end within about 1.5 hours.
 */
export const STALLED_REFUND_AGES_SECONDS = [600, 7200] as const;

/**
 * A pending refund whose refunds-queue message was lost (a queue that lost it, a runtime killed
 * between send and consume) would stay pending for good: the sweep sends one more message for
 * each refund still pending at each of STALLED_REFUND_AGES_SECONDS. Each age is one one-minute
 * slice of refund ids, so the minute cron sees a refund there once. The consumer is idempotent
 * (a finished refund is left alone, Stripe gets the same idempotency key, a crypto refund's
 * sender only looks again). Returns how many messages were sent.
 */
export async function resendStalledRefunds(env: Env, now: number): Promise<number> {
	if (!env.REFUNDS_QUEUE) return 0;
	const ids: string[] = [];
	for (const age of STALLED_REFUND_AGES_SECONDS) {
		ids.push(
			...(await pendingRefundIds(
				env.DB,
				lowestIdAt("refund", (now - age - 60) * 1000),
				lowestIdAt("refund", (now - age) * 1000),
			)),
		);
	}
	if (ids.length === 0) return 0;
	await env.REFUNDS_QUEUE.sendBatch(
		ids.map((id) => ({ body: { kind: "refund", refund_id: id } satisfies RefundsMessage })),
	);
	log("warn", "refunds still pending sent to the refunds queue again", { refunds: ids });
	return ids.length;
}
