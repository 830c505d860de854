import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { newId } from "../../src/domain/ids";
import { MAX_ATTEMPTS } from "../../src/domain/webhooks";
import worker from "../../src/index";
import { decrypt, loadKeyring } from "../../src/lib/encryption";
import { call, createMerchant, expectApiError, json, type ListJson } from "./helpers/api";
import { captureLogs } from "./helpers/logs";
import {
	type AttemptJson,
	attemptRows,
	captureQueue,
	createEndpoint,
	type EndpointJson,
	recordEvent,
	runWebhooks,
	sink,
} from "./helpers/webhooks";

const HOUR = 3600;

function delivery(eventId: string, endpointId: string, redeliveryId?: string) {
	return {
		body: {
			kind: "delivery",
			event_id: eventId,
			endpoint_id: endpointId,
			...(redeliveryId ? { redelivery_id: redeliveryId } : {}),
		},
	};
}

function verify(secret: string, hook: { headers: Record<string, string>; body: string }) {
	return new Webhook(secret).verify(hook.body, {
		"webhook-id": hook.headers["webhook-id"] as string,
		"webhook-timestamp": hook.headers["webhook-timestamp"] as string,
		"webhook-signature": hook.headers["webhook-signature"] as string,
	});
}

describe("webhook endpoints API", () => {
	it("creates an endpoint and shows its whsec_ secret only in that response", async () => {
		const m = await createMerchant();
		const created = await createEndpoint(m.sk, {
			url: "https://shop.example/hooks",
			enabled_events: ["payment.succeeded", "payment.canceled"],
			description: "orders",
			metadata: { team: "web" },
		});
		expect(created).toStrictEqual({
			id: expect.stringMatching(/^we_[0-9A-Z]{30}$/),
			object: "webhook_endpoint",
			livemode: false,
			url: "https://shop.example/hooks",
			enabled_events: ["payment.succeeded", "payment.canceled"],
			description: "orders",
			metadata: { team: "web" },
			disabled: false,
			disabled_reason: null,
			failing_since: null,
			previous_secret_expires_at: null,
			created: expect.any(Number),
			updated: expect.any(Number),
			secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
		});
		expect(atob(created.secret.slice(6))).toHaveLength(32);

		const fetched = await json<EndpointJson>(
			await call("GET", `/v1/webhook_endpoints/${created.id}`, { key: m.sk }),
		);
		const { secret: _secret, ...withoutSecret } = created;
		expect(fetched).toStrictEqual(withoutSecret);
	});

	it("replays a create with the same Idempotency-Key without the secret", async () => {
		const m = await createMerchant();
		const request = {
			key: m.sk,
			body: { url: "https://shop.example/hooks", enabled_events: ["*"] },
			headers: { "Idempotency-Key": "endpoint-1" },
		};
		const first = await json<EndpointJson>(await call("POST", "/v1/webhook_endpoints", request));
		const again = await call("POST", "/v1/webhook_endpoints", request);
		expect(again.headers.get("Idempotent-Replayed")).toBe("true");
		const replayed = await json<EndpointJson>(again);
		expect(first.secret).toMatch(/^whsec_/);
		const { secret: _secret, ...withoutSecret } = first;
		expect(replayed).toStrictEqual(withoutSecret);
		const list = await json<ListJson<EndpointJson>>(
			await call("GET", "/v1/webhook_endpoints", { key: m.sk }),
		);
		expect(list.data).toHaveLength(1);
	});

	it("stores the secret encrypted and bound to the endpoint's id", async () => {
		const m = await createMerchant();
		const a = await createEndpoint(m.sk, { url: "https://a.example/hooks" });
		const b = await createEndpoint(m.sk, { url: "https://b.example/hooks" });
		const stored = async (id: string) =>
			(
				await env.DB.prepare("SELECT secret FROM webhook_endpoints WHERE id = ?")
					.bind(id)
					.first<{ secret: string }>()
			)?.secret as string;
		const envelope = await stored(a.id);
		expect(envelope).toMatch(/^ev1\.test1\./);
		expect(envelope).not.toContain(a.secret.slice(6));
		const keyring = await loadKeyring(env.ENCRYPTION_KEYS);
		expect(await decrypt(keyring, envelope, a.id)).toBe(a.secret);
		// Copied into another row, it does not open there.
		await expect(decrypt(keyring, envelope, b.id)).rejects.toThrow();
	});

	it("lists, updates and deletes endpoints; another merchant or mode sees a 404", async () => {
		const m = await createMerchant();
		const other = await createMerchant("Other");
		const first = await createEndpoint(m.sk, { url: "https://one.example/h" });
		const second = await createEndpoint(m.sk, { url: "https://two.example/h" });
		const page = await json<ListJson<EndpointJson>>(
			await call("GET", "/v1/webhook_endpoints?limit=1", { key: m.sk }),
		);
		expect(page.data.map((e) => e.id)).toEqual([second.id]);
		expect(page.has_more).toBe(true);
		expect(page.data[0]).not.toHaveProperty("secret");
		const next = await json<ListJson<EndpointJson>>(
			await call("GET", `/v1/webhook_endpoints?limit=1&starting_after=${second.id}`, {
				key: m.sk,
			}),
		);
		expect(next.data.map((e) => e.id)).toEqual([first.id]);

		const updated = await call("POST", `/v1/webhook_endpoints/${first.id}`, {
			key: m.sk,
			body: {
				url: "https://one.example/v2",
				enabled_events: ["payment.succeeded"],
				description: "v2",
				disabled: true,
			},
		});
		expect(await json(updated)).toMatchObject({
			url: "https://one.example/v2",
			enabled_events: ["payment.succeeded"],
			description: "v2",
			disabled: true,
			disabled_reason: "manual",
		});
		const enabled = await call("POST", `/v1/webhook_endpoints/${first.id}`, {
			key: m.sk,
			body: { disabled: false, description: null },
		});
		expect(await json(enabled)).toMatchObject({
			disabled: false,
			disabled_reason: null,
			description: null,
		});

		for (const [key, path, method] of [
			[other.sk, `/v1/webhook_endpoints/${first.id}`, "GET"],
			[m.skLive, `/v1/webhook_endpoints/${first.id}`, "GET"],
			[other.sk, `/v1/webhook_endpoints/${first.id}`, "DELETE"],
			[other.sk, `/v1/webhook_endpoints/${first.id}/roll_secret`, "POST"],
			[other.sk, `/v1/webhook_endpoints/${first.id}/attempts`, "GET"],
		] as const) {
			await expectApiError(await call(method, path, { key }), "resource_missing", "id");
		}
		const otherList = await json<ListJson<EndpointJson>>(
			await call("GET", "/v1/webhook_endpoints", { key: other.sk }),
		);
		expect(otherList.data).toEqual([]);

		const deleted = await call("DELETE", `/v1/webhook_endpoints/${first.id}`, { key: m.sk });
		expect(await json(deleted)).toStrictEqual({
			id: first.id,
			object: "webhook_endpoint",
			deleted: true,
		});
		await expectApiError(
			await call("GET", `/v1/webhook_endpoints/${first.id}`, { key: m.sk }),
			"resource_missing",
			"id",
		);
		const row = await env.DB.prepare(
			"SELECT secret, previous_secret FROM webhook_endpoints WHERE id = ?",
		)
			.bind(first.id)
			.first();
		expect(row).toEqual({ secret: "", previous_secret: null });
	});

	it("validates enabled_events and the roll's overlap", async () => {
		const m = await createMerchant();
		for (const enabled_events of [[], ["*", "payment.created"], ["Payment.Created"], ["payment"]]) {
			const res = await call("POST", "/v1/webhook_endpoints", {
				key: m.sk,
				body: { url: "https://shop.example/h", enabled_events },
			});
			expect(res.status, JSON.stringify(enabled_events)).toBe(400);
		}
		const endpoint = await createEndpoint(m.sk, { url: "https://shop.example/h" });
		await expectApiError(
			await call("POST", `/v1/webhook_endpoints/${endpoint.id}/roll_secret`, {
				key: m.sk,
				body: { expires_in: 7 * 24 * HOUR + 1 },
			}),
			"parameter_invalid",
			"expires_in",
		);
	});

	it("refuses URLs that could reach private networks in live mode, at create and update", async () => {
		const m = await createMerchant();
		const refused = [
			"http://shop.example/hooks",
			"https://127.0.0.1/h",
			"https://localhost:8443/h",
			"https://10.1.2.3/h",
			"https://172.16.0.1/h",
			"https://192.168.1.1/h",
			"https://100.64.0.1/h",
			"https://169.254.169.254/latest/meta-data",
			"https://0.0.0.0/h",
			"https://224.0.0.1/h",
			"https://[::1]/h",
			"https://[::]/h",
			"https://[fd12:3456::1]/h",
			"https://[fe80::1]/h",
			"https://[::ffff:10.0.0.1]/h",
			"https://2130706433/h",
			"https://printer.local/h",
			"https://metadata.google.internal/h",
			"https://intranet/h",
			"https://user:pass@shop.example/h",
			"ftp://shop.example/h",
		];
		for (const url of refused) {
			const error = await expectApiError(
				await call("POST", "/v1/webhook_endpoints", {
					key: m.skLive,
					body: { url, enabled_events: ["*"] },
				}),
				"parameter_invalid",
				"url",
			);
			expect(error.message, url).toMatch(/^url /);
		}
		const ok = await createEndpoint(m.skLive, { url: "https://shop.example/hooks" });
		expect(ok.livemode).toBe(true);
		await expectApiError(
			await call("POST", `/v1/webhook_endpoints/${ok.id}`, {
				key: m.skLive,
				body: { url: "https://10.0.0.1/hooks" },
			}),
			"parameter_invalid",
			"url",
		);
		// Test mode: plain http to loopback, for a receiver on the developer's machine.
		const local = await createEndpoint(m.sk, { url: "http://127.0.0.1:4000/hooks" });
		expect(local.url).toBe("http://127.0.0.1:4000/hooks");
		await expectApiError(
			await call("POST", "/v1/webhook_endpoints", {
				key: m.sk,
				body: { url: "http://10.0.0.1/hooks", enabled_events: ["*"] },
			}),
			"parameter_invalid",
			"url",
		);
	});
});

describe("webhook fan-out", () => {
	it("sends one delivery per enabled endpoint of the merchant and mode whose events match", async () => {
		const m = await createMerchant();
		const other = await createMerchant("Other");
		const all = await createEndpoint(m.sk, { url: "https://all.example/h" });
		const created = await createEndpoint(m.sk, {
			url: "https://created.example/h",
			enabled_events: ["payment.created", "payment.canceled"],
		});
		await createEndpoint(m.sk, {
			url: "https://succeeded.example/h",
			enabled_events: ["payment.succeeded"],
		});
		const disabled = await createEndpoint(m.sk, { url: "https://disabled.example/h" });
		await call("POST", `/v1/webhook_endpoints/${disabled.id}`, {
			key: m.sk,
			body: { disabled: true },
		});
		const deleted = await createEndpoint(m.sk, { url: "https://deleted.example/h" });
		await call("DELETE", `/v1/webhook_endpoints/${deleted.id}`, { key: m.sk });
		await createEndpoint(m.skLive, { url: "https://live.example/h" });
		await createEndpoint(other.sk, { url: "https://other.example/h" });

		const event = await recordEvent(m.merchant.id, { type: "payment.created" });
		const capture = captureQueue();
		const batch = createMessageBatch("webhooks", [
			{
				id: "fan-1",
				timestamp: new Date(),
				attempts: 1,
				body: { kind: "event", event_id: event.id },
			},
		]);
		const ctx = createExecutionContext();
		// Through the Worker's queue entry point: the consumer is registered for "webhooks".
		await worker.queue(batch, { ...env, WEBHOOKS_QUEUE: capture.queue }, ctx);
		const result = await getQueueResult(batch, ctx);
		expect(result.explicitAcks).toEqual(["fan-1"]);
		expect(result.retryMessages).toEqual([]);
		expect(capture.sent).toHaveLength(2);
		expect(capture.sent).toEqual(
			expect.arrayContaining([
				{ kind: "delivery", event_id: event.id, endpoint_id: all.id },
				{ kind: "delivery", event_id: event.id, endpoint_id: created.id },
			]),
		);
	});

	it("waits for an event it cannot read yet, then gives the message up", async () => {
		const logs = captureLogs();
		const missing = newId("event");
		const fanOut = { body: { kind: "event", event_id: missing } };
		const early = await runWebhooks([{ ...fanOut, id: "fan-missing", attempts: 1 }]);
		expect(early.retryMessages).toEqual([{ msgId: "fan-missing", delaySeconds: 10 }]);
		const last = await runWebhooks([{ ...fanOut, id: "fan-missing", attempts: 5 }]);
		expect(last.explicitAcks).toEqual(["fan-missing"]);
		const failure = await env.DB.prepare(
			"SELECT error FROM queue_failures WHERE message_id = 'fan-missing'",
		).first<{ error: string }>();
		expect(failure?.error).toBe(`event ${missing} not found`);
		expect(logs.find("error", "queue message given up")).toEqual([
			expect.objectContaining({ queue: "webhooks", message_id: "fan-missing", attempts: 5 }),
		]);
	});
});

describe("webhook delivery", () => {
	it("POSTs the event as GET /v1/events/:id shows it, signed the Standard Webhooks way", async () => {
		const m = await createMerchant();
		const receiver = sink();
		const endpoint = await createEndpoint(m.sk, { url: receiver.url });
		const event = await recordEvent(m.merchant.id, { object_version: 3 });
		const result = await runWebhooks([{ ...delivery(event.id, endpoint.id), id: "d-1" }]);
		expect(result.explicitAcks).toEqual(["d-1"]);
		expect(result.retryMessages).toEqual([]);

		const [hook, ...more] = await receiver.received();
		expect(more).toEqual([]);
		if (!hook) throw new Error("nothing received");
		expect(hook.headers).toMatchObject({
			"content-type": "application/json",
			"user-agent": "StreamPayments-Webhooks/1",
			"webhook-id": event.id,
			"webhook-sequence": "3",
		});
		const timestamp = Number(hook.headers["webhook-timestamp"]);
		expect(Math.abs(timestamp - Date.now() / 1000)).toBeLessThan(10);
		expect(hook.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
		expect(verify(endpoint.secret, hook)).toBeTruthy();
		// A body that changed by one byte no longer verifies.
		expect(() => verify(endpoint.secret, { ...hook, body: `${hook.body} ` })).toThrow();

		const shown = await json<Record<string, unknown>>(
			await call("GET", `/v1/events/${event.id}`, { key: m.sk }),
		);
		const sent = JSON.parse(hook.body) as { data: Record<string, unknown> };
		expect(sent).toStrictEqual({
			...shown,
			data: { ...(shown.data as Record<string, unknown>), sequence: 3 },
		});

		const attempts = await json<ListJson<AttemptJson>>(
			await call("GET", `/v1/webhook_endpoints/${endpoint.id}/attempts`, { key: m.sk }),
		);
		expect(attempts.data).toStrictEqual([
			{
				id: expect.stringMatching(/^wha_/),
				object: "webhook_attempt",
				livemode: false,
				endpoint: endpoint.id,
				event: event.id,
				event_type: "payment.created",
				redelivery: null,
				attempt: 1,
				status: "succeeded",
				status_code: 200,
				error: null,
				duration_ms: expect.any(Number),
				next_attempt_at: null,
				created: expect.any(Number),
			},
		]);
	});

	it("retries a 500 on the schedule, splitting waits past 12 h, then gives up after 10 attempts", async () => {
		const logs = captureLogs();
		const m = await createMerchant();
		const receiver = sink();
		await receiver.script(Array.from({ length: MAX_ATTEMPTS }, () => ({ status: 500 })));
		const endpoint = await createEndpoint(m.sk, { url: receiver.url });
		const event = await recordEvent(m.merchant.id);
		let clock = Date.now();
		const decisions: (number | "ack")[] = [];
		for (let attempts = 1; attempts <= 20; attempts++) {
			const result = await runWebhooks(
				[{ ...delivery(event.id, endpoint.id), id: "d-500", attempts }],
				{ now: () => clock },
			);
			if (result.explicitAcks.includes("d-500")) {
				decisions.push("ack");
				break;
			}
			const delay = result.retryMessages[0]?.delaySeconds as number;
			decisions.push(delay);
			clock += delay * 1000;
		}
		expect(decisions).toEqual([
			5,
			300,
			1800,
			2 * HOUR,
			5 * HOUR,
			10 * HOUR,
			10 * HOUR,
			12 * HOUR, // 14 h, in two steps
			2 * HOUR,
			12 * HOUR, // 20 h, in two steps
			8 * HOUR,
			"ack",
		]);
		expect(await receiver.received()).toHaveLength(MAX_ATTEMPTS);
		const rows = await attemptRows(endpoint.id);
		expect(rows.map((r) => [r.attempt, r.status, r.status_code])).toEqual(
			Array.from({ length: MAX_ATTEMPTS }, (_, i) => [i + 1, "failed", 500]),
		);
		expect(rows.slice(0, -1).every((r) => r.next_attempt_at !== null)).toBe(true);
		expect(rows.at(-1)?.next_attempt_at).toBeNull();
		const failure = await env.DB.prepare(
			"SELECT queue, error FROM queue_failures WHERE message_id = 'd-500'",
		).first<{ queue: string; error: string }>();
		expect(failure).toEqual({
			queue: "webhooks",
			error: "webhook delivery failed 10 of 10 attempts; last: HTTP 500",
		});
		expect(logs.find("error", "queue message given up")).toEqual([
			expect.objectContaining({ queue: "webhooks", message_id: "d-500" }),
		]);
		// About two and a half days: not yet long enough to disable the endpoint.
		const after = await json<EndpointJson>(
			await call("GET", `/v1/webhook_endpoints/${endpoint.id}`, { key: m.sk }),
		);
		expect(after.disabled).toBe(false);
		expect(after.failing_since).toBe(rows[0]?.created);
	});

	it("retries a receiver that does not answer in time, then delivers", async () => {
		const m = await createMerchant();
		const receiver = sink();
		await receiver.script([{ status: 200, delay_ms: 2000 }]);
		const endpoint = await createEndpoint(m.sk, { url: receiver.url });
		const event = await recordEvent(m.merchant.id);
		let clock = Date.now();
		const first = await runWebhooks([{ ...delivery(event.id, endpoint.id), id: "d-slow" }], {
			now: () => clock,
			timeoutMs: 300,
		});
		expect(first.retryMessages).toEqual([{ msgId: "d-slow", delaySeconds: 5 }]);
		clock += 5000;
		const second = await runWebhooks(
			[{ ...delivery(event.id, endpoint.id), id: "d-slow", attempts: 2 }],
			{ now: () => clock, timeoutMs: 300 },
		);
		expect(second.explicitAcks).toEqual(["d-slow"]);
		const rows = await attemptRows(endpoint.id);
		expect(rows.map((r) => [r.attempt, r.status, r.status_code, r.error])).toEqual([
			[1, "failed", null, "timeout: no response within 300 ms"],
			[2, "succeeded", 200, null],
		]);
		const after = await json<EndpointJson>(
			await call("GET", `/v1/webhook_endpoints/${endpoint.id}`, { key: m.sk }),
		);
		expect(after.failing_since).toBeNull();
	});

	it("disables an endpoint that answers 410 and tells the merchant", async () => {
		const m = await createMerchant();
		const receiver = sink();
		await receiver.script([{ status: 410 }]);
		const endpoint = await createEndpoint(m.sk, { url: receiver.url });
		const event = await recordEvent(m.merchant.id);
		const result = await runWebhooks([{ ...delivery(event.id, endpoint.id), id: "d-410" }], {
			env: { WEBHOOKS_QUEUE: captureQueue().queue },
		});
		expect(result.explicitAcks).toEqual(["d-410"]);
		expect(result.retryMessages).toEqual([]);
		const after = await json<EndpointJson>(
			await call("GET", `/v1/webhook_endpoints/${endpoint.id}`, { key: m.sk }),
		);
		expect(after).toMatchObject({ disabled: true, disabled_reason: "gone" });
		const events = await json<ListJson<{ type: string; data: { object: EndpointJson } }>>(
			await call("GET", `/v1/events?object_id=${endpoint.id}`, { key: m.sk }),
		);
		expect(events.data.map((e) => e.type)).toEqual(["webhook_endpoint.disabled"]);
		expect(events.data[0]?.data.object).toMatchObject({ id: endpoint.id, disabled_reason: "gone" });
		expect(events.data[0]?.data.object).not.toHaveProperty("secret");
		// Further deliveries to it stop without a request.
		const later = await recordEvent(m.merchant.id);
		const skipped = await runWebhooks([{ ...delivery(later.id, endpoint.id), id: "d-after" }]);
		expect(skipped.explicitAcks).toEqual(["d-after"]);
		expect(await receiver.received()).toHaveLength(1);
	});

	it("disables an endpoint whose every attempt failed for more than three days", async () => {
		const m = await createMerchant();
		const receiver = sink();
		await receiver.script([{ status: 503 }]);
		const endpoint = await createEndpoint(m.sk, { url: receiver.url });
		const threeDaysAgo = Math.floor(Date.now() / 1000) - 3 * 24 * HOUR - 1;
		await env.DB.prepare("UPDATE webhook_endpoints SET failing_since = ? WHERE id = ?")
			.bind(threeDaysAgo, endpoint.id)
			.run();
		const event = await recordEvent(m.merchant.id);
		const result = await runWebhooks([{ ...delivery(event.id, endpoint.id), id: "d-3d" }], {
			env: { WEBHOOKS_QUEUE: captureQueue().queue },
		});
		expect(result.explicitAcks).toEqual(["d-3d"]);
		const after = await json<EndpointJson>(
			await call("GET", `/v1/webhook_endpoints/${endpoint.id}`, { key: m.sk }),
		);
		expect(after).toMatchObject({
			disabled: true,
			disabled_reason: "failing",
			failing_since: threeDaysAgo,
		});
		const types = await env.DB.prepare("SELECT type FROM events WHERE object_id = ?")
			.bind(endpoint.id)
			.all<{ type: string }>();
		expect(types.results.map((r) => r.type)).toEqual(["webhook_endpoint.disabled"]);
	});

	it("POSTs once for a duplicated delivery message and keeps one attempt 1", async () => {
		const m = await createMerchant();
		const receiver = sink();
		const endpoint = await createEndpoint(m.sk, { url: receiver.url });
		const event = await recordEvent(m.merchant.id);
		// The same message twice in one batch, then once more later (at-least-once delivery).
		const first = await runWebhooks([
			{ ...delivery(event.id, endpoint.id), id: "dup-a" },
			{ ...delivery(event.id, endpoint.id), id: "dup-a" },
		]);
		expect(first.retryMessages).toEqual([]);
		const again = await runWebhooks([{ ...delivery(event.id, endpoint.id), id: "dup-a" }]);
		expect(again.explicitAcks).toEqual(["dup-a"]);
		expect(await receiver.received()).toHaveLength(1);
		expect((await attemptRows(endpoint.id)).map((r) => [r.attempt, r.status])).toEqual([
			[1, "succeeded"],
		]);
	});

	it("keeps the attempt log truthful when a fan-out message is duplicated", async () => {
		const m = await createMerchant();
		const receiver = sink();
		await receiver.script([{ status: 500 }]);
		const endpoint = await createEndpoint(m.sk, { url: receiver.url });
		const event = await recordEvent(m.merchant.id);
		const capture = captureQueue();
		const fanOut = { body: { kind: "event", event_id: event.id } };
		// Twice in one batch: one delivery; in two batches: two copies of it.
		await runWebhooks([fanOut, fanOut], { env: { WEBHOOKS_QUEUE: capture.queue } });
		expect(capture.sent).toHaveLength(1);
		await runWebhooks([fanOut], { env: { WEBHOOKS_QUEUE: capture.queue } });
		expect(capture.sent).toHaveLength(2);
		let clock = Date.now();
		// Both copies of the delivery: one claims attempt 1, the other leaves it to that one.
		const [a, b] = capture.sent.map((body, i) => ({ body, id: `copy-${i}` }));
		const first = await runWebhooks([a as { body: unknown }], { now: () => clock });
		expect(first.retryMessages).toEqual([{ msgId: "copy-0", delaySeconds: 5 }]);
		const second = await runWebhooks([b as { body: unknown }], { now: () => clock });
		expect(second.retryMessages).toEqual([{ msgId: "copy-1", delaySeconds: 5 }]);
		clock += 5000;
		const both = await runWebhooks(
			[
				{ ...(a as { body: unknown }), attempts: 2 },
				{ ...(b as { body: unknown }), attempts: 2 },
			],
			{ now: () => clock },
		);
		expect(both.explicitAcks.sort()).toEqual(["copy-0", "copy-1"]);
		expect(await receiver.received()).toHaveLength(2);
		expect((await attemptRows(endpoint.id)).map((r) => [r.attempt, r.status])).toEqual([
			[1, "failed"],
			[2, "succeeded"],
		]);
	});

	it("counts an attempt whose consumer died as failed and carries on", async () => {
		const m = await createMerchant();
		const receiver = sink();
		const endpoint = await createEndpoint(m.sk, { url: receiver.url });
		const event = await recordEvent(m.merchant.id);
		const claimedAt = Date.now();
		await env.DB.prepare(
			`INSERT INTO webhook_attempts (id, endpoint_id, event_id, event_type, merchant_id, livemode, attempt, status, created)
			 VALUES (?, ?, ?, 'payment.created', ?, 0, 1, 'pending', ?)`,
		)
			.bind(
				newId("webhookAttempt", claimedAt),
				endpoint.id,
				event.id,
				m.merchant.id,
				Math.floor(claimedAt / 1000),
			)
			.run();
		// Still within its time: wait for it.
		const early = await runWebhooks([{ ...delivery(event.id, endpoint.id), id: "d-stale" }], {
			now: () => claimedAt + 10_000,
		});
		expect(early.retryMessages).toEqual([{ msgId: "d-stale", delaySeconds: 50 }]);
		const late = await runWebhooks([{ ...delivery(event.id, endpoint.id), id: "d-stale" }], {
			now: () => claimedAt + 60_000,
		});
		expect(late.explicitAcks).toEqual(["d-stale"]);
		expect((await attemptRows(endpoint.id)).map((r) => [r.attempt, r.status, r.error])).toEqual([
			[1, "failed", "interrupted: no outcome was recorded"],
			[2, "succeeded", null],
		]);
	});

	it("signs with both secrets while a rolled secret overlaps, then with the new one only", async () => {
		const m = await createMerchant();
		const receiver = sink();
		const endpoint = await createEndpoint(m.sk, { url: receiver.url });
		const res = await call("POST", `/v1/webhook_endpoints/${endpoint.id}/roll_secret`, {
			key: m.sk,
			body: { expires_in: HOUR },
		});
		const rolled = await json<EndpointJson & { secret: string }>(res);
		expect(rolled.secret).toMatch(/^whsec_/);
		expect(rolled.secret).not.toBe(endpoint.secret);
		expect(rolled.previous_secret_expires_at).toBeGreaterThanOrEqual(
			Math.floor(Date.now() / 1000) + HOUR - 5,
		);

		const event = await recordEvent(m.merchant.id);
		await runWebhooks([delivery(event.id, endpoint.id)]);
		const [during] = await receiver.received();
		if (!during) throw new Error("nothing received");
		expect(during.headers["webhook-signature"]?.split(" ")).toHaveLength(2);
		expect(verify(rolled.secret, during)).toBeTruthy();
		expect(verify(endpoint.secret, during)).toBeTruthy();

		await env.DB.prepare("UPDATE webhook_endpoints SET previous_secret_expires_at = ? WHERE id = ?")
			.bind(Math.floor(Date.now() / 1000) - 1, endpoint.id)
			.run();
		const later = await recordEvent(m.merchant.id);
		await runWebhooks([delivery(later.id, endpoint.id)]);
		const after = (await receiver.received())[1];
		if (!after) throw new Error("nothing received");
		expect(after.headers["webhook-signature"]?.split(" ")).toHaveLength(1);
		expect(verify(rolled.secret, after)).toBeTruthy();
		expect(() => verify(endpoint.secret, after)).toThrow();

		// Without a body: the default overlap of 24 h.
		const again = await json<EndpointJson>(
			await call("POST", `/v1/webhook_endpoints/${endpoint.id}/roll_secret`, { key: m.sk }),
		);
		expect(again.previous_secret_expires_at).toBeGreaterThanOrEqual(
			Math.floor(Date.now() / 1000) + 24 * HOUR - 5,
		);
	});

	it("signs with the current secret alone when the previous one cannot be read", async () => {
		const m = await createMerchant();
		const receiver = sink();
		const endpoint = await createEndpoint(m.sk, { url: receiver.url });
		const other = await createEndpoint(m.sk, { url: "https://other.example/h" });
		const rolled = await json<EndpointJson & { secret: string }>(
			await call("POST", `/v1/webhook_endpoints/${endpoint.id}/roll_secret`, { key: m.sk }),
		);
		// An envelope bound to another endpoint, as if its key had been dropped: it does not open.
		await env.DB.prepare(
			"UPDATE webhook_endpoints SET previous_secret = (SELECT secret FROM webhook_endpoints WHERE id = ?) WHERE id = ?",
		)
			.bind(other.id, endpoint.id)
			.run();
		const event = await recordEvent(m.merchant.id);
		const result = await runWebhooks([{ ...delivery(event.id, endpoint.id), id: "d-prev" }]);
		expect(result.explicitAcks).toEqual(["d-prev"]);
		const [hook] = await receiver.received();
		if (!hook) throw new Error("nothing received");
		expect(hook.headers["webhook-signature"]?.split(" ")).toHaveLength(1);
		expect(verify(rolled.secret, hook)).toBeTruthy();
	});

	it("refuses to send to a private address in live mode, even if one got stored", async () => {
		const m = await createMerchant();
		const endpoint = await createEndpoint(m.skLive, { url: "https://shop.example/hooks" });
		await env.DB.prepare("UPDATE webhook_endpoints SET url = ? WHERE id = ?")
			.bind("https://169.254.169.254/latest/meta-data", endpoint.id)
			.run();
		const event = await recordEvent(m.merchant.id, { livemode: true });
		const result = await runWebhooks([{ ...delivery(event.id, endpoint.id), id: "d-ssrf" }], {
			env: { WEBHOOKS_QUEUE: captureQueue().queue },
		});
		expect(result.explicitAcks).toEqual(["d-ssrf"]);
		expect(result.retryMessages).toEqual([]);
		expect((await attemptRows(endpoint.id)).map((r) => [r.status, r.status_code, r.error])).toEqual(
			[["failed", null, "url refused: must not point at a link-local address (169.254.169.254)"]],
		);
		const after = await json<EndpointJson>(
			await call("GET", `/v1/webhook_endpoints/${endpoint.id}`, { key: m.skLive }),
		);
		expect(after).toMatchObject({ disabled: true, disabled_reason: "url_refused" });
	});

	it("never delivers another merchant's event, or an event the endpoint no longer wants", async () => {
		const m = await createMerchant();
		const other = await createMerchant("Other");
		const receiver = sink();
		const endpoint = await createEndpoint(m.sk, {
			url: receiver.url,
			enabled_events: ["payment.succeeded"],
		});
		const foreign = await recordEvent(other.merchant.id, { type: "payment.succeeded" });
		const unwanted = await recordEvent(m.merchant.id, { type: "payment.created" });
		const result = await runWebhooks([
			{ ...delivery(foreign.id, endpoint.id), id: "x-1" },
			{ ...delivery(unwanted.id, endpoint.id), id: "x-2" },
		]);
		expect(result.explicitAcks.sort()).toEqual(["x-1", "x-2"]);
		expect(await receiver.received()).toEqual([]);
	});
});

describe("redelivery and attempts", () => {
	it("replays an event through the queue to every matching endpoint, or to one", async () => {
		const m = await createMerchant();
		const one = sink();
		const two = sink();
		const a = await createEndpoint(m.sk, { url: one.url });
		const b = await createEndpoint(m.sk, { url: two.url, enabled_events: ["payment.created"] });
		await createEndpoint(m.sk, { url: sink().url, enabled_events: ["payment.succeeded"] });
		const event = await recordEvent(m.merchant.id);

		const res = await call("POST", `/v1/events/${event.id}/redeliver`, { key: m.sk });
		const redelivery = await json<{ id: string; endpoints: string[] }>(res);
		expect(redelivery).toStrictEqual({
			id: expect.stringMatching(/^whr_/),
			object: "webhook_redelivery",
			event: event.id,
			endpoints: expect.arrayContaining([a.id, b.id]),
			created: expect.any(Number),
		});
		expect(redelivery.endpoints).toHaveLength(2);
		// The local queue runs the consumer for real.
		const [hook] = await one.waitFor(1);
		expect(hook?.headers["webhook-id"]).toBe(event.id);
		expect(verify(a.secret, hook as never)).toBeTruthy();
		expect(await two.waitFor(1)).toHaveLength(1);

		const only = await json<{ endpoints: string[] }>(
			await call("POST", `/v1/events/${event.id}/redeliver`, {
				key: m.sk,
				body: { endpoint: b.id },
			}),
		);
		expect(only.endpoints).toEqual([b.id]);
		expect(await two.waitFor(2)).toHaveLength(2);
		await new Promise((resolve) => setTimeout(resolve, 200));
		expect(await one.received()).toHaveLength(1);

		const attempts = await json<ListJson<AttemptJson>>(
			await call("GET", `/v1/webhook_endpoints/${b.id}/attempts?event=${event.id}`, {
				key: m.sk,
			}),
		);
		expect(attempts.data.map((x) => [x.attempt, x.status, x.redelivery !== null])).toEqual([
			[1, "succeeded", true],
			[1, "succeeded", true],
		]);
		expect(new Set(attempts.data.map((x) => x.redelivery)).size).toBe(2);
	});

	it("answers 404 for another merchant's event or endpoint and 409 for a disabled endpoint", async () => {
		const m = await createMerchant();
		const other = await createMerchant("Other");
		const endpoint = await createEndpoint(m.sk, { url: sink().url });
		const theirs = await createEndpoint(other.sk, { url: sink().url });
		const event = await recordEvent(m.merchant.id);
		const foreign = await recordEvent(other.merchant.id);
		await expectApiError(
			await call("POST", `/v1/events/${foreign.id}/redeliver`, { key: m.sk }),
			"resource_missing",
			"id",
		);
		await expectApiError(
			await call("POST", `/v1/events/${event.id}/redeliver`, { key: m.skLive }),
			"resource_missing",
			"id",
		);
		await expectApiError(
			await call("POST", `/v1/events/${event.id}/redeliver`, {
				key: m.sk,
				body: { endpoint: theirs.id },
			}),
			"resource_missing",
			"endpoint",
		);
		await call("POST", `/v1/webhook_endpoints/${endpoint.id}`, {
			key: m.sk,
			body: { disabled: true },
		});
		await expectApiError(
			await call("POST", `/v1/events/${event.id}/redeliver`, {
				key: m.sk,
				body: { endpoint: endpoint.id },
			}),
			"resource_conflict",
			"endpoint",
		);
	});

	it("lists attempts newest first with cursors", async () => {
		const m = await createMerchant();
		const receiver = sink();
		const endpoint = await createEndpoint(m.sk, { url: receiver.url });
		const events = [];
		for (let i = 0; i < 3; i++) events.push(await recordEvent(m.merchant.id));
		for (const event of events) await runWebhooks([delivery(event.id, endpoint.id)]);
		const page = await json<ListJson<AttemptJson>>(
			await call("GET", `/v1/webhook_endpoints/${endpoint.id}/attempts?limit=2`, { key: m.sk }),
		);
		expect(page.data.map((a) => a.event)).toEqual([events[2]?.id, events[1]?.id]);
		expect(page.has_more).toBe(true);
		const rest = await json<ListJson<AttemptJson>>(
			await call(
				"GET",
				`/v1/webhook_endpoints/${endpoint.id}/attempts?starting_after=${page.data[1]?.id}`,
				{ key: m.sk },
			),
		);
		expect(rest.data.map((a) => a.event)).toEqual([events[0]?.id]);
		expect(rest.has_more).toBe(false);
		await expectApiError(
			await call("GET", `/v1/webhook_endpoints/${endpoint.id}/attempts?starting_after=evt_x`, {
				key: m.sk,
			}),
			"parameter_invalid",
			"starting_after",
		);
	});
});
