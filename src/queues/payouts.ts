import { isPayoutSchedulePageMessage, isPayoutsMessage } from "../domain/queue-messages";
import { abandonPayout, executePayout } from "../services/payout-send";
import { type QueueHandler, recordGiveUp } from "./index";
import { handlePayoutSchedulePage } from "./payout-schedule";
import { runWithRetries } from "./retry";

/**
 * The payouts queue's consumer: executes pending payouts (the send step). Idempotent: a payout
 * no longer pending or in transit is acknowledged untouched, Stripe gets the payout id as
 * idempotency key, an on-chain payout's sender takes it on once. Trouble is retried with backoff;
 * the last attempt gives up visibly (a queue_failures row, and the payout failed with its
 * reservation reversed unless money may still be on its way).
 */
export const handlePayouts: QueueHandler = async (batch, env) => {
	for (const message of batch.messages) {
		const body = message.body;
		// The daily run's pages (`{kind: "schedule_page", …}`) share the queue: they create payouts.
		if (isPayoutSchedulePageMessage(body)) {
			await handlePayoutSchedulePage(batch.queue, message, body, env);
			continue;
		}
		if (!isPayoutsMessage(body)) {
			await recordGiveUp(env, batch.queue, message, "not a payout message");
			message.ack();
			continue;
		}
		await runWithRetries(batch.queue, message, env, {
			kind: "payout",
			id: body.payout_id,
			run: async () => {
				await executePayout(env, body.payout_id);
				return { done: true };
			},
			abandon: (reason) => abandonPayout(env, body.payout_id, reason),
		});
	}
};
