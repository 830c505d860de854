import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect, inject } from "vitest";
import { type EventRow, insertEventStatement } from "../../../src/db/events";
import { newId } from "../../../src/domain/ids";
import type { Env } from "../../../src/env";
import { consumeWebhooks, type WebhookConsumerOptions } from "../../../src/queues/webhooks";
import type {
	WebhookAttemptResponse,
	WebhookEndpointResponse,
} from "../../../src/routes/webhook-endpoints";
import { call, json } from "./api";

/** What the test receiver (scripts/lib/webhook-receiver.ts, started by the global setup) saw. */
export interface ReceivedJson {
	sink: string;
	headers: Record<string, string>;
	body: string;
	receivedAt: number;
}

/** One named place on the receiver: its URL, what it got, and how it answers next. */
export function sink(name = crypto.randomUUID()) {
	const base = inject("webhookReceiverUrl");
	return {
		name,
		url: `${base}/hooks/${name}`,
		async received(): Promise<ReceivedJson[]> {
			return (await fetch(`${base}/control/${name}/received`)).json();
		},
		async script(responses: { status: number; delay_ms?: number }[]): Promise<void> {
			const res = await fetch(`${base}/control/${name}/script`, {
				method: "POST",
				body: JSON.stringify(responses),
			});
			expect(res.status).toBe(200);
		},
		/** Waits until at least `n` requests arrived (deliveries through the real local queue). */
		async waitFor(n: number, timeoutMs = 10_000): Promise<ReceivedJson[]> {
			const deadline = Date.now() + timeoutMs;
			for (;;) {
				const got = await this.received();
				if (got.length >= n || Date.now() > deadline) return got;
				await new Promise((resolve) => setTimeout(resolve, 50));
			}
		},
	};
}

export type EndpointJson = WebhookEndpointResponse;

export type AttemptJson = WebhookAttemptResponse;

export async function createEndpoint(
	key: string,
	body: { url: string; enabled_events?: string[]; [k: string]: unknown },
): Promise<EndpointJson & { secret: string }> {
	const res = await call("POST", "/v1/webhook_endpoints", {
		key,
		body: { enabled_events: ["*"], ...body },
	});
	if (res.status !== 200) throw new Error(`endpoint create: ${res.status} ${await res.text()}`);
	return json(res);
}

/** Records an event in D1 without publishing it, so only the test decides what the queue sees. */
export async function recordEvent(
	merchantId: string,
	fields: Partial<Omit<EventRow, "merchant_id">> = {},
): Promise<EventRow> {
	const now = Date.now();
	const row: EventRow = {
		id: newId("event", now),
		merchant_id: merchantId,
		livemode: false,
		type: "payment.created",
		object_id: "pay_test",
		object_version: 1,
		data: JSON.stringify({ id: "pay_test", object: "payment", status: "requires_payment" }),
		created: Math.floor(now / 1000),
		...fields,
	};
	await insertEventStatement(env.DB, row).run();
	return row;
}

/** A producer that keeps what it is sent, instead of the real queue. */
export function captureQueue() {
	const sent: unknown[] = [];
	const queue = {
		send: async (body: unknown) => void sent.push(body),
		sendBatch: async (batch: { body: unknown }[]) => void sent.push(...batch.map((m) => m.body)),
	};
	return { sent, queue: queue as unknown as Queue<unknown> };
}

let messageCounter = 0;

/**
 * Runs the webhooks consumer on messages (each `{body, attempts?, id?}`) and returns what it
 * decided for each: acked, or retried with which delay. The pool's test messages drop retry()'s
 * options, so the delays are recorded on the way through.
 */
export async function runWebhooks(
	messages: { body: unknown; attempts?: number; id?: string }[],
	options: WebhookConsumerOptions & { env?: Partial<Env> } = {},
) {
	const batch = createMessageBatch(
		"webhooks",
		messages.map((m) => ({
			id: m.id ?? `msg-${++messageCounter}`,
			timestamp: new Date(),
			attempts: m.attempts ?? 1,
			body: m.body,
		})),
	);
	const delays = new Map<string, number | undefined>();
	const recording = {
		queue: batch.queue,
		messages: batch.messages.map((message) => ({
			id: message.id,
			timestamp: message.timestamp,
			body: message.body,
			attempts: message.attempts,
			ack: () => message.ack(),
			retry: (retryOptions?: QueueRetryOptions) => {
				delays.set(message.id, retryOptions?.delaySeconds);
				message.retry(retryOptions);
			},
		})),
		ackAll: () => batch.ackAll(),
		retryAll: (retryOptions?: QueueRetryOptions) => batch.retryAll(retryOptions),
	} as unknown as MessageBatch<unknown>;
	const ctx = createExecutionContext();
	await consumeWebhooks(recording, { ...env, ...options.env } as Env, ctx, options);
	const result = await getQueueResult(batch, ctx);
	return {
		...result,
		retryMessages: result.retryMessages.map((r: { msgId: string }) => ({
			msgId: r.msgId,
			delaySeconds: delays.get(r.msgId),
		})),
	};
}

export async function attemptRows(endpointId: string) {
	const { results } = await env.DB.prepare(
		"SELECT * FROM webhook_attempts WHERE endpoint_id = ? ORDER BY id",
	)
		.bind(endpointId)
		.all<{
			id: string;
			event_id: string;
			redelivery_id: string;
			attempt: number;
			status: string;
			status_code: number | null;
			error: string | null;
			next_attempt_at: number | null;
			created: number;
		}>();
	return results;
}
