import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { parseWebhookMessage } from "../../src/domain/queue-messages";
import {
	checkWebhookUrl,
	eventMatches,
	failingTooLong,
	isStale,
	type LastAttempt,
	MAX_ATTEMPTS,
	outcomeOf,
	planDelivery,
	queueDelaySeconds,
	RETRY_SCHEDULE_SECONDS,
	retryDelaySeconds,
	signatureHeader,
	webhookBody,
	webhookHeaders,
} from "../../src/domain/webhooks";

describe("checkWebhookUrl", () => {
	it.each([
		"https://shop.example/hooks",
		"https://shop.example:8443/hooks?x=1",
		"https://93.184.216.34/hooks",
		"https://[2606:4700:4700::1111]/hooks",
		"https://sub.domain.example.co.uk/",
	])("accepts the public %s in live mode", (url) => {
		expect(checkWebhookUrl(url, true)).toEqual({ ok: true });
	});

	it.each([
		["http://shop.example/hooks", "must use https in live mode"],
		["ftp://shop.example/hooks", "must use https (or http in test mode)"],
		["javascript:alert(1)", "must use https (or http in test mode)"],
		["not a url", "is not a valid URL"],
		["https://user:pw@shop.example/", "must not contain credentials"],
		["https://user@shop.example/", "must not contain credentials"],
		["https://localhost/", "must not point at a loopback address (localhost)"],
		["https://api.localhost/", "must not point at a loopback address (api.localhost)"],
		["https://127.0.0.1/", "must not point at a loopback address (127.0.0.1)"],
		["https://127.1/", "must not point at a loopback address (127.0.0.1)"],
		["https://0x7f000001/", "must not point at a loopback address (127.0.0.1)"],
		["https://2130706433/", "must not point at a loopback address (127.0.0.1)"],
		["https://0.0.0.0/", "must not point at an unspecified address (0.0.0.0)"],
		["https://10.0.0.1/", "must not point at a private address (10.0.0.1)"],
		["https://172.16.5.4/", "must not point at a private address (172.16.5.4)"],
		["https://172.31.255.255/", "must not point at a private address (172.31.255.255)"],
		["https://192.168.0.10/", "must not point at a private address (192.168.0.10)"],
		["https://100.64.0.1/", "must not point at a carrier-grade NAT address (100.64.0.1)"],
		["https://100.127.255.254/", "must not point at a carrier-grade NAT address (100.127.255.254)"],
		["https://169.254.169.254/", "must not point at a link-local address (169.254.169.254)"],
		["https://224.0.0.251/", "must not point at a multicast address (224.0.0.251)"],
		["https://255.255.255.255/", "must not point at a reserved address (255.255.255.255)"],
		["https://192.0.2.1/", "must not point at a reserved address (192.0.2.1)"],
		["https://198.18.0.1/", "must not point at a reserved address (198.18.0.1)"],
		["https://[::1]/", "must not point at a loopback address ([::1])"],
		["https://[::]/", "must not point at an unspecified address ([::])"],
		["https://[fc00::1]/", "must not point at a private address ([fc00::1])"],
		["https://[fd12:3456:789a::1]/", "must not point at a private address ([fd12:3456:789a::1])"],
		["https://[fe80::1]/", "must not point at a link-local address ([fe80::1])"],
		["https://[febf::1]/", "must not point at a link-local address ([febf::1])"],
		["https://[ff02::1]/", "must not point at a multicast address ([ff02::1])"],
		["https://[::ffff:127.0.0.1]/", "must not point at a loopback address ([::ffff:7f00:1])"],
		["https://[::ffff:a9fe:a9fe]/", "must not point at a link-local address ([::ffff:a9fe:a9fe])"],
		["https://[64:ff9b::10.0.0.1]/", "must not point at a private address ([64:ff9b::a00:1])"],
		["https://[2002:c0a8:101::1]/", "must not point at a private address ([2002:c0a8:101::1])"],
		["https://[2001:db8::1]/", "must not point at a reserved address ([2001:db8::1])"],
		["https://printer.local/", "must not point at a local host name (printer.local)"],
		[
			"https://metadata.google.internal/",
			"must not point at a local host name (metadata.google.internal)",
		],
		["https://router.home.arpa/", "must not point at a local host name (router.home.arpa)"],
		["https://intranet/", "must not point at a local host name (intranet)"],
		["https://shop.local./", "must not point at a local host name (shop.local.)"],
	])("refuses %s in live mode", (url, reason) => {
		expect(checkWebhookUrl(url, true)).toEqual({ ok: false, reason });
	});

	it("allows http and loopback in test mode, nothing else private", () => {
		for (const url of [
			"http://127.0.0.1:4000/hooks",
			"http://localhost:3000/hooks",
			"http://[::1]:8080/",
			"http://shop.example/hooks",
			"https://shop.example/hooks",
		]) {
			expect(checkWebhookUrl(url, false), url).toEqual({ ok: true });
		}
		for (const url of [
			"http://10.0.0.1/",
			"http://169.254.169.254/",
			"http://printer.local/",
			"http://u:p@127.0.0.1/",
			"file:///etc/passwd",
		]) {
			expect(checkWebhookUrl(url, false).ok, url).toBe(false);
		}
	});
});

describe("event filters and messages", () => {
	it("matches * or the exact type", () => {
		expect(eventMatches(["*"], "payment.created")).toBe(true);
		expect(eventMatches(["payment.created"], "payment.created")).toBe(true);
		expect(eventMatches(["payment.created"], "payment.canceled")).toBe(false);
	});

	it("reads the two message kinds and nothing else", () => {
		expect(parseWebhookMessage({ kind: "event", event_id: "evt_1" })).toEqual({
			kind: "event",
			event_id: "evt_1",
		});
		expect(
			parseWebhookMessage({ kind: "delivery", event_id: "evt_1", endpoint_id: "we_1" }),
		).toEqual({ kind: "delivery", event_id: "evt_1", endpoint_id: "we_1" });
		expect(
			parseWebhookMessage({
				kind: "delivery",
				event_id: "evt_1",
				endpoint_id: "we_1",
				redelivery_id: "whr_1",
			}),
		).toEqual({ kind: "delivery", event_id: "evt_1", endpoint_id: "we_1", redelivery_id: "whr_1" });
		for (const bad of [null, "x", { kind: "event" }, { kind: "delivery", event_id: "e" }, {}]) {
			expect(parseWebhookMessage(bad)).toBeNull();
		}
	});
});

describe("payload and signature", () => {
	const event = {
		id: "evt_01JD4X7K3M9ZQ8W6V5T4S3R2P1N0M9",
		type: "payment.succeeded",
		livemode: false,
		created: 1_795_000_000,
		data: JSON.stringify({ id: "pay_1", object: "payment", status: "succeeded" }),
		object_version: 4,
	};
	const secret = `whsec_${btoa(String.fromCharCode(...new Uint8Array(32).fill(7)))}`;
	const other = `whsec_${btoa(String.fromCharCode(...new Uint8Array(24).fill(9)))}`;

	it("sends the API's event with the object's sequence number", () => {
		expect(JSON.parse(webhookBody(event))).toStrictEqual({
			id: event.id,
			object: "event",
			type: "payment.succeeded",
			livemode: false,
			created: 1_795_000_000,
			data: { object: { id: "pay_1", object: "payment", status: "succeeded" }, sequence: 4 },
		});
		expect(JSON.parse(webhookBody({ ...event, object_version: null })).data.sequence).toBeNull();
	});

	it("signs exactly as the standardwebhooks library does, once per secret", async () => {
		const body = webhookBody(event);
		const timestamp = Math.floor(Date.now() / 1000);
		const single = await signatureHeader([secret], event.id, timestamp, body);
		expect(single).toBe(new Webhook(secret).sign(event.id, new Date(timestamp * 1000), body));
		const both = await signatureHeader([secret, other], event.id, timestamp, body);
		expect(both.split(" ")).toEqual([
			single,
			new Webhook(other).sign(event.id, new Date(timestamp * 1000), body),
		]);
		const headers = webhookHeaders({ eventId: event.id, timestamp, signature: both, sequence: 4 });
		expect(headers).toStrictEqual({
			"Content-Type": "application/json",
			"User-Agent": "StreamPayments-Webhooks/1",
			"webhook-id": event.id,
			"webhook-timestamp": String(timestamp),
			"webhook-signature": both,
			"webhook-sequence": "4",
		});
		for (const s of [secret, other]) expect(new Webhook(s).verify(body, headers)).toBeTruthy();
		expect(
			webhookHeaders({ eventId: "e", timestamp, signature: "s", sequence: null }),
		).not.toHaveProperty("webhook-sequence");
	});

	it("classifies answers: 2xx delivered, 410 gone, anything else retried", () => {
		expect([200, 201, 204, 299].map(outcomeOf)).toEqual(Array(4).fill("succeeded"));
		expect(outcomeOf(410)).toBe("gone");
		expect([301, 302, 400, 404, 429, 500, 503].map(outcomeOf)).toEqual(Array(7).fill("failed"));
	});
});

describe("the retry schedule", () => {
	const T = 1_800_000_000_000;
	const failed = (
		attempt: number,
		startedMs = T,
		durationMs: number | null = 100,
	): LastAttempt => ({
		attempt,
		status: "failed",
		startedMs,
		durationMs,
	});

	it("spans about three days in ten attempts", () => {
		const total = RETRY_SCHEDULE_SECONDS.reduce((a, b) => a + b, 0);
		expect(MAX_ATTEMPTS).toBe(10);
		expect(total / 86_400).toBeCloseTo(2.57, 2);
		expect(retryDelaySeconds(1)).toBe(5);
		expect(retryDelaySeconds(9)).toBe(20 * 3600);
		expect(retryDelaySeconds(10)).toBeNull();
	});

	it("starts with attempt 1 and stops after a success or the last failure", () => {
		expect(planDelivery(null, T)).toEqual({ action: "attempt", attempt: 1 });
		expect(planDelivery({ ...failed(3), status: "succeeded" }, T)).toEqual({ action: "done" });
		expect(planDelivery(failed(10), T + 10 * 86_400_000)).toEqual({ action: "done" });
	});

	it("waits from the end of the failed attempt, and attempts once it is due", () => {
		expect(planDelivery(failed(1, T, 15_000), T + 15_000)).toEqual({
			action: "wait",
			delaySeconds: 5,
		});
		expect(planDelivery(failed(1, T, 15_000), T + 20_000)).toEqual({
			action: "attempt",
			attempt: 2,
		});
		// A message that comes back a moment early still goes.
		expect(planDelivery(failed(2, T, 0), T + 299_500)).toEqual({ action: "attempt", attempt: 3 });
		expect(planDelivery(failed(2, T, 0), T + 200_000)).toEqual({
			action: "wait",
			delaySeconds: 100,
		});
	});

	it("takes waits longer than the queue's 12 h limit in steps", () => {
		expect(planDelivery(failed(9, T, 0), T)).toEqual({ action: "wait", delaySeconds: 43_200 });
		expect(planDelivery(failed(9, T, 0), T + 43_200_000)).toEqual({
			action: "wait",
			delaySeconds: 28_800,
		});
		expect(planDelivery(failed(9, T, 0), T + 72_000_000)).toEqual({
			action: "attempt",
			attempt: 10,
		});
		expect(queueDelaySeconds(0.2)).toBe(1);
		expect(queueDelaySeconds(100_000)).toBe(43_200);
	});

	it("waits for a pending attempt, which counts as failed once stale", () => {
		const pending: LastAttempt = { attempt: 2, status: "pending", startedMs: T, durationMs: null };
		expect(isStale(pending, T + 59_000)).toBe(false);
		expect(planDelivery(pending, T + 10_000)).toEqual({ action: "wait", delaySeconds: 50 });
		expect(isStale(pending, T + 60_000)).toBe(true);
		expect(isStale(failed(2), T + 600_000)).toBe(false);
	});

	it("disables an endpoint failing for more than three days", () => {
		const now = 1_800_000_000;
		expect(failingTooLong(null, now)).toBe(false);
		expect(failingTooLong(now - 3 * 86_400, now)).toBe(false);
		expect(failingTooLong(now - 3 * 86_400 - 1, now)).toBe(true);
	});
});
