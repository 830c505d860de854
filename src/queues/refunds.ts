import { isRefundsMessage } from "../domain/queue-messages";
import type { Env } from "../env";
import { log } from "../lib/log";
import { abandonRefund, processRefund } from "../services/refunds";
import { type QueueHandler, recordGiveUp } from "./index";

/** Deliveries of one message before the consumer gives up (wrangler.toml allows 10 retries). */
export const MAX_REFUND_ATTEMPTS = 10;

/** 10 s, 20 s, 40 s, … capped at 30 minutes: about 1.5 hours over ten attempts. */
export function refundRetryDelaySeconds(attempts: number): number {
	return Math.min(10 * 2 ** Math.max(0, attempts - 1), 30 * 60);
}

/**
 * The refunds queue's consumer. Idempotent: a refund that is no longer pending is acknowledged
 * untouched, Stripe gets an idempotency key derived from the refund id, and a crypto refund's
 * sender takes it on once. Trouble is retried with backoff; the last attempt gives up visibly
 * (a queue_failures row, and the refund failed with the reason unless money may still land).
 */
export const handleRefunds: QueueHandler = async (batch, env) => {
	for (const message of batch.messages) await handleOne(batch.queue, message, env);
};

async function handleOne(queue: string, message: Message<unknown>, env: Env): Promise<void> {
	const body = message.body;
	if (!isRefundsMessage(body)) {
		await recordGiveUp(env, queue, message, "not a refund message");
		message.ack();
		return;
	}
	let error: string;
	let waiting = false;
	try {
		const outcome = await processRefund(env, body.refund_id);
		if (outcome === "done") {
			message.ack();
			return;
		}
		waiting = true;
		error = "Stripe is still processing the refund";
	} catch (err) {
		error = err instanceof Error ? err.message : String(err);
	}
	if (message.attempts < MAX_REFUND_ATTEMPTS) {
		const delaySeconds = refundRetryDelaySeconds(message.attempts);
		log("warn", "refund not finished; retrying", {
			refund: body.refund_id,
			attempts: message.attempts,
			retry_in_s: delaySeconds,
			error,
		});
		message.retry({ delaySeconds });
		return;
	}
	await recordGiveUp(env, queue, message, error);
	// Pending at Stripe is not failed: Stripe finishes it, and the refund stays pending until then.
	if (waiting) {
		message.ack();
		return;
	}
	try {
		await abandonRefund(
			env,
			body.refund_id,
			`Gave up after ${message.attempts} attempts: ${error}`,
		);
	} catch (err) {
		log("error", "could not fail a refund the queue gave up on", {
			refund: body.refund_id,
			error: err instanceof Error ? err.message : String(err),
		});
	}
	message.ack();
}
