import { randomBytes } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { gatewayJson } from "../../scripts/lib/gateway-api";
import { type LocalMerchant, LocalStack } from "../../scripts/lib/local-stack";
import { type ReceivedWebhook, WebhookReceiver } from "../../scripts/lib/webhook-receiver";

// Webhooks end to end through `wrangler dev`'s local Queues: a payment's events leave its Durable
// Object's outbox, fan out on the webhooks queue and reach a receiver in this process, signed.
// This file runs its own gateway: the suite's shared one is started without ENCRYPTION_KEYS.

let stack: LocalStack;
let receiver: WebhookReceiver;
let merchant: LocalMerchant;

beforeAll(async () => {
	receiver = await WebhookReceiver.start();
	stack = new LocalStack({
		name: "webhooks-e2e",
		vars: { ENCRYPTION_KEYS: `e2e:${randomBytes(32).toString("base64")}` },
		readyTimeoutMs: 90_000,
	});
	try {
		await stack.start();
		merchant = await stack.createMerchant("Webhook Coffee");
	} catch (error) {
		await stack.stop();
		throw error;
	}
}, 120_000);

afterAll(async () => {
	await stack?.stop();
	await receiver?.close();
});

function api(path: string, body?: unknown) {
	return gatewayJson(stack.gatewayUrl, path, {
		method: body === undefined ? "GET" : "POST",
		token: merchant.secretKey,
		...(body !== undefined ? { body } : {}),
	});
}

async function waitFor<T>(what: string, read: () => T | undefined, timeoutMs = 30_000): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = read();
		if (value !== undefined) return value;
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${stack.logTail()}`);
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
