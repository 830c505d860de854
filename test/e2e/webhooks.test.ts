import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type ReceivedWebhook, WebhookReceiver } from "../../scripts/lib/webhook-receiver";
import { type StackMerchant, sharedStack } from "./helpers/stack";

// Webhooks end to end through `wrangler dev`'s local Queues: a payment's events leave its Durable
// Object's outbox, fan out on the webhooks queue and reach a receiver in this process, signed.

const stack = sharedStack();
let receiver: WebhookReceiver;
let merchant: StackMerchant;

beforeAll(async () => {
	receiver = await WebhookReceiver.start();
	merchant = await stack.merchant("Webhook Coffee");
});

afterAll(async () => {
	await receiver?.close();
});

const api = (path: string, body?: unknown) => merchant.api<unknown>(path, body);

async function waitFor<T>(what: string, read: () => T | undefined, timeoutMs = 30_000): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = read();
		if (value !== undefined) return value;
		if (Date.now() > deadline)
			throw new Error(`timed out waiting for ${what} (gateway log: ${stack.stackLogPath})`);
		await new Promise((resolve) => setTimeout(resolve, 100));
	}
}

describe("webhooks through wrangler dev", () => {
	test("a payment created and canceled reaches the endpoint as two signed events, in order", async () => {
		const endpoint = (await api("/v1/webhook_endpoints", {
			url: receiver.sinkUrl("e2e"),
			enabled_events: ["payment.created", "payment.canceled"],
		})) as { id: string; secret: string };
		const payment = (await api("/v1/payments", { amount: 2500, currency: "usd" })) as {
			id: string;
		};
		await api(`/v1/payments/${payment.id}/cancel`, {});

		const ofPayment = (hook: ReceivedWebhook) =>
			(JSON.parse(hook.body) as { data: { object: { id: string } } }).data.object.id === payment.id;
		const hooks = await waitFor("payment.created and payment.canceled", () => {
			const got = receiver.received("e2e").filter(ofPayment);
			return got.length >= 2 ? got : undefined;
		});

		const verifier = new Webhook(endpoint.secret);
		const events = hooks.map((hook) => {
			const verified = verifier.verify(hook.body, hook.headers) as {
				id: string;
				type: string;
				data: { object: { id: string; status: string }; sequence: number };
			};
			expect(hook.headers["webhook-id"]).toBe(verified.id);
			expect(hook.headers["webhook-sequence"]).toBe(String(verified.data.sequence));
			expect(hook.headers["user-agent"]).toBe("StreamPayments-Webhooks/1");
			return verified;
		});
		const byType = Object.fromEntries(events.map((e) => [e.type, e]));
		expect(Object.keys(byType).sort()).toEqual(["payment.canceled", "payment.created"]);
		expect(byType["payment.created"]?.data.object.status).toBe("requires_payment");
		expect(byType["payment.canceled"]?.data.object.status).toBe("canceled");
		// The sequence orders a payment's events, whatever order they arrive in.
		expect(byType["payment.canceled"]?.data.sequence).toBeGreaterThan(
			byType["payment.created"]?.data.sequence as number,
		);
		// Exactly as the API shows them.
		const shown = (await api(`/v1/events/${byType["payment.canceled"]?.id}`)) as {
			data: Record<string, unknown>;
		};
		expect(byType["payment.canceled"]).toStrictEqual({
			...shown,
			data: { ...shown.data, sequence: byType["payment.canceled"]?.data.sequence },
		});

		const attempts = (await api(`/v1/webhook_endpoints/${endpoint.id}/attempts`)) as {
			data: { event: string; status: string; attempt: number }[];
		};
		expect(
			attempts.data
				.filter((a) => events.some((e) => e.id === a.event))
				.map((a) => [a.status, a.attempt]),
		).toEqual([
			["succeeded", 1],
			["succeeded", 1],
		]);
	});
});
