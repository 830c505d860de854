import { createHmac } from "node:crypto";
import { EventEmitter } from "node:events";
import type Stripe from "stripe";
import { errorMessage, type Log } from "../http.js";
import { randomToken } from "./store.js";

// Webhook delivery as Stripe does it: a JSON POST per event to the configured endpoint, signed
// with `Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.payload">` (re-signed on every
// attempt), retried with exponential backoff until a 2xx. Deliveries for one object go out one
// at a time in creation order; different objects do not wait for each other. Stripe retries for
// three days; the sandbox gives up after a few attempts within seconds (configurable).

export interface WebhookEndpoint {
	url: string;
	/** `whsec_…`; the HMAC key is the whole string, as stripe-node uses it. */
	secret: string;
	/** Event types to send; `["*"]` for all. */
	enabledEvents: string[];
}

export interface WebhookRetryOptions {
	/** Attempts per event, the first included (default 4). */
	attempts?: number;
	/** Wait before the second attempt; doubles after each failure (default 500 ms). */
	initialDelayMs?: number;
	maxDelayMs?: number;
	/** Per-attempt timeout (default 5000 ms). */
	timeoutMs?: number;
}

export interface DeliveryAttempt {
	at: number;
	status: number | null;
	error: string | null;
}

export interface WebhookDelivery {
	eventId: string;
	type: string;
	url: string;
	state: "pending" | "delivered" | "failed";
	attempts: DeliveryAttempt[];
}

export function generateWebhookSecret(): string {
	return `whsec_${randomToken(32)}`;
}

export function signatureHeader(payload: string, secret: string, timestamp: number): string {
	const signature = createHmac("sha256", secret).update(`${timestamp}.${payload}`).digest("hex");
	return `t=${timestamp},v1=${signature}`;
}

interface Queued {
	event: Stripe.Event;
	endpoint: WebhookEndpoint;
	delivery: WebhookDelivery;
}

export class WebhookDispatcher {
	/** "delivery" with each finished WebhookDelivery, "attempt" with `(delivery, attempt)`. */
	readonly events = new EventEmitter();
	private endpoint: WebhookEndpoint | null = null;
	private readonly queues = new Map<string, Queued[]>();
	private readonly draining = new Set<Promise<void>>();
	private records: WebhookDelivery[] = [];
	private abort = new AbortController();
	private readonly retry: Required<WebhookRetryOptions>;

	constructor(
		retry: WebhookRetryOptions,
		private readonly now: () => number,
		private readonly log: Log = () => {},
	) {
		this.retry = {
			attempts: retry.attempts ?? 4,
			initialDelayMs: retry.initialDelayMs ?? 500,
			maxDelayMs: retry.maxDelayMs ?? 4_000,
			timeoutMs: retry.timeoutMs ?? 5_000,
		};
		this.events.setMaxListeners(100);
	}

	configure(endpoint: WebhookEndpoint | null): void {
		this.endpoint = endpoint;
	}

	current(): WebhookEndpoint | null {
		return this.endpoint;
	}

	retryOptions(): Required<WebhookRetryOptions> {
		return { ...this.retry };
	}

	setRetry(options: WebhookRetryOptions): void {
		Object.assign(
			this.retry,
			Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
		);
	}

	/** Whether an event of this type would be sent (for the event's `pending_webhooks`). */
	wants(type: string): boolean {
		const endpoint = this.endpoint;
		return (
			endpoint !== null &&
			(endpoint.enabledEvents.includes("*") || endpoint.enabledEvents.includes(type))
		);
	}

	enqueue(event: Stripe.Event): void {
		const endpoint = this.endpoint;
		if (!endpoint || !this.wants(event.type)) return;
		const delivery: WebhookDelivery = {
			eventId: event.id,
			type: event.type,
			url: endpoint.url,
			state: "pending",
			attempts: [],
		};
		this.records.push(delivery);
		const objectId = (event.data.object as { id?: string }).id ?? event.id;
		const key = `${endpoint.url}\n${objectId}`;
		const queue = this.queues.get(key);
		const item = { event, endpoint, delivery };
		if (queue) {
			queue.push(item);
			return;
		}
		this.queues.set(key, [item]);
		const run = this.drain(key).finally(() => this.draining.delete(run));
		this.draining.add(run);
	}

	deliveries(): WebhookDelivery[] {
		return structuredClone(this.records);
	}

	/** Resolves once every queued delivery has finished (delivered or given up). */
	async idle(): Promise<void> {
		while (this.draining.size > 0) await Promise.all([...this.draining]);
	}

	/** Drops queued deliveries and their history; the endpoint stays configured. */
	async reset(): Promise<void> {
		this.abort.abort();
		await this.idle();
		this.abort = new AbortController();
		this.queues.clear();
		this.records = [];
	}

	async close(): Promise<void> {
		this.abort.abort();
		await this.idle();
	}

	private async drain(key: string): Promise<void> {
		const signal = this.abort.signal;
		const queue = this.queues.get(key);
		while (queue && queue.length > 0 && !signal.aborted) {
			const item = queue[0] as Queued;
			await this.deliver(item, signal);
			queue.shift();
		}
		if (this.queues.get(key) === queue) this.queues.delete(key);
	}

	private async deliver(item: Queued, signal: AbortSignal): Promise<void> {
		const { event, endpoint, delivery } = item;
		for (let attempt = 1; attempt <= this.retry.attempts; attempt++) {
			if (attempt > 1) {
				const delay = Math.min(
					this.retry.initialDelayMs * 2 ** (attempt - 2),
					this.retry.maxDelayMs,
				);
				if (!(await sleep(delay, signal))) return;
			}
			const payload = JSON.stringify(event, null, 2);
			const timestamp = Math.floor(this.now() / 1000);
			const record: DeliveryAttempt = { at: timestamp, status: null, error: null };
			try {
				const res = await fetch(endpoint.url, {
					method: "POST",
					headers: {
						"content-type": "application/json; charset=utf-8",
						"user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
						"stripe-signature": signatureHeader(payload, endpoint.secret, timestamp),
					},
					body: payload,
					signal: AbortSignal.any([signal, AbortSignal.timeout(this.retry.timeoutMs)]),
				});
				record.status = res.status;
				await res.arrayBuffer().catch(() => undefined);
			} catch (error) {
				if (signal.aborted) return;
				record.error = errorMessage(error);
			}
			delivery.attempts.push(record);
			this.events.emit("attempt", structuredClone(delivery), record);
			if (record.status !== null && record.status >= 200 && record.status < 300) {
				delivery.state = "delivered";
				event.pending_webhooks = Math.max(0, event.pending_webhooks - 1);
				this.events.emit("delivery", structuredClone(delivery));
				return;
			}
		}
		delivery.state = "failed";
		this.log(
			`stripe: webhook ${event.type} ${event.id} to ${endpoint.url} failed after ${delivery.attempts.length} attempts`,
		);
		this.events.emit("delivery", structuredClone(delivery));
	}
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
	if (signal.aborted) return Promise.resolve(false);
	return new Promise((resolve) => {
		const onAbort = () => {
			clearTimeout(timer);
			resolve(false);
		};
		const timer = setTimeout(() => {
			signal.removeEventListener("abort", onAbort);
			resolve(true);
		}, ms);
		signal.addEventListener("abort", onAbort, { once: true });
	});
}
