import type { Env } from "../env";
import { log } from "../lib/log";
import { recordGiveUp } from "./index";

/** Deliveries of one message before the consumer gives up (wrangler.toml allows 10 retries). */
export const MONEY_STEP_ATTEMPTS = 10;

/** 10 s, 20 s, 40 s, … capped at 30 minutes: about 1.5 hours over ten attempts. */
export function moneyStepRetryDelaySeconds(attempts: number): number {
	return Math.min(10 * 2 ** Math.max(0, attempts - 1), 30 * 60);
}

/** One money movement a queue message asks for (a refund, a payout). */
export interface MoneyStep {
	/** What it is and its id, for logs: `refund`, `re_…`. */
	kind: string;
	id: string;
	/** Does the step. `done` acknowledges; `waiting` (the processor is still on it) retries. */
	run(): Promise<{ done: true } | { done: false; waiting: string }>;
	/** Fails it for good once the queue gives up; never called while money may still land. */
	abandon(reason: string): Promise<void>;
}

/**
 * The refund and payout consumers' shared shape: idempotent steps retried with backoff, and the
 * last attempt giving up visibly — a queue_failures row, and the step failed with the reason,
 * unless the processor is still working on it (pending at Stripe is not failed: Stripe finishes
 * it, and the object stays pending until then).
 */
export async function runWithRetries(
	queue: string,
	message: Message<unknown>,
	env: Env,
	step: MoneyStep,
): Promise<void> {
	let error: string;
	let waiting = false;
	try {
		const outcome = await step.run();
		if (outcome.done) {
			message.ack();
			return;
		}
		waiting = true;
		error = outcome.waiting;
	} catch (err) {
		error = err instanceof Error ? err.message : String(err);
	}
	if (message.attempts < MONEY_STEP_ATTEMPTS) {
		const delaySeconds = moneyStepRetryDelaySeconds(message.attempts);
		log("warn", `${step.kind} not finished; retrying`, {
			[step.kind]: step.id,
			attempts: message.attempts,
			retry_in_s: delaySeconds,
			error,
		});
		message.retry({ delaySeconds });
		return;
	}
	await recordGiveUp(env, queue, message, error);
	if (!waiting) {
		try {
			await step.abandon(`Gave up after ${message.attempts} attempts: ${error}`);
		} catch (err) {
			log("error", `could not fail a ${step.kind} the queue gave up on`, {
				[step.kind]: step.id,
				error: err instanceof Error ? err.message : String(err),
			});
		}
	}
	message.ack();
}
