import { createServices } from "../context";
import { purgeExpiredIdempotencyKeys } from "../db/idempotency-keys";
import type { Env } from "../env";
import { log } from "../lib/log";
import { publishPendingEvents } from "../services/events";
import { startPayoutRun } from "../services/payout-schedule";
import { resendStalledPayouts } from "../services/payout-send";
import { refreshRates } from "../services/rates";
import { resendStalledRefunds } from "../services/refunds";
import { scheduleDailyReports } from "../services/report-daily";
import { runRollups } from "../services/rollups";
import { checkTreasury } from "../services/treasury";

/** The cron expressions in wrangler.toml `[triggers]`; each one runs its own jobs. */
export const CRON_FREQUENT = "* * * * *";
export const CRON_DAILY = "10 0 * * *";

/**
 * Every minute: the rates cache, event publishing, sweeps for lost messages, housekeeping, and
 * the treasury check of the settlement accounts.
 */
async function runFrequent(env: Env, now: number): Promise<Record<string, unknown>> {
	const rates = await refreshRates(env, now);
	const published = await publishPendingEvents(env, now);
	const refunds = await resendStalledRefunds(env, now).catch((err: unknown) => {
		log("warn", "stalled refunds sweep failed; the next cron retries", {
			error: err instanceof Error ? err.message : String(err),
		});
		return 0;
	});
	const payouts = await resendStalledPayouts(env, now).catch((err: unknown) => {
		log("warn", "stalled payouts sweep failed; the next cron retries", {
			error: err instanceof Error ? err.message : String(err),
		});
		return 0;
	});
	const purged = await purgeExpiredIdempotencyKeys(env.DB, now);
	const rollups = await runRollups(env, now);
	// Last: it reads the chain, the slowest of the minute's jobs.
	const treasury = await checkTreasury(env, now).catch((err: unknown) => {
		log("warn", "treasury check failed; the next cron retries", {
			error: err instanceof Error ? err.message : String(err),
		});
		return [];
	});
	return {
		rates_refreshed: rates,
		events_published: published,
		refunds_resent: refunds,
		payouts_resent: payouts,
		idempotency_keys_purged: purged,
		rollup_days_rebuilt: rollups.days,
		treasury_accounts_checked: treasury.length,
	};
}

/**
 * Once a day, after midnight UTC: the automatic payouts (one queue message that pages through the
 * merchants with a schedule: first, as it is a single send) and the previous day's reports.
 */
async function runDaily(env: Env, now: number): Promise<Record<string, unknown>> {
	const payouts = await startPayoutRun(env, now);
	const reports = await scheduleDailyReports(env, now);
	return {
		payouts_date: payouts.date,
		reports_date: reports.date,
		reports_merchants: reports.merchants,
	};
}

/**
 * Dispatches on the trigger's cron expression. An expression this code does not know (wrangler.toml
 * changed without it) runs the frequent jobs, so the rates cache and event publishing never stop.
 */
export async function runScheduled(controller: ScheduledController, env: Env): Promise<void> {
	// A bad variable fails the run with one clear error before any job starts.
	createServices(env);
	const now = Math.floor(controller.scheduledTime / 1000);
	let result: Record<string, unknown>;
	if (controller.cron === CRON_DAILY) {
		result = await runDaily(env, now);
	} else {
		if (controller.cron !== CRON_FREQUENT)
			log("warn", "unknown cron expression: running the frequent jobs", { cron: controller.cron });
		result = await runFrequent(env, now);
	}
	log("info", "scheduled run", { cron: controller.cron, ...result });
}
