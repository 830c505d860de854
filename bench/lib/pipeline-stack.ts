import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { LocalStack, type LocalStackOptions } from "../../scripts/lib/local-stack.js";
import { WebhookReceiver } from "../../scripts/lib/webhook-receiver.js";
import { VerifiedSink } from "./pipeline-sink.js";

// The payment pipeline on one machine for the pipeline and fault benchmarks: the local stack, a
// merchant that converts what it receives into dollars (so every crypto payment also runs the
// conversions queue), and a webhook endpoint for every event pointing at a verifying receiver in
// this process.

export const SINK = "merchant";
/** Tries of one API call while the gateway is unreachable or restarting under it. */
const API_TRIES = 30;
/** Priced in dollars, paid in USDC: quoted, confirmed at `confirmed`, converted to usd. */
export const PAYMENT_BODY = {
	amount: 2500,
	currency: "usd",
	payment_method_types: ["solana"],
	solana: { token: "USDC" },
} as const;

export interface SolanaDetails {
	token: string;
	/** null for SOL. */
	mint: string | null;
	amount: string;
	/** Base units counted so far, as a decimal string. */
	amount_received: string;
	decimals: number;
	recipient: string;
	reference: string;
	memo: string;
	solana_pay_url: string;
}

export interface ApiPayment {
	id: string;
	status: string;
	amount_received: number;
	solana: SolanaDetails;
}

export interface ApiEvent {
	id: string;
	type: string;
	data: { object: { id?: string; payment?: string } };
}

export class GatewayApiFailure extends Error {
	constructor(
		readonly status: number,
		message: string,
	) {
		super(message);
	}
}

export interface HarnessOptions extends LocalStackOptions {
	/**
	 * false: no webhook endpoint and no receiver (the scale benchmark, whose thousands of
	 * payment.created deliveries would only load the machine). Default true.
	 */
	webhooks?: boolean;
}

export class PipelineHarness {
	readonly stack: LocalStack;
	receiver!: WebhookReceiver;
	sink!: VerifiedSink;
	secret = "";
	endpointId = "";
	#receiverPort = 0;
	readonly #webhooks: boolean;

	constructor({ webhooks = true, ...options }: HarnessOptions) {
		this.#webhooks = webhooks;
		this.stack = new LocalStack({
			...options,
			vars: { ENCRYPTION_KEYS: `bench:${randomBytes(32).toString("base64")}`, ...options.vars },
		});
	}

	async start(): Promise<void> {
		if (this.#webhooks) {
			this.receiver = await WebhookReceiver.start();
			this.#receiverPort = Number(new URL(this.receiver.url).port);
		}
		await this.stack.start();
		const merchant = await this.stack.createMerchant("Pipeline Merchant");
		this.secret = merchant.secretKey;
		await this.api("POST", "/v1/settings", {
			settlement_currency: "usd",
			conversion_rate_policy: "locked",
		});
		if (!this.#webhooks) return;
		const endpoint = await this.api<{ id: string; secret: string }>(
			"POST",
			"/v1/webhook_endpoints",
			{ url: this.receiver.sinkUrl(SINK), enabled_events: ["*"] },
		);
		this.endpointId = endpoint.id;
		this.sink = new VerifiedSink(endpoint.secret);
		this.sink.attach(this.receiver, SINK);
	}

	/** Closes the receiver's port: deliveries meet a refused connection until reopenReceiver(). */
	async closeReceiver(): Promise<void> {
		this.sink.detach();
		await this.receiver.close();
	}

	/** Listens again on the same port; the sink keeps what it had collected. */
	async reopenReceiver(): Promise<void> {
		this.receiver = await WebhookReceiver.start(this.#receiverPort);
		this.sink.attach(this.receiver, SINK);
	}

	/**
	 * One API call. A POST carries one Idempotency-Key for all its tries, so retrying it (the
	 * gateway restarting under it, as wrangler dev does when its code is reloaded) is safe.
	 */
	async api<T>(
		method: "GET" | "POST",
		path: string,
		body?: unknown,
		extraHeaders: Record<string, string> = {},
	): Promise<T> {
		const key = randomBytes(12).toString("hex");
		for (let attempt = 1; ; attempt++) {
			let res: Response;
			try {
				res = await fetch(new URL(path, this.stack.gatewayUrl), {
					method,
					headers: {
						accept: "application/json",
						authorization: `Bearer ${this.secret}`,
						...extraHeaders,
						...(body !== undefined
							? { "content-type": "application/json", "idempotency-key": key }
							: {}),
					},
					body: body === undefined ? undefined : JSON.stringify(body),
					signal: AbortSignal.any([this.stack.signal, AbortSignal.timeout(30_000)]),
				});
			} catch (error) {
				this.stack.signal.throwIfAborted();
				if (attempt >= API_TRIES) throw error;
				await sleep(1_000);
				continue;
			}
			const text = await res.text();
			if (res.status === 503 && text.includes("restarted") && attempt < API_TRIES) {
				await sleep(1_000);
				continue;
			}
			if (!res.ok) {
				throw new GatewayApiFailure(
					res.status,
					`${method} ${path}: HTTP ${res.status} ${text.slice(0, 300)}`,
				);
			}
			return (text ? JSON.parse(text) : undefined) as T;
		}
	}

	/** A payment of PAYMENT_BODY (25.00 USD in USDC), or of `body`. */
	createPayment(body: object = PAYMENT_BODY): Promise<ApiPayment> {
		return this.api<ApiPayment>("POST", "/v1/payments", body);
	}

	getPayment(id: string): Promise<ApiPayment> {
		return this.api<ApiPayment>("GET", `/v1/payments/${id}`);
	}

	/** Every event of the merchant (test mode), through the API's cursor pages. */
	async listEvents(): Promise<ApiEvent[]> {
		const all: ApiEvent[] = [];
		let after: string | undefined;
		for (;;) {
			const page = await this.api<{ data: ApiEvent[]; has_more: boolean }>(
				"GET",
				`/v1/events?limit=100${after ? `&starting_after=${after}` : ""}`,
			);
			all.push(...page.data);
			if (!page.has_more || page.data.length === 0) return all;
			after = page.data.at(-1)?.id;
		}
	}

	async stop(): Promise<void> {
		await this.stack.stop();
		await this.receiver?.close().catch(() => {});
	}
}

/** Polls `check` until it returns a value (not undefined), or throws at the deadline. */
export async function pollUntil<T>(
	what: string,
	deadline: number,
	check: () => Promise<T | undefined>,
	intervalMs = 1_000,
): Promise<T> {
	let lastError: unknown;
	for (;;) {
		try {
			const value = await check();
			if (value !== undefined) return value;
		} catch (error) {
			// The gateway restarting or a dependency down: keep polling until the deadline.
			lastError = error;
		}
		if (Date.now() > deadline) {
			throw new Error(
				`timed out waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ""}`,
			);
		}
		await sleep(intervalMs);
	}
}
