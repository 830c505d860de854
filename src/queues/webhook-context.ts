import type { Env } from "../env";
import { log } from "../lib/log";
import { recordGiveUp } from "./index";

// What the fan-out and delivery steps of the webhooks queue share: the consumer's context, and how
// a message that cannot be handled now comes back later.

/** A message that fails for an unexpected reason (D1 unreachable) comes back after this. */
const UNEXPECTED_RETRY_SECONDS = 30;
/** An event not (yet) readable is looked for this many times before the message is given up. */
const MISSING_EVENT_ATTEMPTS = 5;

export interface Context {
	env: Env;
	queue: string;
	now: () => number;
	timeoutMs: number;
}

/** Runs one message's work; an unexpected failure (D1 unreachable) retries it later. */
export async function guarded(message: Message<unknown>, work: () => Promise<void>): Promise<void> {
	try {
		await work();
	} catch (error) {
		retryLater(message, error);
	}
}

export function retryLater(message: Message<unknown>, error: unknown): void {
	log("error", "webhooks message failed", {
		message: message.id,
		error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
	});
	message.retry({ delaySeconds: UNEXPECTED_RETRY_SECONDS });
}

/** The event row is written before it is published, so a missing one is a lagging read: wait. */
export async function eventMissing(context: Context, message: Message<unknown>, eventId: string) {
	if (message.attempts >= MISSING_EVENT_ATTEMPTS) {
		await recordGiveUp(context.env, context.queue, message, `event ${eventId} not found`);
		message.ack();
	} else {
		message.retry({ delaySeconds: 10 });
	}
}
