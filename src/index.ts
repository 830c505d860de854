import { createApp } from "./app";
import { runScheduled } from "./cron/scheduled";
import type { Env } from "./env";
import { handleQueue } from "./queues/index";
import "./queues/consumers";

export { PaymentObject } from "../durable-objects/payment/object";
export { PayoutObject } from "../durable-objects/payout-object";
export { ProcessorHealth } from "../durable-objects/processor-health";
export { RefundObject } from "../durable-objects/refund-object";
export { RiskCounters } from "../durable-objects/risk-counters";
export { SettlementWatcher } from "../durable-objects/settlement-watcher";

// The app is built on first use, not at module load, to keep the Worker's start-up cheap.
let app: ReturnType<typeof createApp> | undefined;

export default {
	fetch(request, env, ctx) {
		app ??= createApp();
		return app.fetch(request, env, ctx);
	},
	// Returned rather than passed to waitUntil: the run's outcome is the event's outcome, and a
	// test trigger (/__scheduled) answers only once the jobs are done.
	scheduled(controller, env, _ctx) {
		return runScheduled(controller, env);
	},
	queue(batch, env, ctx) {
		return handleQueue(batch, env, ctx);
	},
} satisfies ExportedHandler<Env>;
