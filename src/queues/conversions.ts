/**
 * The `conversions` queue consumer: `{kind: "payment_succeeded", payment_id}` converts a
 * succeeded crypto payment into its merchant's settlement currency. A repeated message changes
 * nothing; a rate that is missing or stale is retried with backoff; at the last attempt, or at
 * once when retrying cannot help, the conversion is recorded as failed (`conversion.failed`)
 * and the give-up is written to `queue_failures`.
 */
import { parseConversionsMessage } from "../domain/queue-messages";
import type { Env } from "../env";
import { log } from "../lib/log";
import { classifyFailure, convertPayment, failConversion } from "../services/conversions";
import { type QueueHandler, recordGiveUp } from "./index";

/** Attempts before giving up; wrangler.toml's max_retries (10) leaves one delivery to spare. */
export const CONVERSION_MAX_ATTEMPTS = 10;

/** 30 s, 1, 2, 4 … minutes, at most an hour: about three hours over every attempt. */
export function conversionRetryDelaySeconds(attempts: number): number {
	return Math.min(30 * 2 ** Math.max(0, attempts - 1), 3600);
}

async function handle(message: Message<unknown>, env: Env, queue: string): Promise<void> {
	const body = parseConversionsMessage(message.body);
	if (!body) {
		await recordGiveUp(env, queue, message, "not a conversions message");
		message.ack();
		return;
	}
	try {
		const outcome = await convertPayment(env, body.payment_id);
		log("info", "conversion", {
			payment: body.payment_id,
			result: outcome.result,
			...(outcome.result === "converted"
				? { conversion: outcome.conversion.id }
				: { reason: outcome.reason }),
		});
		message.ack();
		return;
	} catch (err) {
		const failure = classifyFailure(err);
		if (failure.retryable && message.attempts < CONVERSION_MAX_ATTEMPTS) {
			const delaySeconds = conversionRetryDelaySeconds(message.attempts);
			log("warn", "conversion retried", {
				payment: body.payment_id,
				attempts: message.attempts,
				delay_seconds: delaySeconds,
				code: failure.code,
				error: failure.message,
			});
			message.retry({ delaySeconds });
			return;
		}
		await recordGiveUp(env, queue, message, `${failure.code}: ${failure.message}`);
		try {
			await failConversion(env, body.payment_id, failure);
			message.ack();
		} catch (recordError) {
			// Not even the failure could be written: let the dead-letter queue keep the message.
			log("error", "could not record a failed conversion", {
				payment: body.payment_id,
				error: String(recordError),
			});
			message.retry();
		}
	}
}

export const handleConversions: QueueHandler = async (batch, env) => {
	// One message at a time: D1 is single-threaded, and a batch holds at most ten.
	for (const message of batch.messages) await handle(message, env, batch.queue);
};
