/**
 * The daily payout run's SQL: the merchants with a schedule, a bounded page at a time, and what
 * the run did per merchant, mode, currency and day (`payout_schedule_runs`).
 */

import type { MerchantSettings } from "../domain/merchant-settings";
import { PAYOUT_INTERVAL_SQL } from "./schema/merchants";

export interface ScheduledMerchant {
	id: string;
	settings: MerchantSettings;
}

/**
 * Merchants whose schedule has this interval, after `after` by id: one range of the expression
 * index merchants_payout_interval_idx, whatever the number of merchants without a schedule.
 */
export async function scheduledMerchantsPage(
	db: D1Database,
	interval: string,
	after: string | null,
	limit: number,
): Promise<ScheduledMerchant[]> {
	const { results } = await db
		.prepare(
			`SELECT id, settings FROM merchants WHERE ${PAYOUT_INTERVAL_SQL} = ? AND id > ? ORDER BY id LIMIT ?`,
		)
		.bind(interval, after ?? "", limit)
		.all<{ id: string; settings: string }>();
	return results.map((r) => ({ id: r.id, settings: JSON.parse(r.settings) as MerchantSettings }));
}

export interface ScheduleRunKey {
	merchantId: string;
	livemode: boolean;
	currency: string;
	date: string;
}

/**
 * The day's record of a created payout, in the payout's own batch: the primary key fails the
 * batch of a second payout for the same merchant, mode, currency and day.
 */
export function createdRunStatement(
	db: D1Database,
	key: ScheduleRunKey,
	payoutId: string,
	itemsThroughPosition: number,
	now: number,
): D1PreparedStatement {
	return db
		.prepare(
			`INSERT INTO payout_schedule_runs (merchant_id, livemode, currency, date, outcome, payout_id, reason, items_through, created)
			 VALUES (?, ?, ?, ?, 'created', ?, NULL, ?, ?)`,
		)
		.bind(
			key.merchantId,
			key.livemode ? 1 : 0,
			key.currency,
			key.date,
			payoutId,
			itemsThroughPosition,
			now,
		);
}

/** Records why no payout was created (kept if the day already has a record). */
export async function recordRunOutcome(
	db: D1Database,
	key: ScheduleRunKey,
	outcome: "skipped" | "failed",
	reason: string,
	now: number,
): Promise<void> {
	await db
		.prepare(
			`INSERT OR IGNORE INTO payout_schedule_runs (merchant_id, livemode, currency, date, outcome, payout_id, reason, items_through, created)
			 VALUES (?, ?, ?, ?, ?, NULL, ?, NULL, ?)`,
		)
		.bind(
			key.merchantId,
			key.livemode ? 1 : 0,
			key.currency,
			key.date,
			outcome,
			reason.slice(0, 200),
			now,
		)
		.run();
}

export interface ScheduleRunRow {
	merchant_id: string;
	livemode: number;
	currency: string;
	date: string;
	outcome: "created" | "skipped" | "failed";
	payout_id: string | null;
	reason: string | null;
}

/** What the day's run already did for a merchant (both modes). */
export async function runsOn(
	db: D1Database,
	merchantId: string,
	date: string,
): Promise<ScheduleRunRow[]> {
	const { results } = await db
		.prepare(
			`SELECT merchant_id, livemode, currency, date, outcome, payout_id, reason FROM payout_schedule_runs
			 WHERE merchant_id = ? AND date = ?`,
		)
		.bind(merchantId, date)
		.all<ScheduleRunRow>();
	return results;
}
