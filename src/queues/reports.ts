/**
 * The `reports` queue consumer. `{kind: "build", report_id}` builds a report a request recorded
 * as pending; `{kind: "daily", merchant_id, livemode, date}` records and builds a merchant's
 * daily reports. Building is idempotent: a report that is ready is left alone, its files have
 * fixed keys, and `report.ready` is written once, so a redelivered message changes nothing.
 * Failures are retried with backoff; at the last attempt the reports are marked failed and the
 * give-up is written to `queue_failures`.
 */
import { parseReportsMessage, type ReportsMessage } from "../domain/queue-messages";
import type { Env } from "../env";
import { log } from "../lib/log";
import { buildDailyReports, failDailyReports } from "../services/report-daily";
import { buildStoredReport, failReport } from "../services/reports";
import { type QueueHandler, recordGiveUp } from "./index";

/** Attempts before giving up; wrangler.toml's max_retries (5) leaves one delivery to spare. */
export const REPORT_MAX_ATTEMPTS = 5;

/** 1, 2, 4, 8 minutes between attempts. */
export function reportRetryDelaySeconds(attempts: number): number {
	return Math.min(60 * 2 ** Math.max(0, attempts - 1), 3600);
}

async function build(env: Env, body: ReportsMessage, now: number): Promise<void> {
	if (body.kind === "build") {
		const row = await buildStoredReport(env, body.report_id, now);
		log("info", "report built", { report: row.id, status: row.status, rows: row.rows });
		return;
	}
	const rows = await buildDailyReports(
		env,
		{ merchantId: body.merchant_id, livemode: body.livemode, date: body.date },
		now,
	);
	log("info", "daily reports built", {
		merchant: body.merchant_id,
		date: body.date,
		reports: rows.map((r) => r.id),
	});
}

async function giveUp(env: Env, body: ReportsMessage, reason: string): Promise<void> {
	if (body.kind === "build") await failReport(env, body.report_id, reason);
	else
		await failDailyReports(
			env,
			{ merchantId: body.merchant_id, livemode: body.livemode, date: body.date },
			reason,
		);
}

async function handle(message: Message<unknown>, env: Env, queue: string): Promise<void> {
	const body = parseReportsMessage(message.body);
	if (!body) {
		await recordGiveUp(env, queue, message, "not a reports message");
		message.ack();
		return;
	}
	try {
		await build(env, body, Math.floor(Date.now() / 1000));
		message.ack();
	} catch (err) {
		const error = err instanceof Error ? err.message : String(err);
		if (message.attempts < REPORT_MAX_ATTEMPTS) {
			const delaySeconds = reportRetryDelaySeconds(message.attempts);
			log("warn", "report retried", {
				attempts: message.attempts,
				delay_seconds: delaySeconds,
				error,
			});
			message.retry({ delaySeconds });
			return;
		}
		await recordGiveUp(env, queue, message, error);
		try {
			await giveUp(env, body, "The report could not be built. Request it again.");
			message.ack();
		} catch (recordError) {
			log("error", "could not record a failed report", { error: String(recordError) });
			message.retry();
		}
	}
}

export const handleReports: QueueHandler = async (batch, env) => {
	for (const message of batch.messages) await handle(message, env, batch.queue);
};
