/**
 * Automatic payouts. A merchant's settings hold its payout schedule and minimums. The daily cron
 * sends one message to the payouts queue; its consumer pages through the merchants with a schedule
 * (a bounded page per message, daily ones then weekly ones), creates each due merchant's payouts
 * and sends the next page. So a run's cost per message stays the same however many merchants
 * there are. A day's payout per merchant, mode and currency is created once: its record in
 * `payout_schedule_runs` is written in the payout's own batch under a primary key.
 */
import { merchantBalance } from "../db/ledger";
import { usableDestination } from "../db/payout-destinations";
import {
	recordRunOutcome,
	runsOn,
	type ScheduledMerchant,
	type ScheduleRunKey,
	scheduledMerchantsPage,
} from "../db/payout-schedules";
import type { MerchantSettings } from "../domain/merchant-settings";
import { destinationTypeFor, parsePayoutCurrency } from "../domain/payout";
import type { PayoutDestinationRow, PayoutDestinationType } from "../domain/payout-destination";
import { decideBalance, isPayoutDue } from "../domain/payout-schedule";
import type { PayoutSchedulePageMessage, PayoutsQueueMessage } from "../domain/queue-messages";
import type { Env } from "../env";
import { ApiError } from "../lib/errors";
import { log } from "../lib/log";
import { onChainFeeEstimate } from "./payout-chain";
import { itemisationStatements, planItemisation } from "./payout-items";
import { createPayout } from "./payouts";
import { tokenCatalog } from "./tokens";

/** Merchants read and paid per queue message. */
export const MERCHANTS_PER_PAGE = 100;

function requireQueue(env: Env): Queue<PayoutsQueueMessage> {
	if (!env.PAYOUTS_QUEUE) throw new Error("Automatic payouts need the PAYOUTS_QUEUE binding");
	return env.PAYOUTS_QUEUE;
}

/** The daily cron's part: one message, whatever the number of merchants. */
export async function startPayoutRun(env: Env, now: number): Promise<{ date: string }> {
	const date = new Date(now * 1000).toISOString().slice(0, 10);
	await sendPayoutSchedulePage(env, {
		kind: "schedule_page",
		date,
		interval: "daily",
		after: null,
	} satisfies PayoutSchedulePageMessage);
	return { date };
}

export interface PayoutRunEntry {
	merchantId: string;
	livemode: boolean;
	currency: string;
	payoutId?: string;
	reason?: string;
}

export interface PayoutSchedulePageResult {
	merchants: number;
	created: PayoutRunEntry[];
	skipped: PayoutRunEntry[];
	failed: PayoutRunEntry[];
	/** Merchants that could not be handled (D1 trouble): the page is worth retrying. */
	errors: string[];
	next: PayoutSchedulePageMessage | null;
}

export interface PageOptions {
	now: number;
	pageSize?: number;
	/** Transfers one payout itemises at most (payout-items' ITEMS_PER_PAYOUT). */
	itemLimit?: number;
}

/**
 * Runs one page: the due merchants' payouts, and which page comes next (the caller sends it once
 * the page is done, see `sendPayoutSchedulePage`). A merchant that fails for a reason other than
 * its own balance or destination (D1 unavailable) is listed in `errors`, so the page can be
 * retried; merchants already done are recognised by their records and left alone.
 */
export async function runPayoutSchedulePage(
	env: Env,
	msg: PayoutSchedulePageMessage,
	options: PageOptions,
): Promise<PayoutSchedulePageResult> {
	const pageSize = options.pageSize ?? MERCHANTS_PER_PAGE;
	const page = await scheduledMerchantsPage(env.DB, msg.interval, msg.after, pageSize);
	const result: PayoutSchedulePageResult = {
		merchants: page.length,
		created: [],
		skipped: [],
		failed: [],
		errors: [],
		next: null,
	};
	for (const merchant of page) {
		if (!isPayoutDue(merchant.settings.payout_schedule, msg.date)) continue;
		try {
			await payMerchant(env, merchant, msg.date, options, result);
		} catch (err) {
			result.errors.push(`${merchant.id}: ${err instanceof Error ? err.message : String(err)}`);
		}
	}
	const last = page[page.length - 1];
	if (last && page.length === pageSize) result.next = { ...msg, after: last.id };
	else if (msg.interval === "daily") result.next = { ...msg, interval: "weekly", after: null };
	log("info", "payout schedule page", {
		date: msg.date,
		interval: msg.interval,
		after: msg.after,
		merchants: page.length,
		created: result.created.length,
		skipped: result.skipped.length,
		failed: result.failed.length,
		errors: result.errors.length,
	});
	return result;
}

export async function sendPayoutSchedulePage(
	env: Env,
	msg: PayoutSchedulePageMessage,
): Promise<void> {
	await requireQueue(env).send(msg);
}

/** One due merchant, both modes: a payout per qualifying available balance. */
async function payMerchant(
	env: Env,
	merchant: ScheduledMerchant,
	date: string,
	options: PageOptions,
	result: PayoutSchedulePageResult,
): Promise<void> {
	const done = new Set(
		(await runsOn(env.DB, merchant.id, date)).map((r) => `${r.livemode}:${r.currency}`),
	);
	for (const livemode of [false, true]) {
		// Balances the day's run already handled (a redelivered page) are left alone.
		const available = (await merchantBalance(env.DB, merchant.id, livemode)).available.filter(
			(b) => !done.has(`${livemode ? 1 : 0}:${b.currency}`),
		);
		const destinations = await usableDestinations(
			env,
			merchant.id,
			livemode,
			available.filter((b) => b.amount > 0n).map((b) => destinationTypeFor(b.currency)),
			options.now,
		);
		for (const balance of available) {
			const key: ScheduleRunKey = {
				merchantId: merchant.id,
				livemode,
				currency: balance.currency,
				date,
			};
			const entry: PayoutRunEntry = {
				merchantId: merchant.id,
				livemode,
				currency: balance.currency,
			};
			const minimum = minimumFor(merchant.settings, balance.currency);
			const decision = decideBalance({
				currency: balance.currency,
				available: balance.amount,
				minimum,
				destinationUsable: (type) => destinations.get(type) != null,
			});
			if (decision.action === "skip") {
				// An empty balance is no news; a short one or a missing destination is recorded.
				if (decision.reason !== "not_positive")
					await skip(env, key, decision.reason, entry, result, options.now);
				continue;
			}
			const destination = destinations.get(decision.destinationType) as PayoutDestinationRow;
			await createScheduledPayout(
				env,
				key,
				balance.amount,
				minimum,
				destination,
				options,
				entry,
				result,
			);
		}
	}
}

/** The usable destination of each kind a payout needs (null: none can take one now). */
async function usableDestinations(
	env: Env,
	merchantId: string,
	livemode: boolean,
	types: PayoutDestinationType[],
	now: number,
): Promise<Map<PayoutDestinationType, PayoutDestinationRow | null>> {
	const out = new Map<PayoutDestinationType, PayoutDestinationRow | null>();
	for (const type of new Set(types)) {
		const usable = await usableDestination(env.DB, { merchantId, livemode, type }, now);
		out.set(type, usable.ok ? usable.destination : null);
	}
	return out;
}

async function skip(
	env: Env,
	key: ScheduleRunKey,
	reason: string,
	entry: PayoutRunEntry,
	result: PayoutSchedulePageResult,
	now: number,
): Promise<void> {
	await recordRunOutcome(env.DB, key, "skipped", reason, now);
	result.skipped.push({ ...entry, reason });
}

async function createScheduledPayout(
	env: Env,
	key: ScheduleRunKey,
	available: bigint,
	minimum: bigint | undefined,
	destination: PayoutDestinationRow,
	options: PageOptions,
	entry: PayoutRunEntry,
	result: PayoutSchedulePageResult,
): Promise<void> {
	const plan = await planItemisation(
		env.DB,
		{ merchantId: key.merchantId, livemode: key.livemode, currency: key.currency, available },
		options.itemLimit,
	);
	// A SOL payout's network fee comes out of the same balance: it is kept back from the amount.
	const fee = key.currency === "sol" ? await solFee(env, destination) : 0n;
	const amount = plan.amount - fee;
	if (amount <= 0n || (minimum !== undefined && amount < minimum)) {
		await skip(env, key, "below_minimum", entry, result, options.now);
		return;
	}
	try {
		const payout = await createPayout(env, {
			merchantId: key.merchantId,
			livemode: key.livemode,
			amount,
			currency: key.currency,
			destinationId: destination.id,
			automatic: true,
			itemize: (payoutId) => itemisationStatements(env.DB, plan, payoutId, key, options.now),
		});
		result.created.push({ ...entry, payoutId: payout.id });
	} catch (err) {
		// A redelivered page racing this one already created the day's payout: its record won.
		const existing = (await runsOn(env.DB, key.merchantId, key.date)).find(
			(r) => r.livemode === (key.livemode ? 1 : 0) && r.currency === key.currency,
		);
		if (existing) return;
		// Trouble that may pass (the chain or D1 unavailable) is retried with the page; a refusal
		// that will not pass today (no balance on chain, no Stripe) is recorded for the day.
		if (!(err instanceof ApiError) || err.status >= 500) throw err;
		await recordRunOutcome(env.DB, key, "failed", `${err.code}: ${err.message}`, options.now);
		result.failed.push({ ...entry, reason: err.code });
	}
}

async function solFee(env: Env, destination: PayoutDestinationRow): Promise<bigint> {
	const sol = parsePayoutCurrency("sol", tokenCatalog(env));
	if (sol.kind !== "token") return 0n;
	return onChainFeeEstimate(env, sol.token, destination.address ?? "");
}

function minimumFor(settings: MerchantSettings, currency: string): bigint | undefined {
	const value = settings.payout_minimums?.[currency];
	return value === undefined ? undefined : BigInt(value);
}
