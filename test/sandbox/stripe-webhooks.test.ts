import Stripe from "stripe";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { closeServer, listen } from "../../sandbox/http.js";
import { StripeEmulator } from "../../sandbox/stripe/emulator.js";
import { createStripeServer } from "../../sandbox/stripe/server.js";
import {
	eventually,
	startWebhookReceiver,
	stripeClient,
	type WebhookReceiver,
} from "../../sandbox/stripe/testing.js";
import { signatureHeader } from "../../sandbox/stripe/webhooks.js";
import { useStripeSandbox } from "./stripe-helpers.js";

// Events and signed webhook deliveries, verified with stripe-node's own constructEventAsync.

const SECRET = "whsec_sandboxTestSecret";

let receiver: WebhookReceiver;

const { sandbox, stripe } = await useStripeSandbox({
	webhookRetry: { attempts: 3, initialDelayMs: 20, timeoutMs: 2_000 },
});
beforeEach(async () => {
	receiver = await startWebhookReceiver();
	sandbox.stripe.setWebhook({ url: receiver.url, secret: SECRET });
});
afterEach(async () => {
	await sandbox.stripe.idle();
	sandbox.stripe.clearWebhook();
	await receiver.close();
});

async function verified(
	body: string,
	header: string | string[] | undefined,
): Promise<Stripe.Event> {
	return stripe.webhooks.constructEventAsync(body, header as string, SECRET);
}

function card(
	extra: Partial<Stripe.PaymentIntentCreateParams> = {},
): Stripe.PaymentIntentCreateParams {
	return { amount: 2_000, currency: "usd", allowed_payment_method_types: ["card"], ...extra };
}

describe("delivery", () => {
	it("posts every event signed like Stripe, verifiable with constructEventAsync", async () => {
		const intent = await stripe.paymentIntents.create(
			card({ payment_method: "pm_card_visa", confirm: true }),
			{
				idempotencyKey: "hook-1",
			},
		);
		const received = await receiver.waitFor(3);
		const delivered = await Promise.all(
			received.map((r) => verified(r.body, r.headers["stripe-signature"])),
		);
		expect(delivered.map((e) => e.type).sort()).toEqual([
			"charge.succeeded",
			"payment_intent.created",
			"payment_intent.succeeded",
		]);
		const succeeded = delivered.find(
			(e) => e.type === "payment_intent.succeeded",
		) as Stripe.PaymentIntentSucceededEvent;
		expect(succeeded).toMatchObject({
			object: "event",
			api_version: Stripe.API_VERSION,
			livemode: false,
			pending_webhooks: 1,
			request: { id: intent.lastResponse.requestId, idempotency_key: "hook-1" },
			data: {
				object: {
					id: intent.id,
					object: "payment_intent",
					status: "succeeded",
					amount_received: 2_000,
				},
			},
		});
		expect(succeeded.id).toMatch(/^evt_/);
		const first = received[0];
		expect(first?.headers["content-type"]).toBe("application/json; charset=utf-8");
		expect(first?.headers["user-agent"]).toBe("Stripe/1.0 (+https://stripe.com/docs/webhooks)");
		expect(first?.headers["stripe-signature"]).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
		// A tampered body or another secret does not verify.
		await expect(verified(`${first?.body} `, first?.headers["stripe-signature"])).rejects.toThrow(
			Stripe.errors.StripeSignatureVerificationError,
		);
		await expect(
			stripe.webhooks.constructEventAsync(
				first?.body ?? "",
				first?.headers["stripe-signature"] as string,
				"whsec_other",
			),
		).rejects.toThrow(Stripe.errors.StripeSignatureVerificationError);
		await eventually(async () =>
			(await stripe.events.retrieve(succeeded.id)).pending_webhooks === 0 ? true : undefined,
		);
	});

	it("signs as t.payload with HMAC-SHA256, the scheme stripe-node checks", async () => {
		const payload = JSON.stringify({ id: "evt_1", object: "event" });
		const header = signatureHeader(payload, SECRET, Math.floor(Date.now() / 1000));
		expect(await verified(payload, header)).toMatchObject({ id: "evt_1" });
		const expected = stripe.webhooks.generateTestHeaderString({
			payload,
			secret: SECRET,
			timestamp: 1_700_000_000,
		});
		expect(signatureHeader(payload, SECRET, 1_700_000_000)).toBe(expected);
	});

	it("retries a failed delivery with backoff, keeping one object's events in order", async () => {
		receiver.respond = (index) => (index === 0 ? 500 : 200);
		const intent = await stripe.paymentIntents.create(card({ capture_method: "manual" }));
		await stripe.paymentIntents.confirm(intent.id, { payment_method: "pm_card_visa" });
		await stripe.paymentIntents.capture(intent.id);
		await eventually(() => (receiver.received.length >= 6 ? true : undefined));
		await sandbox.stripe.idle();
		const types = await Promise.all(
			receiver.received.map(
				async (r) => (await verified(r.body, r.headers["stripe-signature"])).type,
			),
		);
		const forIntent = types.filter((type) => type.startsWith("payment_intent."));
		expect(forIntent).toEqual([
			"payment_intent.created",
			"payment_intent.created",
			"payment_intent.amount_capturable_updated",
			"payment_intent.succeeded",
		]);
		const deliveries = sandbox.stripe
			.deliveries()
			.filter((d) => d.type === "payment_intent.created");
		const created = deliveries.at(-1);
		expect(created?.state).toBe("delivered");
		expect(created?.attempts.map((a) => a.status)).toEqual([500, 200]);
		const attempts = receiver.received.filter((r) => JSON.parse(r.body).id === created?.eventId);
		expect(attempts).toHaveLength(2);
		expect((attempts[1]?.at ?? 0) - (attempts[0]?.at ?? 0)).toBeGreaterThanOrEqual(15);
	});

	it("gives up after the configured attempts and leaves pending_webhooks at 1", async () => {
		receiver.respond = () => 503;
		const intent = await stripe.paymentIntents.create(card());
		await eventually(() => (receiver.received.length >= 3 ? true : undefined));
		await sandbox.stripe.idle();
		const delivery = sandbox.stripe
			.deliveries()
			.find(
				(d) =>
					d.type === "payment_intent.created" && d.state !== "delivered" && d.attempts.length === 3,
			);
		expect(delivery?.state).toBe("failed");
		expect(receiver.received).toHaveLength(3);
		const event = (await stripe.events.list({ type: "payment_intent.created", limit: 1 })).data[0];
		expect((event?.data.object as Stripe.PaymentIntent | undefined)?.id).toBe(intent.id);
		expect(event?.pending_webhooks).toBe(1);
	});

	it("sends only the enabled event types, and nothing once the endpoint is cleared", async () => {
		sandbox.stripe.setWebhook({
			url: receiver.url,
			secret: SECRET,
			enabledEvents: ["payment_intent.succeeded"],
		});
		await stripe.paymentIntents.create(card({ payment_method: "pm_card_visa", confirm: true }));
		await sandbox.stripe.idle();
		expect(receiver.received).toHaveLength(1);
		expect(JSON.parse(receiver.received[0]?.body ?? "{}").type).toBe("payment_intent.succeeded");
		sandbox.stripe.clearWebhook();
		const quiet = await stripe.paymentIntents.create(card());
		await sandbox.stripe.idle();
		expect(receiver.received).toHaveLength(1);
		expect((await stripe.events.list({ limit: 1 })).data[0]).toMatchObject({
			type: "payment_intent.created",
			pending_webhooks: 0,
		});
		expect(
			(
				(await stripe.events.list({ limit: 1 })).data[0]?.data.object as
					| Stripe.PaymentIntent
					| undefined
			)?.id,
		).toBe(quiet.id);
	});
});

describe("events API and control", () => {
	it("lists events newest first, filtered by a type wildcard, and retrieves one", async () => {
		const intent = await stripe.paymentIntents
			.create(card({ payment_method: "pm_card_chargeDeclined", confirm: true }))
			.catch(
				(error: Stripe.errors.StripeCardError) => error.payment_intent as Stripe.PaymentIntent,
			);
		const list = await stripe.events.list({ type: "payment_intent.*", limit: 2 });
		expect(list.data.map((e) => e.type)).toEqual([
			"payment_intent.payment_failed",
			"payment_intent.created",
		]);
		expect((list.data[0]?.data.object as Stripe.PaymentIntent | undefined)?.id).toBe(intent.id);
		const failed = await stripe.events.list({ types: ["charge.failed"], limit: 1 });
		expect(failed.data[0]?.type).toBe("charge.failed");
		const one = await stripe.events.retrieve(list.data[0]?.id as string);
		expect(one.id).toBe(list.data[0]?.id);
		await expect(stripe.events.retrieve("evt_missing")).rejects.toThrow(
			"No such event: 'evt_missing'",
		);
	});

	it("sets, reads and clears the endpoint through the control server", async () => {
		const set = await fetch(`${sandbox.urls.control}/admin/stripe/webhook`, {
			method: "POST",
			body: JSON.stringify({ url: receiver.url, retry: { attempts: 2 } }),
		});
		expect(set.status).toBe(200);
		const body = (await set.json()) as {
			webhook: { url: string; secret: string; enabledEvents: string[] };
			retry: { attempts: number };
		};
		expect(body.webhook.secret).toMatch(/^whsec_[0-9A-Za-z]{32}$/);
		expect(body.webhook.enabledEvents).toEqual(["*"]);
		expect(body.retry.attempts).toBe(2);
		await stripe.paymentIntents.create(card());
		const [delivery] = await receiver.waitFor(1);
		await expect(
			stripe.webhooks.constructEventAsync(
				delivery?.body ?? "",
				delivery?.headers["stripe-signature"] as string,
				body.webhook.secret,
			),
		).resolves.toMatchObject({ type: "payment_intent.created" });
		const deliveries = (await (
			await fetch(`${sandbox.urls.control}/admin/stripe/webhook/deliveries`)
		).json()) as {
			deliveries: { state: string }[];
		};
		expect(deliveries.deliveries.length).toBeGreaterThan(0);
		const bad = await fetch(`${sandbox.urls.control}/admin/stripe/webhook`, {
			method: "POST",
			body: JSON.stringify({ url: receiver.url, secret: "not-a-secret" }),
		});
		expect(bad.status).toBe(400);
		const cleared = await fetch(`${sandbox.urls.control}/admin/stripe/webhook`, {
			method: "DELETE",
		});
		expect(await cleared.json()).toEqual({ webhook: null });
		sandbox.stripe.webhooks.setRetry({ attempts: 3 });
	});

	it("takes the endpoint from the emulator's options on a standalone server", async () => {
		const emulator = new StripeEmulator({ webhookUrl: receiver.url, webhookSecret: SECRET });
		const server = createStripeServer({ emulator });
		const port = await listen(server, 0, "127.0.0.1");
		try {
			const client = stripeClient(`http://127.0.0.1:${port}`, { maxNetworkRetries: 0 });
			await client.paymentIntents.create(card());
			const [delivery] = await receiver.waitFor(1);
			expect(
				(await verified(delivery?.body ?? "", delivery?.headers["stripe-signature"])).type,
			).toBe("payment_intent.created");
		} finally {
			await emulator.close();
			await closeServer(server);
		}
	});
});
