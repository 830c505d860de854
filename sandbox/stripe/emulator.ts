import Stripe from "stripe";
import type { Log } from "../http.js";
import { StripeFaultInjector, type StripeFaults } from "./faults.js";
import { IdempotencyCache } from "./idempotency.js";
import { StripeStore, snapshot } from "./store.js";
import {
	generateWebhookSecret,
	type WebhookDelivery,
	WebhookDispatcher,
	type WebhookEndpoint,
	type WebhookRetryOptions,
} from "./webhooks.js";

// The Stripe emulator's state and clocks, shared by its HTTP API, the control server's knobs and
// tests: the store, events and their webhook deliveries, idempotency keys, faults, and the
// timers behind Stripe's asynchronous steps (processing, refund failures, disputes).

export interface StripeEmulatorOptions {
	/** Endpoint that receives every event, signed with `webhookSecret` (generated if absent). */
	webhookUrl?: string;
	webhookSecret?: string;
	/** Event types sent to the endpoint; all by default. */
	webhookEvents?: string[];
	webhookRetry?: WebhookRetryOptions;
	/** Time a confirmed card payment spends in `processing` (default 0: straight through, as cards do). */
	processingMs?: number;
	/** Delay before a `pm_card_refundFail` refund turns `failed` (default 1000 ms). */
	refundFailureDelayMs?: number;
	/** Delay before a `pm_card_createDispute` charge is disputed (default 1000 ms). */
	disputeDelayMs?: number;
	/** Seeds the errorRate fault's random stream (default 1). */
	faultSeed?: number;
	/** `api_version` on events; the installed stripe-node's version by default. */
	apiVersion?: string;
	/** Clock in milliseconds (Date.now by default); drives `created` and the idempotency TTL. */
	now?: () => number;
	log?: Log;
}

/** What caused a change: the API request (id and idempotency key), or nothing for async steps. */
export interface RequestContext {
	id: string | null;
	idempotencyKey: string | null;
	/** The emulator's own origin as the client reached it, for 3-D Secure redirect URLs. */
	baseUrl: string;
}

export interface StripeTimings {
	processingMs: number;
	refundFailureDelayMs: number;
	disputeDelayMs: number;
}

export class StripeEmulator {
	readonly store: StripeStore;
	readonly faults: StripeFaultInjector;
	readonly idempotency: IdempotencyCache;
	readonly webhooks: WebhookDispatcher;
	readonly apiVersion: string;
	readonly timings: StripeTimings;
	readonly log: Log;
	private readonly timers = new Set<NodeJS.Timeout>();
	private closed = false;

	constructor(options: StripeEmulatorOptions = {}) {
		const now = options.now ?? Date.now;
		this.log = options.log ?? (() => {});
		this.store = new StripeStore(now);
		this.faults = new StripeFaultInjector(options.faultSeed ?? 1);
		this.idempotency = new IdempotencyCache(now);
		this.webhooks = new WebhookDispatcher(options.webhookRetry ?? {}, now, this.log);
		this.apiVersion = options.apiVersion ?? Stripe.API_VERSION;
		this.timings = {
			processingMs: options.processingMs ?? 0,
			refundFailureDelayMs: options.refundFailureDelayMs ?? 1_000,
			disputeDelayMs: options.disputeDelayMs ?? 1_000,
		};
		if (options.webhookUrl) {
			this.setWebhook({
				url: options.webhookUrl,
				secret: options.webhookSecret,
				enabledEvents: options.webhookEvents,
			});
		}
	}

	/** Replaces the webhook endpoint; returns it with its (possibly generated) secret. */
	setWebhook(input: { url: string; secret?: string; enabledEvents?: string[] }): WebhookEndpoint {
		let url: URL;
		try {
			url = new URL(input.url);
		} catch {
			throw new RangeError(`webhook url is not a URL: ${input.url}`);
		}
		if (url.protocol !== "http:" && url.protocol !== "https:") {
			throw new RangeError("webhook url must be http or https");
		}
		if (input.secret !== undefined && !/^whsec_\S+$/.test(input.secret)) {
			throw new RangeError("webhook secret must start with whsec_");
		}
		const endpoint: WebhookEndpoint = {
			url: url.toString(),
			secret: input.secret ?? generateWebhookSecret(),
			enabledEvents: input.enabledEvents?.length ? [...input.enabledEvents] : ["*"],
		};
		this.webhooks.configure(endpoint);
		return { ...endpoint };
	}

	clearWebhook(): void {
		this.webhooks.configure(null);
	}

	webhook(): WebhookEndpoint | null {
		const endpoint = this.webhooks.current();
		return endpoint ? { ...endpoint, enabledEvents: [...endpoint.enabledEvents] } : null;
	}

	deliveries(): WebhookDelivery[] {
		return this.webhooks.deliveries();
	}

	setFaults(input: unknown): StripeFaults {
		return this.faults.set(input);
	}

	clearFaults(): StripeFaults {
		return this.faults.set({});
	}

	setTimings(input: Partial<StripeTimings>): StripeTimings {
		for (const [key, value] of Object.entries(input)) {
			if (!(key in this.timings)) throw new RangeError(`unknown timing ${key}`);
			if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > 600_000) {
				throw new RangeError(`${key} must be an integer number of milliseconds (0..600000)`);
			}
			this.timings[key as keyof StripeTimings] = value;
		}
		return { ...this.timings };
	}

	/** Records an event (`GET /v1/events`) and queues it for the webhook endpoint. */
	emit(
		type: Stripe.Event.Type,
		object: { id: string },
		ctx: RequestContext | null,
		previousAttributes?: object,
		/** A connected account's event (Connect): its id in the event's `account`. */
		account?: string,
	): Stripe.Event {
		const data: { object: object; previous_attributes?: object } = { object: snapshot(object) };
		if (previousAttributes) data.previous_attributes = snapshot(previousAttributes);
		// Stripe.Event is a union keyed by `type`; the object matches the type by construction.
		const event = {
			id: this.store.newId("evt"),
			object: "event",
			api_version: this.apiVersion,
			created: this.store.seconds(),
			data,
			livemode: false,
			pending_webhooks: this.webhooks.wants(type) ? 1 : 0,
			request: { id: ctx?.id ?? null, idempotency_key: ctx?.idempotencyKey ?? null },
			type,
			...(account ? { account } : {}),
		} as Stripe.Event;
		this.store.events.set(event.id, event);
		this.webhooks.enqueue(event);
		return event;
	}

	/** Runs `task` after `ms` unless the emulator is reset or closed first. */
	schedule(ms: number, task: () => void): void {
		if (this.closed) return;
		const timer = setTimeout(() => {
			this.timers.delete(timer);
			try {
				task();
			} catch (error) {
				this.log(
					`stripe: scheduled step failed: ${error instanceof Error ? error.message : String(error)}`,
				);
			}
		}, ms);
		this.timers.add(timer);
	}

	/** Forgets every object, event, idempotency key and pending step; faults off. */
	async reset(): Promise<void> {
		for (const timer of this.timers) clearTimeout(timer);
		this.timers.clear();
		await this.webhooks.reset();
		this.store.clear();
		this.idempotency.clear();
		this.faults.set({});
	}

	/** Waits for every queued webhook delivery to finish. */
	idle(): Promise<void> {
		return this.webhooks.idle();
	}

	async close(): Promise<void> {
		this.closed = true;
		for (const timer of this.timers) clearTimeout(timer);
		this.timers.clear();
		await this.webhooks.close();
	}
}

/**
 * STRIPE_WEBHOOK_URL and STRIPE_WEBHOOK_SECRET (`whsec_…`; generated when only the URL is set).
 * Only variables that are set appear, so explicit options and defaults stay in charge.
 */
export function stripeOptionsFromEnv(env: NodeJS.ProcessEnv): StripeEmulatorOptions {
	const options: StripeEmulatorOptions = {};
	const url = env.STRIPE_WEBHOOK_URL?.trim();
	const secret = env.STRIPE_WEBHOOK_SECRET?.trim();
	if (url) options.webhookUrl = url;
	if (secret) options.webhookSecret = secret;
	return options;
}
