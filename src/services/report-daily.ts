/**
 * Daily reports: the cron at 00:10 UTC sends one reports-queue message per merchant and mode
 * active the day before; the consumer records that day's settlement and transactions reports
 * (unique per merchant, mode, type and day) and builds them once.
 */

import { activeOwnersBetween } from "../db/events";
import {
	failedDailyReportIds,
	findDailyReportId,
	markDailyReportsFailed,
	type ReportRow,
} from "../db/reports";
import { lowestIdAt } from "../domain/ids";
import type { ReportsMessage } from "../domain/queue-messages";
import { addDays } from "../domain/reports";
import type { Env } from "../env";
import { log } from "../lib/log";
import { announceFailed, buildStoredReport, insertReport, periodStartOf } from "./reports";

/** The daily reports of one merchant and mode for one day: recorded once, then built. */
export async function buildDailyReports(
	env: Env,
	q: { merchantId: string; livemode: boolean; date: string },
	now: number,
): Promise<ReportRow[]> {
	const out: ReportRow[] = [];
	// Settlement first: it is small, and the next day's opens from it.
	for (const type of ["settlement", "transactions"] as const) {
		const spec = { merchantId: q.merchantId, livemode: q.livemode, type, from: q.date, to: q.date };
		await insertReport(env, spec, "daily", now);
		const id = await findDailyReportId(env.DB, q, type, q.date);
		if (id) out.push(await buildStoredReport(env, id, now));
	}
	return out;
}

/** Marks a day's daily reports failed (the queue gave up on them) and announces each. */
export async function failDailyReports(
	env: Env,
	q: { merchantId: string; livemode: boolean; date: string },
	reason: string,
): Promise<void> {
	await markDailyReportsFailed(env.DB, q, q.date, reason.slice(0, 500));
	// Every failed report of the day, also one an earlier give-up marked but could not announce.
	await announceFailed(env, await failedDailyReportIds(env.DB, q, q.date));
}

/**
 * The daily cron: every merchant and mode with an event the previous UTC day (events other than
 * reports' own) gets one message on the reports queue; its consumer builds both reports. The
 * events table's primary key is time-ordered, so the day is one index range. Sending the same
 * day twice is harmless: the daily reports are unique per day and built once.
 */
export async function scheduleDailyReports(
	env: Env,
	now: number,
): Promise<{ date: string; merchants: number }> {
	const date = addDays(new Date(now * 1000).toISOString().slice(0, 10), -1);
	const start = periodStartOf(date);
	const results = await activeOwnersBetween(
		env.DB,
		lowestIdAt("event", start * 1000),
		lowestIdAt("event", (start + 86_400) * 1000),
	);
	const messages = results.map((r) => ({
		body: {
			kind: "daily",
			merchant_id: r.merchant_id,
			livemode: r.livemode === 1,
			date,
		} satisfies ReportsMessage,
	}));
	if (!env.REPORTS_QUEUE) throw new Error("Daily reports need the REPORTS_QUEUE binding");
	// sendBatch takes at most 100 messages.
	for (let i = 0; i < messages.length; i += 100)
		await env.REPORTS_QUEUE.sendBatch(messages.slice(i, i + 100));
	log("info", "daily reports scheduled", { date, merchants: messages.length });
	return { date, merchants: messages.length };
}
