import type { Env } from "../env";
import { log } from "../lib/log";
import { purgeExpiredIdempotencyKeys } from "../middleware/idempotency";
import { publishPendingEvents } from "../services/events";
import { refreshRates } from "../services/rates";

/** Cron work: the rates cache, event publishing, housekeeping; rollups and reports join later. */
export async function runScheduled(controller: ScheduledController, env: Env): Promise<void> {
	const now = Math.floor(controller.scheduledTime / 1000);
	const rates = await refreshRates(env, now);
	const published = await publishPendingEvents(env, now);
	const purged = await purgeExpiredIdempotencyKeys(env.DB, now);
	log("info", "scheduled run", {
		cron: controller.cron,
		rates_refreshed: rates,
		events_published: published,
		idempotency_keys_purged: purged,
	});
}
