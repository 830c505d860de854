import {
	parseWebhookMessage,
	type WebhookEventMessage,
	type WebhookQueueMessage,
} from "../domain/queue-messages";
import { DELIVERY_TIMEOUT_MS } from "../domain/webhooks";
import type { Env } from "../env";
import { recordGiveUp } from "./index";
import { type Context, guarded } from "./webhook-context";
import { deliver } from "./webhook-delivery";
import { fanOut } from "./webhook-fan-out";

/**
 * The `webhooks` queue: `event` messages fan out to one `delivery` message per matching endpoint;
 * a `delivery` message POSTs the event to its endpoint on the retry schedule of
 * src/domain/webhooks.ts. The schedule is kept in D1 (the attempts of the delivery), not in the
 * message, so duplicated, retried and late messages all converge on the same attempts.
 */

export interface WebhookConsumerOptions {
	/** The clock that schedules attempts (tests move it instead of waiting). */
	now?: () => number;
	/** How long a receiver has to answer (default 15 s). */
	timeoutMs?: number;
}

export async function consumeWebhooks(
	batch: MessageBatch<unknown>,
	env: Env,
	_ctx: ExecutionContext,
	options: WebhookConsumerOptions = {},
): Promise<void> {
	const context: Context = {
		env,
		queue: batch.queue,
		now: options.now ?? Date.now,
		timeoutMs: options.timeoutMs ?? DELIVERY_TIMEOUT_MS,
	};
	const fanOuts: { message: Message<unknown>; body: WebhookEventMessage }[] = [];
	const deliveries: Promise<void>[] = [];
	for (const message of batch.messages) {
		const body = parseWebhookMessage(message.body);
		if (body?.kind === "event") fanOuts.push({ message, body });
		else deliveries.push(guarded(message, () => consumeOther(context, message, body)));
	}
	// Deliveries each on their own (one slow receiver holds no other back); the batch's events
	// fan out together, in one query and one send.
	await Promise.all([...deliveries, fanOut(context, fanOuts)]);
}

async function consumeOther(
	context: Context,
	message: Message<unknown>,
	body: WebhookQueueMessage | null,
): Promise<void> {
	if (body?.kind === "delivery") return deliver(context, message, body);
	await recordGiveUp(context.env, context.queue, message, "not a webhooks queue message");
	message.ack();
}
