import { env } from "cloudflare:workers";
import Stripe from "stripe";
import { call } from "./api";

/** The official SDK, pointed at the sandbox's emulator exactly as the gateway is. */
export const stripe = (() => {
	const url = new URL(env.STRIPE_API_URL as string);
	return new Stripe(env.STRIPE_SECRET_KEY as string, {
		httpClient: Stripe.createFetchHttpClient(),
		host: url.hostname,
		port: Number(url.port),
		protocol: "http",
	});
})();

const crypto = Stripe.createSubtleCryptoProvider();

/** Every event the emulator recorded about a PaymentIntent (or its charges), oldest first. */
export async function eventsFor(intentId: string): Promise<Stripe.Event[]> {
	const list = await stripe.events.list({ limit: 100 });
	return list.data
		.filter((e) => {
			const o = e.data.object as { id?: string; payment_intent?: string | null };
			return o.id === intentId || o.payment_intent === intentId;
		})
		.reverse();
}

/** Signs a payload the way Stripe does (`t=…,v1=…`), with any secret and timestamp. */
export function signature(
	payload: string,
	options: { secret?: string; timestamp?: number } = {},
): Promise<string> {
	return stripe.webhooks.generateTestHeaderStringAsync({
		payload,
		secret: options.secret ?? (env.STRIPE_WEBHOOK_SECRET as string),
		timestamp: options.timestamp ?? Math.floor(Date.now() / 1000),
		cryptoProvider: crypto,
	});
}

/** Delivers one event to the gateway's webhook endpoint, signed. */
export async function deliver(
	event: Stripe.Event,
	options: { secret?: string; timestamp?: number } = {},
) {
	const payload = JSON.stringify(event);
	return call("POST", "/webhooks/stripe", {
		rawBody: payload,
		headers: {
			"Content-Type": "application/json",
			"Stripe-Signature": await signature(payload, options),
		},
	});
}

/** Delivers, in order, every event about the intent that the gateway has not been sent yet. */
const delivered = new Set<string>();
export async function deliverAll(intentId: string): Promise<number> {
	let count = 0;
	for (const event of await eventsFor(intentId)) {
		if (delivered.has(event.id)) continue;
		const res = await deliver(event);
		if (res.status !== 200)
			throw new Error(`webhook ${event.type}: ${res.status} ${await res.text()}`);
		delivered.add(event.id);
		count++;
	}
	return count;
}

/** Completes (or fails) a 3-D Secure challenge, as the payer would in Stripe's modal. */
export async function authenticate(intentId: string, outcome: "succeed" | "fail"): Promise<void> {
	await stripe.rawRequest("POST", `/v1/payment_intents/${intentId}/_test/authenticate`, {
		outcome,
	});
}

/** Opens a dispute on a charge, as a card network would. */
export async function dispute(chargeId: string): Promise<void> {
	await stripe.rawRequest("POST", `/v1/charges/${chargeId}/_test/dispute`, {});
}
