import { createServer, type IncomingHttpHeaders } from "node:http";
import Stripe from "stripe";
import { closeServer, listen, readBody } from "../http.js";

// Test helpers for the Stripe emulator: a stripe-node client pointed at it exactly as the
// gateway configures one, and a local webhook endpoint that records what it receives.

export const TEST_SECRET_KEY = "sk_test_sandbox";

export function stripeClient(url: string, options: Stripe.StripeConfig = {}): Stripe {
	const { hostname, port } = new URL(url);
	return new Stripe(TEST_SECRET_KEY, {
		httpClient: Stripe.createFetchHttpClient(),
		host: hostname,
		port: Number(port),
		protocol: "http",
		...options,
	});
}

export interface ReceivedWebhook {
	headers: IncomingHttpHeaders;
	body: string;
	at: number;
}

export interface WebhookReceiver {
	url: string;
	received: ReceivedWebhook[];
	/** Status to answer with for the nth request (0-based); 200 by default. */
	respond: (index: number, body: string) => number;
	/** Resolves once `count` requests have arrived (rejects after `timeoutMs`). */
	waitFor(count: number, timeoutMs?: number): Promise<ReceivedWebhook[]>;
	close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
	const waiters = new Set<() => void>();
	const receiver: WebhookReceiver = {
		url: "",
		received: [],
		respond: () => 200,
		waitFor(count, timeoutMs = 10_000) {
			return new Promise((resolve, reject) => {
				const check = () => {
					if (receiver.received.length < count) return;
					waiters.delete(check);
					clearTimeout(timer);
					resolve(receiver.received.slice());
				};
				const timer = setTimeout(() => {
					waiters.delete(check);
					reject(new Error(`expected ${count} webhooks, got ${receiver.received.length}`));
				}, timeoutMs);
				waiters.add(check);
				check();
			});
		},
		close: () => closeServer(server),
	};
	const server = createServer(async (req, res) => {
		const body = await readBody(req);
		const index = receiver.received.length;
		receiver.received.push({ headers: req.headers, body, at: Date.now() });
		const status = receiver.respond(index, body);
		res.writeHead(status, { "content-type": "application/json" });
		res.end(JSON.stringify({ received: status < 300 }));
		for (const waiter of [...waiters]) waiter();
	});
	const port = await listen(server, 0, "127.0.0.1");
	receiver.url = `http://127.0.0.1:${port}/webhooks/stripe`;
	return receiver;
}

/** Polls `check` every 20 ms until it returns a value other than undefined. */
export async function eventually<T>(
	check: () => T | undefined | Promise<T | undefined>,
	timeoutMs = 10_000,
): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await check();
		if (value !== undefined) return value;
		if (Date.now() > deadline) throw new Error("condition not met in time");
		await new Promise((resolve) => setTimeout(resolve, 20));
	}
}
