import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { queueKind, recordGiveUp } from "../../src/queues/index";
import { captureLogs } from "./helpers/logs";

describe("queue dispatch", () => {
	it("knows each queue by the first part of its name", () => {
		expect(queueKind("webhooks")).toBe("webhooks");
		expect(queueKind("refunds-staging")).toBe("refunds");
		expect(queueKind("conversions")).toBe("conversions");
		expect(queueKind("webhooks-dlq")).toBe("webhooks");
		expect(queueKind("reports")).toBe("reports");
		expect(queueKind("ledger")).toBeNull();
	});

	it("retries a batch from a queue nobody consumes instead of acknowledging it", async () => {
		const logs = captureLogs();
		const batch = createMessageBatch("mystery", [
			{ id: "m1", timestamp: new Date(), attempts: 1, body: { hello: "world" } },
		]);
		const ctx = createExecutionContext();
		await worker.queue(batch, env, ctx);
		const result = await getQueueResult(batch, ctx);
		expect(result.retryBatch.retry).toBe(true);
		expect(result.explicitAcks).toEqual([]);
		expect(logs.find("error", "no consumer for queue")).toEqual([
			expect.objectContaining({ queue: "mystery", messages: 1 }),
		]);
	});

	it("records a message its consumer gives up on", async () => {
		const logs = captureLogs();
		const [message] = createMessageBatch("refunds", [
			{ id: "m-give-up", timestamp: new Date(), attempts: 10, body: { refund: "re_x" } },
		]).messages;
		await recordGiveUp(env, "refunds", message as Message<unknown>, "Stripe said no");
		const row = await env.DB.prepare("SELECT * FROM queue_failures WHERE message_id = ?")
			.bind("m-give-up")
			.first<{ queue: string; body: string; attempts: number; error: string }>();
		expect(row).toMatchObject({ queue: "refunds", attempts: 10, error: "Stripe said no" });
		expect(JSON.parse(row?.body ?? "null")).toEqual({ refund: "re_x" });
		expect(logs.find("error", "queue message given up")).toEqual([
			expect.objectContaining({ queue: "refunds", message_id: "m-give-up", attempts: 10 }),
		]);
	});
});
