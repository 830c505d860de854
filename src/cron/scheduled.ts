import type { Env } from "../env";
import { log } from "../lib/log";
import { purgeExpiredIdempotencyKeys } from "../middleware/idempotency";
import { publishPendingEvents } from "../services/events";

/** Cron work: housekeeping now; rates, rollups and reports join as they land. */
export async function runScheduled(controller: ScheduledController, env: Env): Promise<void> {
	const now = Math.floor(controller.scheduledTime / 1000);
	const published = await publishPendingEvents(env, now);
	const purged = await purgeExpiredIdempotencyKeys(env.DB, now);
	log("info", "scheduled run", {
		cron: controller.cron,
		events_published: published,
		idempotency_keys_purged: purged,
	});
}
