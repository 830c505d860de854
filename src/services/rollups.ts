/**
 * The rollup job, run every minute. It reads the event log from its watermark, turns what changed
 * into (merchant, mode, UTC day) keys, and rebuilds exactly those days of the rollup tables from
 * their source rows, in one D1 batch that also advances the watermark.
 *
 * Position in the log is the events table's rowid, not the event id: ids are minted when a
 * transition commits in its Durable Object and may reach D1 much later (an outbox retried after
 * an outage), so id order is not arrival order. SQLite hands out rowids in insertion order, and
 * D1 runs one write at a time, so a reader that sees a rowid has seen every rowid below it: an
 * event that arrives late, with an id far in the past, still lands above the watermark. Events
 * are never deleted, so rowids are never reused.
 *
 * Which day a measure belongs to (the day of its object's id, which carries the creation time):
 * payment counts, volume, fees, confirmation times, customers and "refunded payments" on the
 * payment's day; refund counts and amounts on the refund's day; conversions on the conversion's
 * day. A refund a week later therefore rebuilds two days: the refund's (its refund.* events)
 * and the payment's (its payment.refunded event).
 */

import {
	eventDaysAfter,
	rebuildStatements,
	rollupWatermark,
	setWatermarkStatement,
} from "../db/rollups";
import { type ChangedDay, planRebuild } from "../domain/rollups";
import type { Env } from "../env";
import { log } from "../lib/log";

/** Events read per run, and days rebuilt per run; the rest waits for the next minute. */
export const ROLLUP_LIMITS = { events: 50_000, days: 57 };

export interface RollupRunResult {
	/** Days rebuilt. */
	days: number;
	/** Events read from the log. */
	events: number;
	/** The watermark after the run. */
	watermark: number;
	/** D1 rows read and written by the run (the cost measured by the benchmark). */
	rows_read: number;
	rows_written: number;
}

/** Runs one bounded step: the days changed since the watermark (up to the cap) are rebuilt. */
export async function runRollups(
	env: Env,
	now: number,
	limits: { events: number; days: number } = ROLLUP_LIMITS,
): Promise<RollupRunResult> {
	const db = env.DB;
	const mark = await rollupWatermark(db);
	let watermark = mark?.seq ?? 0;
	if (mark && mark.top < mark.seq) {
		// The log's positions went back (a database restored from an export renumbers rowids):
		// replay it all rather than skip what lands below the old watermark. Rebuilds are exact.
		log("warn", "rollup watermark above the event log: replaying it", { watermark, top: mark.top });
		watermark = 0;
	}
	// One pass over the page, grouped by the day each event's object was created: the days with
	// rollup changes, and the page's last position and size (events of other objects, such as
	// settings, only move the watermark on).
	const scan = await eventDaysAfter(db, watermark, limits.events);
	let rowsRead = (mark ? 1 : 0) + meta(scan).read;
	const changed = scan.results
		.filter((r) => r.rolled > 0 && r.day !== null)
		.map(
			(r): ChangedDay => ({
				merchantId: r.merchant_id,
				livemode: r.livemode === 1,
				day: r.day as string,
				firstSeq: r.first_seq as number,
				lastSeq: r.last_seq,
			}),
		);
	const pageEnd = scan.results.length > 0 ? Math.max(...scan.results.map((r) => r.last_seq)) : null;
	const events = scan.results.reduce((n, r) => n + r.events, 0);
	const plan = planRebuild(changed, pageEnd, watermark, limits.days);
	if (plan.watermark === (mark?.seq ?? 0) && plan.keys.length === 0) {
		return { days: 0, events, watermark, rows_read: rowsRead, rows_written: 0 };
	}
	const statements = rebuildStatements(db, plan.keys);
	statements.push(setWatermarkStatement(db, plan.watermark, now));
	let rowsWritten = 0;
	for (const res of await db.batch(statements)) {
		rowsRead += meta(res).read;
		rowsWritten += meta(res).written;
	}
	return {
		days: plan.keys.length,
		events,
		watermark: plan.watermark,
		rows_read: rowsRead,
		rows_written: rowsWritten,
	};
}

function meta(res: D1Result | undefined): { read: number; written: number } {
	const m = res?.meta as { rows_read?: number; rows_written?: number } | undefined;
	return { read: m?.rows_read ?? 0, written: m?.rows_written ?? 0 };
}
