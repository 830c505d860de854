import type Stripe from "stripe";
import { createServices } from "../context";
import { getDestination } from "../db/payout-destinations";
import { payoutById, stalledPayoutIds } from "../db/payouts";
import { lowestIdAt } from "../domain/ids";
import type { PayoutRecord } from "../domain/payout";
import { payoutPaidTransfer, payoutReleaseTransfers } from "../domain/payout-ledger";
import type { PayoutsMessage } from "../domain/queue-messages";
import type { Env } from "../env";
import { log } from "../lib/log";
import { refusedByStripe } from "../processors/stripe/client";
import { recipientTokenAccountExists } from "./payout-chain";
import { movePayout } from "./payout-transitions";
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
		// Last look before money moves: a destination gone since creation fails the payout unsent.
		const refusal = await sendRefusal(env, payout);
		if (refusal) {
			await movePayout(env, payout, "failed", refusal, now, (p) => payoutReleaseTransfers(p, now));
			return "done";
		}
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
			// Only a payout whose fee reserve includes the rent may open the recipient's account.
			create_token_account: payout.creates_token_account || payout.fee_reserved === null,
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

/**
 * Why a pending payout must not be sent, or null: its destination was removed (or is no longer
 * active) since the payout was accepted, or a token payout accepted without the rent of the
 * recipient's token account finds that account gone (the merchant must not pay to reopen it).
 * An RPC failure throws, for the queue to retry.
 */
async function sendRefusal(
	env: Env,
	payout: PayoutRecord,
): Promise<{ failure_code: string; failure_message: string } | null> {
	const destination = await getDestination(
		env.DB,
		payout.merchant_id,
		payout.livemode,
		payout.destination_id,
	);
	if (destination?.status !== "active" || destination.removed !== null) {
		return {
			failure_code: "destination_unavailable",
			failure_message: `Payout destination ${payout.destination_id} was ${destination?.status === "onboarding" ? "restricted by Stripe" : "removed"} before the payout was sent; nothing was sent and the funds are back in your available balance.`,
		};
	}
	if (payout.method !== "solana" || payout.creates_token_account || payout.fee_reserved === null) {
		return null;
	}
	const token = tokenCatalog(env).find((t) => (t.mint ?? "sol") === payout.currency);
	if (!token || token.mint === null || !destination.address) return null;
	if (await recipientTokenAccountExists(createServices(env).solana, destination.address, token))
		return null;
	return {
		failure_code: "destination_account_missing",
		failure_message: `The destination wallet's ${token.symbol} token account was closed after the payout was accepted; nothing was sent and the funds are back in your available balance. Open the token account and create the payout again.`,
	};
}

/**
 * A Connect transfer from the platform's balance to the connected account, with the payout id as
 * idempotency key: a retry after a lost answer or an outage gets the same transfer, never a
 * second. Paid once Stripe returns it; a refusal fails the payout with the funds back in
 * `available`; anything else is thrown for the queue to retry.
 */
async function sendStripeTransfer(env: Env, payout: PayoutRecord, account: string): Promise<void> {
	const stripe = createServices(env).stripe();
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
		if (!refusedByStripe(err, "StripePermissionError")) throw err;
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
			(p) => payoutReleaseTransfers(p, at),
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
			(p) => payoutReleaseTransfers(p, now),
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
				(p) => payoutReleaseTransfers(p, now),
			);
		}
		return;
	}
	log("error", "payout left in transit after the queue gave up; the transfer may exist at Stripe", {
		payout: payoutId,
		reason,
	});
}

/**
 * Ages at which a payout still pending (or a Stripe one still in transit) gets one more
 * payouts-queue message: a payout normally leaves in seconds, and the queue's retries end within
 * about 1.5 hours.
 */
export const STALLED_PAYOUT_AGES_SECONDS = [600, 7200] as const;

/**
 * A payout whose queue message was lost (a queue that lost it, a runtime killed between send and
 * consume) would stay reserved for good: for each age in STALLED_PAYOUT_AGES_SECONDS, the payouts
 * created in that one-minute slice that are still waiting get one more message (the minute cron
 * sees each slice once). An on-chain payout in transit needs none: its sender's alarm owns it.
 * The consumer is idempotent. Returns how many messages were sent.
 */
export async function resendStalledPayouts(env: Env, now: number): Promise<number> {
	if (!env.PAYOUTS_QUEUE) return 0;
	const ids: string[] = [];
	for (const age of STALLED_PAYOUT_AGES_SECONDS) {
		const from = lowestIdAt("payout", (now - age - 60) * 1000);
		const to = lowestIdAt("payout", (now - age) * 1000);
		ids.push(...(await stalledPayoutIds(env.DB, from, to)));
	}
	if (ids.length === 0) return 0;
	await env.PAYOUTS_QUEUE.sendBatch(
		ids.map((id) => ({ body: { kind: "payout", payout_id: id } satisfies PayoutsMessage })),
	);
	log("warn", "payouts still waiting sent to the payouts queue again", { payouts: ids });
	return ids.length;
}
