import type Stripe from "stripe";
import { getDestination } from "../db/payout-destinations";
import { payoutById } from "../db/payouts";
import type { PayoutRecord } from "../domain/payout";
import { payoutPaidTransfer, payoutReversalTransfer } from "../domain/payout-ledger";
import type { Env } from "../env";
import { log } from "../lib/log";
import { isStripeError, stripeFromEnv } from "../processors/stripe/client";
import { movePayout } from "./payouts";
import { tokenCatalog } from "./tokens";

export function payoutSender(env: Env, payoutId: string) {
	const ns = env.PAYOUTS;
	if (!ns) throw new Error("On-chain payouts are not configured (no PAYOUTS binding)");
	return ns.get(ns.idFromName(payoutId));
}

/**
 * The send step, run by the payouts queue: a pending payout moves to in_transit (a cancel that
 * got there first wins, and nothing is sent), then goes out on chain through its sender or to
 * Stripe. Idempotent: a payout already in transit is sent again only through the same sender
 * (same transaction) or the same Stripe idempotency key. Throws when trying later may help.
 */
export async function executePayout(env: Env, payoutId: string): Promise<"done"> {
	let payout = await payoutById(env.DB, payoutId);
	if (!payout) {
		log("warn", "payouts message for an unknown payout", { payout: payoutId });
		return "done";
	}
	if (payout.status === "pending") {
		const now = Math.floor(Date.now() / 1000);
		const moved = await movePayout(env, payout, "in_transit", {}, now, () => []);
		if (!moved) return "done"; // canceled (or moved by another delivery) first
		payout = moved;
	}
	if (payout.status !== "in_transit") return "done";
	const destination = await getDestination(
		env.DB,
		payout.merchant_id,
		payout.livemode,
		payout.destination_id,
	);
	if (!destination)
		throw new Error(`Payout ${payout.id}: destination ${payout.destination_id} is gone`);
	if (payout.method === "solana") {
		const token = tokenCatalog(env).find((t) => (t.mint ?? "sol") === payout.currency);
		if (!token || !destination.address) {
			throw new Error(`Payout ${payout.id}: no token ${payout.currency} or wallet address`);
		}
		// The sender takes it from here (alarm-driven); a repeated start only looks again.
		await payoutSender(env, payout.id).start({
			payout_id: payout.id,
			recipient: destination.address,
			amount: payout.amount,
			token: {
				symbol: token.symbol,
				mint: token.mint,
				decimals: token.decimals,
				program: token.program,
			},
		});
		return "done";
	}
	if (!destination.stripe_account_id) throw new Error(`Payout ${payout.id}: no connected account`);
	await sendStripeTransfer(env, payout, destination.stripe_account_id);
	return "done";
}

/** Stripe errors another try cannot fix: the request itself is refused. */
function refusedByStripe(err: unknown): err is Stripe.errors.StripeError {
	return (
		isStripeError(err) &&
		(err.type === "StripeInvalidRequestError" || err.type === "StripePermissionError") &&
		err.statusCode !== 409 &&
		err.statusCode !== 429
	);
}

/**
 * A Connect transfer from the platform's balance to the connected account, with the payout id as
 * idempotency key: a retry after a lost answer or an outage gets the same transfer, never a
 * second. Paid once Stripe returns it; a refusal fails the payout with the funds back in
 * `available`; anything else is thrown for the queue to retry.
 */
async function sendStripeTransfer(env: Env, payout: PayoutRecord, account: string): Promise<void> {
	const stripe = stripeFromEnv(env);
	const now = () => Math.floor(Date.now() / 1000);
	let transfer: Stripe.Transfer;
	try {
		transfer = await stripe.transfers.create(
			{
				amount: Number(payout.amount),
				currency: payout.currency,
				destination: account,
				transfer_group: payout.id,
				metadata: { payout_id: payout.id, merchant_id: payout.merchant_id },
			},
			{ idempotencyKey: payout.id },
		);
	} catch (err) {
		if (!refusedByStripe(err)) throw err;
		const at = now();
		await movePayout(
			env,
			payout,
			"failed",
			{
				fee: "0",
				fee_currency: payout.currency,
				failure_code: err.code ?? "stripe_refused",
				failure_message: `Stripe refused the transfer: ${err.message}`,
			},
			at,
			(p) => [payoutReversalTransfer(p, at)],
		);
		return;
	}
	const at = now();
	await movePayout(
		env,
		payout,
		"paid",
		{ fee: "0", fee_currency: payout.currency, stripe_transfer_id: transfer.id },
		at,
		(p) => [payoutPaidTransfer(p, at)],
	);
}

/**
 * The queue gives up on a payout. A pending one fails (reservation reversed). An on-chain one in
 * transit fails only if its sender proves nothing can land; otherwise the sender finishes it. A
 * Stripe one in transit stays in transit: the transfer may exist at Stripe, and a later message
 * with the same idempotency key finds it rather than sending twice.
 */
export async function abandonPayout(env: Env, payoutId: string, reason: string): Promise<void> {
	const payout = await payoutById(env.DB, payoutId);
	if (!payout) return;
	const now = Math.floor(Date.now() / 1000);
	if (payout.status === "pending") {
		await movePayout(
			env,
			payout,
			"failed",
			{ failure_code: "could_not_send", failure_message: reason },
			now,
			(p) => [payoutReversalTransfer(p, now)],
		);
		return;
	}
	if (payout.status === "in_transit" && payout.method === "solana") {
		const state = await payoutSender(env, payoutId).abandon(reason);
		if (state === null) {
			// The sender never took it on: nothing was sent.
			await movePayout(
				env,
				payout,
				"failed",
				{ failure_code: "could_not_send", failure_message: reason },
				now,
				(p) => [payoutReversalTransfer(p, now)],
			);
		}
		return;
	}
	log("error", "payout left in transit after the queue gave up; the transfer may exist at Stripe", {
		payout: payoutId,
		reason,
	});
}
