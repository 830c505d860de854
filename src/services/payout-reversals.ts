import type Stripe from "stripe";
import { createServices } from "../context";
import { insertEventStatement } from "../db/events";
import { transferBooked, transferStatements } from "../db/ledger";
import { isGuardRefusal, payoutById, reversedAmountStatements } from "../db/payouts";
import { newId } from "../domain/ids";
import type { PayoutRecord } from "../domain/payout";
import { toApiPayout } from "../domain/payout";
import { payoutStripeReversalTransfer } from "../domain/payout-ledger";
import type { Env } from "../env";
import { log } from "../lib/log";
import { publishEvents } from "./events";

/**
 * Stripe reversed (part of) a paid payout's Connect transfer (`transfer.reversed`): the money is
 * back in the platform's balance, so each reversal goes back to the merchant's available, once
 * (`{po}:stripe_reversal:{trr}`), with `amount_reversed` and a `payout.updated` event. The
 * transfer and its reversals are read fresh from Stripe: a replayed or reordered event books
 * nothing twice.
 */
export async function recordStripeReversals(env: Env, transferId: string): Promise<string | null> {
	const stripe = createServices(env).stripe();
	const transfer = await stripe.transfers.retrieve(transferId);
	const payoutId = transfer.metadata?.payout_id;
	if (!payoutId) return null;
	const payout = await payoutById(env.DB, payoutId);
	if (payout?.method !== "stripe" || payout.stripe_transfer_id !== transfer.id) {
		log("warn", "transfer.reversed for no paid payout of ours", { transfer: transfer.id });
		return null;
	}
	const reversals = await stripe.transfers.listReversals(transfer.id, { limit: 100 });
	for (const reversal of [...reversals.data].reverse())
		await bookReversal(env, payout.id, reversal);
	return payout.id;
}

/** Books one reversal unless it already is; compare-and-set on the payout's version. */
async function bookReversal(
	env: Env,
	payoutId: string,
	reversal: Stripe.TransferReversal,
): Promise<void> {
	for (let attempt = 0; attempt < 5; attempt++) {
		const payout = await payoutById(env.DB, payoutId);
		if (payout?.status !== "paid") return;
		const transfer = payoutStripeReversalTransfer(
			payout,
			reversal.id,
			BigInt(reversal.amount),
			Math.floor(Date.now() / 1000),
		);
		if (await transferBooked(env.DB, transfer.id)) return;
		const reversed = BigInt(payout.amount_reversed) + BigInt(reversal.amount);
		if (reversed > BigInt(payout.amount)) {
			log("error", "Stripe reversed more than the payout's amount; not booked", {
				payout: payout.id,
				reversal: reversal.id,
			});
			return;
		}
		const now = transfer.created;
		const next: PayoutRecord = {
			...payout,
			amount_reversed: reversed.toString(),
			version: payout.version + 1,
			updated: now,
		};
		const event = {
			id: newId("event"),
			merchant_id: payout.merchant_id,
			livemode: payout.livemode,
			type: "payout.updated",
			object_id: payout.id,
			object_version: next.version,
			data: JSON.stringify(toApiPayout(next)),
			created: now,
		};
		try {
			await env.DB.batch([
				// Another change won the race: the batch aborts and the loop reads again.
				...reversedAmountStatements(env.DB, next, payout.version),
				...(await transferStatements(env.DB, transfer)),
				insertEventStatement(env.DB, event),
			]);
		} catch (err) {
			if (isGuardRefusal(err)) continue;
			throw err;
		}
		await publishEvents(env, [event]);
		return;
	}
	throw new Error(`Payout ${payoutId}: reversal ${reversal.id} lost every race; Stripe retries`);
}
