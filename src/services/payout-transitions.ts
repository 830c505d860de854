/**
 * A payout's changes of status, each with its ledger transfers and events in one D1 batch: the
 * one way every step (create, send, settle, fail, cancel, reversal) moves a payout.
 */

import { type EventRow, insertEventStatement } from "../db/events";
import { transferStatements } from "../db/ledger";
import { isGuardRefusal, transitionStatements } from "../db/payouts";
import { newId } from "../domain/ids";
import type { Transfer } from "../domain/ledger";
import {
	canPayoutTransition,
	type PayoutRecord,
	payoutEventFor,
	toApiPayout,
} from "../domain/payout";
import type { Env } from "../env";
import { publishEvents } from "./events";

/** Events of one change of a payout, for the batch that makes the change. */
export function payoutEvents(p: PayoutRecord, types: string[], now: number): EventRow[] {
	// A millisecond apart, so the ids (which sort by time) keep the order the events happened in.
	const ms = Date.now();
	return types.map((type, i) => ({
		id: newId("event", ms + i),
		merchant_id: p.merchant_id,
		livemode: p.livemode,
		type,
		object_id: p.id,
		object_version: p.version,
		data: JSON.stringify(toApiPayout(p)),
		created: now,
	}));
}

/**
 * Moves a payout into `to` together with its ledger transfers and events (payout.updated, and
 * payout.paid / failed / canceled), all in one D1 batch; null when another change won the race
 * (the payout was no longer in the status read).
 */
export async function movePayout(
	env: Env,
	payout: PayoutRecord,
	to: PayoutRecord["status"],
	patch: Parameters<typeof transitionStatements>[1]["patch"] & {},
	now: number,
	transfers: (p: PayoutRecord) => (Transfer | null)[],
): Promise<PayoutRecord | null> {
	if (!canPayoutTransition(payout.status, to)) return null;
	const next: PayoutRecord = {
		...payout,
		...patch,
		status: to,
		version: payout.version + 1,
		updated: now,
	};
	const outcome = payoutEventFor(to);
	const events = payoutEvents(next, ["payout.updated", ...(outcome ? [outcome] : [])], now);
	const ledger = await Promise.all(
		transfers(payout)
			.filter((t) => t !== null)
			.map((t) => transferStatements(env.DB, t)),
	);
	try {
		await env.DB.batch([
			...transitionStatements(env.DB, { id: payout.id, from: payout.status, to, patch, now }),
			...ledger.flat(),
			...events.map((e) => insertEventStatement(env.DB, e)),
		]);
	} catch (err) {
		if (isGuardRefusal(err)) return null;
		throw err;
	}
	await publishEvents(env, events);
	return next;
}
