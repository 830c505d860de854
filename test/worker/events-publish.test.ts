import {
	createExecutionContext,
	createScheduledController,
	waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { emitEvent, publishPendingEvents } from "../../src/services/events";
import { createMerchant, createPayment } from "./helpers/api";

async function published(id: string): Promise<number | null> {
	const row = await env.DB.prepare("SELECT published FROM events WHERE id = ?")
		.bind(id)
		.first<{ published: number | null }>();
	return row?.published ?? null;
}

describe("event publishing", () => {
	it("publishes a payment's events to the webhooks queue as the outbox flushes", async () => {
		const m = await createMerchant();
		const p = await createPayment(m.sk);
		const row = await env.DB.prepare("SELECT id, published FROM events WHERE object_id = ?")
			.bind(p.id)
			.first<{ id: string; published: number | null }>();
		expect(row?.published).toBeTypeOf("number");
	});

	it("keeps an event whose send failed and lets the cron publish it", async () => {
		const sent: unknown[] = [];
		const failing = {
			...env,
			WEBHOOKS_QUEUE: { sendBatch: () => Promise.reject(new Error("queue down")) },
		} as never;
		const event = await emitEvent(failing, {
			merchant_id: "mch_test",
			livemode: false,
			type: "routing_rules.updated",
			object_id: "mch_test",
			object_version: 1,
			data: "{}",
		});
		expect(await published(event.id)).toBeNull();
		// Too fresh for the sweep (the first send may still be in flight).
		const working = {
			...env,
			WEBHOOKS_QUEUE: { sendBatch: async (b: unknown[]) => void sent.push(...b) },
		} as never;
		expect(await publishPendingEvents(working, event.created)).toBe(0);
		expect(await publishPendingEvents(working, event.created + 60)).toBeGreaterThanOrEqual(1);
		expect(sent).toContainEqual({ body: { kind: "event", event_id: event.id } });
		expect(await published(event.id)).toBeTypeOf("number");
	});

	it("runs the sweep from the minute cron", async () => {
		const ctx = createExecutionContext();
		await worker.scheduled(
			createScheduledController({ cron: "* * * * *", scheduledTime: Date.now() }),
			env,
			ctx,
		);
		await waitOnExecutionContext(ctx);
		const { n } = (await env.DB.prepare(
			"SELECT COUNT(*) AS n FROM events WHERE published IS NULL AND created <= ?",
		)
			.bind(Math.floor(Date.now() / 1000) - 30)
			.first<{ n: number }>()) ?? { n: -1 };
		expect(n).toBe(0);
	});
});
