import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { newId } from "../../src/domain/ids";
import { RETRY_SCHEDULE_SECONDS, STALE_ATTEMPT_MS } from "../../src/domain/webhooks";
import type { Env } from "../../src/env";
import {
	OVERDUE_AFTER_SECONDS,
	OVERDUE_WINDOW_SECONDS,
	publishPendingEvents,
	resendOverdueDeliveries,
} from "../../src/services/events";
import { call, createMerchant } from "./helpers/api";
import {
	attemptRows,
	captureQueue,
	createEndpoint,
	recordEvent,
	runWebhooks,
	sink,
} from "./helpers/webhooks";

// A failed attempt's retry lives only in its queue message (delayed until due). A queue that
// loses it (the local Queues of a killed `wrangler dev` hold it in memory) stopped the delivery
// for good. The minute cron now sends an overdue delivery to the webhooks queue again.

function withQueue(queue: Queue<unknown>): Env {
	return { ...env, WEBHOOKS_QUEUE: queue } as Env;
}

/** A delivery whose first attempt got a 503 at `startMs`, its retry message then lost. */
async function failedOnce(startMs: number) {
	const m = await createMerchant();
	const receiver = sink();
	await receiver.script([{ status: 503 }]);
	const endpoint = await createEndpoint(m.sk, { url: receiver.url });
	const event = await recordEvent(m.merchant.id);
	const delivery = { kind: "delivery", event_id: event.id, endpoint_id: endpoint.id };
	const first = await runWebhooks([{ body: delivery }], { now: () => startMs });
	expect(first.retryMessages).toHaveLength(1);
	const [attempt] = await attemptRows(endpoint.id);
	expect(attempt).toMatchObject({ status: "failed", attempt: 1 });
	return { m, receiver, endpoint, event, delivery, due: attempt?.next_attempt_at as number };
}

describe("webhook deliveries overdue for their next attempt", () => {
	it("are sent again once five minutes overdue, and the retry is then made once", async () => {
		const start = Date.now();
		const { receiver, endpoint, event, delivery, due } = await failedOnce(start);
		expect(due).toBe(Math.ceil(start / 1000) + RETRY_SCHEDULE_SECONDS[0]);

		const early = captureQueue();
		await resendOverdueDeliveries(withQueue(early.queue), due + 60);
		expect(early.sent).not.toContainEqual(delivery);

		const now = due + OVERDUE_AFTER_SECONDS + 1;
		const q = captureQueue();
		expect(await resendOverdueDeliveries(withQueue(q.queue), now)).toBeGreaterThanOrEqual(1);
		expect(q.sent).toContainEqual(delivery);

		// The resent message and a late copy of the lost one: one second attempt, which succeeds.
		await runWebhooks([{ body: delivery }, { body: delivery }], { now: () => now * 1000 });
		const received = await receiver.received();
		expect(received.map((r) => r.headers["webhook-id"])).toEqual([event.id, event.id]);
		expect((await attemptRows(endpoint.id)).map((a) => [a.attempt, a.status])).toEqual([
			[1, "failed"],
			[2, "succeeded"],
		]);

		const after = captureQueue();
		await resendOverdueDeliveries(withQueue(after.queue), now + 60);
		expect(after.sent).not.toContainEqual(delivery);
	});

	it("runs from the minute cron's publishPendingEvents", async () => {
		const { delivery, due } = await failedOnce(Date.now());
		const q = captureQueue();
		await publishPendingEvents(withQueue(q.queue), due + OVERDUE_AFTER_SECONDS + 1);
		expect(q.sent).toContainEqual(delivery);
	});

	it("carries a redelivery's id, so the redelivery's own schedule goes on", async () => {
		const m = await createMerchant();
		const receiver = sink();
		await receiver.script([{ status: 500 }]);
		const endpoint = await createEndpoint(m.sk, { url: receiver.url });
		const event = await recordEvent(m.merchant.id);
		const start = Date.now();
		const delivery = {
			kind: "delivery",
			event_id: event.id,
			endpoint_id: endpoint.id,
			redelivery_id: newId("webhookRedelivery", start),
		};
		await runWebhooks([{ body: delivery }], { now: () => start });
		const [attempt] = await attemptRows(endpoint.id);
		const q = captureQueue();
		await resendOverdueDeliveries(
			withQueue(q.queue),
			(attempt?.next_attempt_at as number) + OVERDUE_AFTER_SECONDS + 1,
		);
		expect(q.sent).toContainEqual(delivery);
	});

	it("sends again an attempt whose consumer died before recording it, and the consumer counts it failed", async () => {
		const start = Date.now();
		const m = await createMerchant();
		const receiver = sink();
		const endpoint = await createEndpoint(m.sk, { url: receiver.url });
		const event = await recordEvent(m.merchant.id);
		const delivery = { kind: "delivery", event_id: event.id, endpoint_id: endpoint.id };
		// Claimed, sent perhaps, and never recorded: the consumer was killed mid-request.
		await env.DB.prepare(
			`INSERT INTO webhook_attempts (id, endpoint_id, event_id, event_type, merchant_id, livemode,
			   redelivery_id, attempt, status, created)
			 VALUES (?, ?, ?, ?, ?, 0, '', 1, 'pending', ?)`,
		)
			.bind(
				newId("webhookAttempt", start),
				endpoint.id,
				event.id,
				event.type,
				m.merchant.id,
				Math.floor(start / 1000),
			)
			.run();

		const fresh = captureQueue();
		await resendOverdueDeliveries(withQueue(fresh.queue), Math.floor(start / 1000) + 30);
		expect(fresh.sent).not.toContainEqual(delivery);

		const now = Math.floor(start / 1000) + Math.ceil(STALE_ATTEMPT_MS / 1000) + 61;
		const q = captureQueue();
		await resendOverdueDeliveries(withQueue(q.queue), now);
		expect(q.sent).toContainEqual(delivery);
		const result = await runWebhooks([{ body: delivery }], { now: () => now * 1000 });
		// Counted failed; its retry was due 5 s after it started, long ago: attempt 2 now.
		expect(result.retryMessages).toEqual([]);
		expect((await attemptRows(endpoint.id)).map((a) => [a.attempt, a.status])).toEqual([
			[1, "failed"],
			[2, "succeeded"],
		]);
		expect((await receiver.received()).map((r) => r.headers["webhook-id"])).toEqual([event.id]);
	});

	it("leaves alone deliveries that are done, given up, to disabled endpoints, or past the window", async () => {
		const start = Date.now();
		const retried = await failedOnce(start);
		const now = retried.due + OVERDUE_AFTER_SECONDS + 1;
		// Its retry was made (and failed again): the latest attempt is not overdue yet.
		await retried.receiver.script([{ status: 503 }]);
		await runWebhooks([{ body: retried.delivery }], { now: () => retried.due * 1000 });
		expect(await attemptRows(retried.endpoint.id)).toHaveLength(2);

		const disabled = await failedOnce(start);
		const res = await call("POST", `/v1/webhook_endpoints/${disabled.endpoint.id}`, {
			key: disabled.m.sk,
			body: { disabled: true },
		});
		expect(res.status).toBe(200);

		const gaveUp = await failedOnce(start);
		await env.DB.prepare("UPDATE webhook_attempts SET next_attempt_at = NULL WHERE endpoint_id = ?")
			.bind(gaveUp.endpoint.id)
			.run();

		const q = captureQueue();
		await resendOverdueDeliveries(withQueue(q.queue), now);
		for (const d of [retried, disabled, gaveUp]) expect(q.sent).not.toContainEqual(d.delivery);

		const old = await failedOnce(start);
		const late = captureQueue();
		await resendOverdueDeliveries(withQueue(late.queue), old.due + OVERDUE_WINDOW_SECONDS + 1);
		expect(late.sent).not.toContainEqual(old.delivery);
	});
});
