import { isPayoutSchedulePageMessage, isPayoutsMessage } from "../domain/queue-messages";
import type { Env } from "../env";
import { log } from "../lib/log";
import { abandonPayout, executePayout } from "../services/payout-send";
import { type QueueHandler, recordGiveUp } from "./index";
import { handlePayoutSchedulePage } from "./payout-schedule";

/** Deliveries of one message before the consumer gives up (wrangler.toml allows 10 retries). */
export const MAX_PAYOUT_ATTEMPTS = 10;

/** 10 s, 20 s, 40 s, … capped at 30 minutes: about 1.5 hours over ten attempts. */
export function payoutRetryDelaySeconds(attempts: number): number {
	return Math.min(10 * 2 ** Math.max(0, attempts - 1), 30 * 60);
}

/**
 * The payouts queue's consumer: executes pending payouts (the send step). Idempotent: a payout
 * no longer pending or in transit is acknowledged untouched, Stripe gets the payout id as
 * idempotency key, an on-chain payout's sender takes it on once. Trouble is retried with backoff;
 * the last attempt gives up visibly (a queue_failures row, and the payout failed with its
 * reservation reversed unless money may still be on its way).
 */
export const handlePayouts: QueueHandler = async (batch, env) => {
	for (const message of batch.messages) await handleOne(batch.queue, message, env);
};

async function handleOne(queue: string, message: Message<unknown>, env: Env): Promise<void> {
	const body = message.body;
	// The daily run's pages (`{kind: "schedule_page", …}`) share the queue: they create payouts.
	if (isPayoutSchedulePageMessage(body)) {
		await handlePayoutSchedulePage(queue, message, body, env);
		return;
	}
	if (!isPayoutsMessage(body)) {
		await recordGiveUp(env, queue, message, "not a payout message");
		message.ack();
		return;
	}
	let error: string;
	try {
		await executePayout(env, body.payout_id);
		message.ack();
		return;
	} catch (err) {
		error = err instanceof Error ? err.message : String(err);
	}
	if (message.attempts < MAX_PAYOUT_ATTEMPTS) {
		const delaySeconds = payoutRetryDelaySeconds(message.attempts);
		log("warn", "payout not sent; retrying", {
			payout: body.payout_id,
			attempts: message.attempts,
			retry_in_s: delaySeconds,
			error,
		});
		message.retry({ delaySeconds });
		return;
	}
	await recordGiveUp(env, queue, message, error);
	try {
		await abandonPayout(
			env,
			body.payout_id,
			`Gave up after ${message.attempts} attempts: ${error}`,
		);
	} catch (err) {
		log("error", "could not fail a payout the queue gave up on", {
			payout: body.payout_id,
			error: err instanceof Error ? err.message : String(err),
		});
	}
	message.ack();
}
