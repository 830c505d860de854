import { createServices } from "../context";
import { insertQueueFailure } from "../db/queue-failures";
import { newId } from "../domain/ids";
import type { Env } from "../env";
import { log } from "../lib/log";

/** What each queue carries; the producers and consumers share these shapes. */
export type QueueKind = "refunds" | "conversions" | "webhooks" | "reports" | "payouts";

export type QueueHandler = (
	batch: MessageBatch<unknown>,
	env: Env,
	ctx: ExecutionContext,
) => Promise<void>;

/**
 * The queue a batch came from, whatever the deployment calls it ("webhooks", "webhooks-staging"):
 * the kind is the name's first part.
 */
export function queueKind(name: string): QueueKind | null {
	const kind = name.split("-")[0];
	return kind === "refunds" ||
		kind === "conversions" ||
		kind === "webhooks" ||
		kind === "reports" ||
		kind === "payouts"
		? kind
		: null;
}

const handlers: Partial<Record<QueueKind, () => Promise<QueueHandler>>> = {};

/** Registers a consumer; modules are loaded on first use, so a cold fetch pays for none of them. */
export function registerQueueHandler(kind: QueueKind, load: () => Promise<QueueHandler>): void {
	handlers[kind] = load;
}

export async function handleQueue(
	batch: MessageBatch<unknown>,
	env: Env,
	ctx: ExecutionContext,
): Promise<void> {
	// A bad variable fails the batch (retried) with one clear error before any message is handled.
	createServices(env);
	const kind = queueKind(batch.queue);
	const load = kind ? handlers[kind] : undefined;
	if (!load) {
		// Unknown queue: retry later rather than acknowledge work nobody did.
		log("error", "no consumer for queue", { queue: batch.queue, messages: batch.messages.length });
		batch.retryAll({ delaySeconds: 60 });
		return;
	}
	await (await load())(batch, env, ctx);
}

/**
 * Records a message its consumer gives up on (after its last attempt), so the failure is visible
 * in D1 and not only in the dead-letter queue. Never throws: the message is on its way to the DLQ
 * either way.
 */
export async function recordGiveUp(
	env: Env,
	queue: string,
	message: Message<unknown>,
	error: string,
): Promise<void> {
	try {
		await insertQueueFailure(env.DB, {
			id: newId("queueFailure"),
			queue,
			message_id: message.id,
			body: JSON.stringify(message.body),
			attempts: message.attempts,
			error: error.slice(0, 2000),
			created: Math.floor(Date.now() / 1000),
		});
	} catch (err) {
		log("error", "could not record a queue give-up", {
			queue,
			message_id: message.id,
			error: String(err),
		});
	}
	log("error", "queue message given up", {
		queue,
		message_id: message.id,
		attempts: message.attempts,
		error,
	});
}
