import type { Env } from "../env";
import { log } from "../lib/log";
import { purgeExpiredIdempotencyKeys } from "../middleware/idempotency";

/** Cron work: housekeeping now; rates, rollups and reports join as they land. */
export async function runScheduled(controller: ScheduledController, env: Env): Promise<void> {
	const now = Math.floor(controller.scheduledTime / 1000);
	const purged = await purgeExpiredIdempotencyKeys(env.DB, now);
	log("info", "scheduled run", { cron: controller.cron, idempotency_keys_purged: purged });
}
