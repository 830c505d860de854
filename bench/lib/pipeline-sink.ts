import { Webhook } from "standardwebhooks";
import type { ReceivedWebhook, WebhookReceiver } from "../../scripts/lib/webhook-receiver.js";

// The merchant's side of webhooks in the benchmarks: every request to one sink of the local
// receiver is verified (Standard Webhooks signature and timestamp) and deduplicated by its
// webhook-id, as a merchant's handler would. Raw requests are counted too, so a redelivery shows
// as a duplicate request that dedup absorbed.

export interface DeliveredEvent {
	id: string;
	type: string;
	/** The payment an event concerns: the object's id, or a conversion's / refund's payment. */
	paymentId: string | null;
	/** Date.now() when the first copy arrived. */
	firstAt: number;
	/** Requests that carried this webhook-id (1 = no duplicate request). */
	copies: number;
}

interface EventBody {
	id: string;
	type: string;
	data: { object: { id?: string; object?: string; payment?: string | null } };
}

export class VerifiedSink {
	readonly events = new Map<string, DeliveredEvent>();
	requests = 0;
	rejected = 0;
	readonly #verifier: Webhook;
	readonly #waiters = new Set<() => void>();
	#detach: (() => void) | undefined;

	constructor(secret: string) {
		this.#verifier = new Webhook(secret);
	}

	/** Takes the requests of `sink` on `receiver` (a receiver reopened after an outage, too). */
	attach(receiver: WebhookReceiver, sink: string): void {
		this.#detach?.();
		const stop = receiver.onReceive((hook) => {
			if (hook.sink === sink) this.#accept(hook);
		});
		this.#detach = () => {
			stop();
		};
	}

	#accept(hook: ReceivedWebhook): void {
		this.requests += 1;
		let body: EventBody;
		try {
			body = this.#verifier.verify(hook.body, hook.headers) as EventBody;
		} catch {
			this.rejected += 1;
			return;
		}
		const id = hook.headers["webhook-id"] ?? body.id;
		const seen = this.events.get(id);
		if (seen) {
			seen.copies += 1;
			return;
		}
		const object = body.data.object;
		const paymentId = object.object === "payment" ? (object.id ?? null) : (object.payment ?? null);
		this.events.set(id, { id, type: body.type, paymentId, firstAt: hook.receivedAt, copies: 1 });
		for (const wake of this.#waiters) wake();
	}

	/** The first receipt of `type` for a payment, if it has arrived. */
	find(paymentId: string, type: string): DeliveredEvent | undefined {
		for (const event of this.events.values()) {
			if (event.paymentId === paymentId && event.type === type) return event;
		}
		return undefined;
	}

	/** Resolves once `done()` holds after an arrival, or rejects at the deadline. */
	until(done: () => boolean, deadline: number, what: string): Promise<void> {
		if (done()) return Promise.resolve();
		return new Promise((resolve, reject) => {
			const timer = setTimeout(
				() => {
					this.#waiters.delete(check);
					reject(new Error(`timed out waiting for ${what}`));
				},
				Math.max(0, deadline - Date.now()),
			);
			const check = () => {
				if (!done()) return;
				clearTimeout(timer);
				this.#waiters.delete(check);
				resolve();
			};
			this.#waiters.add(check);
		});
	}

	/** Requests beyond the first per webhook-id: what dedup absorbed. */
	duplicateRequests(): number {
		let n = 0;
		for (const event of this.events.values()) n += event.copies - 1;
		return n;
	}

	detach(): void {
		this.#detach?.();
		this.#detach = undefined;
	}
}
