import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { EventRow } from "../../src/db/events";
import { newId } from "../../src/domain/ids";
import type { Env } from "../../src/env";
import {
	publishPendingEvents,
	resendUnattemptedEvents,
	UNATTEMPTED_AFTER_SECONDS,
	UNATTEMPTED_WINDOW_SECONDS,
} from "../../src/services/events";
import { call, createMerchant } from "./helpers/api";
import { captureQueue, createEndpoint, recordEvent, runWebhooks, sink } from "./helpers/webhooks";

// A published event whose queue messages were lost (the local Queues of a killed `wrangler dev`
// hold them in memory) was never delivered: its row said published, so nothing sent it again.
// The minute cron now hands such events to the webhooks queue again.

async function publishedEvent(merchantId: string, fields: Partial<EventRow> = {}) {
	const event = await recordEvent(merchantId, fields);
	// Sent to the queue, marked published, and the message lost before any consumer took it.
	await env.DB.prepare("UPDATE events SET published = created WHERE id = ?").bind(event.id).run();
	return event;
}

function withQueue(queue: Queue<unknown>): Env {
	return { ...env, WEBHOOKS_QUEUE: queue } as Env;
}

const eventMessage = (id: string) => ({ kind: "event", event_id: id });

describe("published events that no endpoint ever got an attempt of", () => {
	it("are sent to the webhooks queue again once two minutes old, and then delivered exactly once", async () => {
		const m = await createMerchant();
		const receiver = sink();
		await createEndpoint(m.sk, { url: receiver.url });
		const event = await publishedEvent(m.merchant.id);

		const early = captureQueue();
		await resendUnattemptedEvents(withQueue(early.queue), event.created + 60);
		expect(early.sent).not.toContainEqual(eventMessage(event.id));

		const due = captureQueue();
		const now = event.created + UNATTEMPTED_AFTER_SECONDS + 1;
		expect(await resendUnattemptedEvents(withQueue(due.queue), now)).toBeGreaterThanOrEqual(1);
		expect(due.sent).toContainEqual(eventMessage(event.id));

		// The resent event fans out and is delivered; a second copy of the delivery sends nothing.
		const fanOut = captureQueue();
		await runWebhooks([{ body: eventMessage(event.id) }], {
			env: { WEBHOOKS_QUEUE: fanOut.queue },
		});
		expect(fanOut.sent).toHaveLength(1);
		await runWebhooks([{ body: fanOut.sent[0] }, { body: fanOut.sent[0] }]);
		const received = await receiver.received();
		expect(received.map((r) => r.headers["webhook-id"])).toEqual([event.id]);

		// Attempted now: the next sweep leaves it alone.
		const after = captureQueue();
		await resendUnattemptedEvents(withQueue(after.queue), now + 60);
		expect(after.sent).not.toContainEqual(eventMessage(event.id));
	});

	it("runs from the minute cron's publishPendingEvents", async () => {
		const m = await createMerchant();
		await createEndpoint(m.sk, { url: sink().url });
		const event = await publishedEvent(m.merchant.id);
		const q = captureQueue();
		await publishPendingEvents(withQueue(q.queue), event.created + UNATTEMPTED_AFTER_SECONDS + 1);
		expect(q.sent).toContainEqual(eventMessage(event.id));
	});

	it("leaves alone events no endpoint should get: other types, endpoints changed or made after the event, disabled endpoints, events past the window", async () => {
		const m = await createMerchant();
		await createEndpoint(m.sk, { url: sink().url, enabled_events: ["payment.succeeded"] });
		const otherType = await publishedEvent(m.merchant.id, { type: "payment.created" });

		const m2 = await createMerchant();
		const earlier = Date.now() - 10_000;
		const beforeEndpoint = await publishedEvent(m2.merchant.id, {
			id: newId("event", earlier),
			created: Math.floor(earlier / 1000),
		});
		await createEndpoint(m2.sk, { url: sink().url });

		const m3 = await createMerchant();
		const disabled = await createEndpoint(m3.sk, { url: sink().url });
		const res = await call("POST", `/v1/webhook_endpoints/${disabled.id}`, {
			key: m3.sk,
			body: { disabled: true },
		});
		expect(res.status).toBe(200);
		const toDisabled = await publishedEvent(m3.merchant.id);

		const now = otherType.created + UNATTEMPTED_AFTER_SECONDS + 1;
		const q = captureQueue();
		await resendUnattemptedEvents(withQueue(q.queue), now);
		for (const e of [otherType, beforeEndpoint, toDisabled])
			expect(q.sent).not.toContainEqual(eventMessage(e.id));

		const m4 = await createMerchant();
		await createEndpoint(m4.sk, { url: sink().url });
		const old = await publishedEvent(m4.merchant.id);
		const late = captureQueue();
		await resendUnattemptedEvents(
			withQueue(late.queue),
			old.created + UNATTEMPTED_WINDOW_SECONDS + 1,
		);
		expect(late.sent).not.toContainEqual(eventMessage(old.id));
	});

	it("does not resend an event whose own delivery was attempted, even when the attempt failed", async () => {
		const m = await createMerchant();
		const receiver = sink();
		await receiver.script([{ status: 503 }]);
		const endpoint = await createEndpoint(m.sk, { url: receiver.url });
		const event = await publishedEvent(m.merchant.id);
		await runWebhooks([
			{ body: { kind: "delivery", event_id: event.id, endpoint_id: endpoint.id } },
		]);
		expect(await receiver.received()).toHaveLength(1);
		const q = captureQueue();
		await resendUnattemptedEvents(
			withQueue(q.queue),
			event.created + UNATTEMPTED_AFTER_SECONDS + 1,
		);
		expect(q.sent).not.toContainEqual(eventMessage(event.id));
	});
});
