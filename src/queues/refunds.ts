import { isRefundsMessage } from "../domain/queue-messages";
import { abandonRefund, processRefund } from "../services/refunds";
import { type QueueHandler, recordGiveUp } from "./index";
import { runWithRetries } from "./retry";

/**
 * The refunds queue's consumer. Idempotent: a refund that is no longer pending is acknowledged
 * untouched, Stripe gets an idempotency key derived from the refund id, and a crypto refund's
 * sender takes it on once. Trouble is retried with backoff; the last attempt gives up visibly
 * (a queue_failures row, and the refund failed with the reason unless money may still land).
 */
export const handleRefunds: QueueHandler = async (batch, env) => {
	for (const message of batch.messages) {
		const body = message.body;
		if (!isRefundsMessage(body)) {
			await recordGiveUp(env, batch.queue, message, "not a refund message");
			message.ack();
			continue;
		}
		await runWithRetries(batch.queue, message, env, {
			kind: "refund",
			id: body.refund_id,
			run: async () =>
				(await processRefund(env, body.refund_id)) === "done"
					? { done: true }
					: { done: false, waiting: "Stripe is still processing the refund" },
			abandon: (reason) => abandonRefund(env, body.refund_id, reason),
		});
	}
};
