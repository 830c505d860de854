import {
	createExecutionContext,
	createMessageBatch,
	getQueueResult,
	runDurableObjectAlarm,
	runInDurableObject,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { SenderStatus } from "../../../durable-objects/refund-object";
import worker from "../../../src/index";
import { advanceSlots } from "./solana";

let messageSeq = 0;

/** Delivers refund messages to the Worker's queue handler, as the refunds queue would. */
export async function consume(refundIds: string[], attempts = 1) {
	const batch = createMessageBatch(
		"refunds",
		refundIds.map((refund_id) => ({
			id: `msg-${++messageSeq}`,
			timestamp: new Date(),
			attempts,
			body: { kind: "refund", refund_id },
		})),
	);
	// getQueueResult does not report retry delays: note them on the way.
	const delays: (number | undefined)[] = [];
	for (const message of batch.messages) {
		const retry = message.retry.bind(message);
		message.retry = (options?: QueueRetryOptions) => {
			delays.push(options?.delaySeconds);
			retry(options);
		};
	}
	const ctx = createExecutionContext();
	await worker.queue(batch, env, ctx);
	return { ...(await getQueueResult(batch, ctx)), delays };
}

export function sender(refundId: string) {
	const ns = env.REFUNDS as NonNullable<typeof env.REFUNDS>;
	return ns.get(ns.idFromName(refundId));
}

/** Runs the refund sender's alarm now, as the runtime would at its due time. */
export async function fireSender(refundId: string): Promise<SenderStatus> {
	const stub = sender(refundId);
	await runInDurableObject(stub, (_i, state) => {
		state.storage.sql.exec("UPDATE jobs SET due = 0");
		return state.storage.setAlarm(Date.now() + 60 * 60 * 1000);
	});
	await runDurableObjectAlarm(stub);
	return stub.status();
}

/** Lets the chain confirm and finalize, looking after each step, until the refund is final. */
export async function finalize(refundId: string): Promise<SenderStatus> {
	for (let i = 0; i < 6; i++) {
		await advanceSlots(3);
		const status = await fireSender(refundId);
		if (status.state !== "sending") return status;
	}
	return sender(refundId).status();
}
