import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Env } from "../../src/env";
import {
	publishPendingEvents,
	resendLostConversions,
	UNATTEMPTED_AFTER_SECONDS,
} from "../../src/services/events";
import { call, createMerchant } from "./helpers/api";
import { captureQueue, recordEvent } from "./helpers/webhooks";

// A succeeded crypto payment whose conversions message was lost after it was sent (the local
// Queues of a killed `wrangler dev` hold messages in memory) was never converted: its event said
// published. The minute cron now sends the conversion message again, once.

async function convertingMerchant() {
	const m = await createMerchant();
	const res = await call("POST", "/v1/settings", {
		key: m.sk,
		body: { settlement_currency: "usd" },
	});
	expect(res.status).toBe(200);
	return m;
}

async function succeededEvent(merchantId: string, paymentId: string, crypto = true) {
	const event = await recordEvent(merchantId, {
		type: "payment.succeeded",
		object_id: paymentId,
		data: JSON.stringify({
			id: paymentId,
			object: "payment",
			status: "succeeded",
			...(crypto ? { solana: { token: "USDC" } } : {}),
		}),
	});
	await env.DB.prepare("UPDATE events SET published = created WHERE id = ?").bind(event.id).run();
	return event;
}

function withQueue(queue: Queue<unknown>): Env {
	return { ...env, CONVERSIONS_QUEUE: queue } as Env;
}

const message = (paymentId: string) => ({ kind: "payment_succeeded", payment_id: paymentId });

describe("succeeded payments whose conversion message was lost", () => {
	it("get one more conversion message in the minute after they are two minutes old", async () => {
		const m = await convertingMerchant();
		const event = await succeededEvent(m.merchant.id, "pay_sweep_lost");
		const at = (offset: number) => event.created + UNATTEMPTED_AFTER_SECONDS + offset;

		const early = captureQueue();
		await resendLostConversions(withQueue(early.queue), event.created + 60);
		expect(early.sent).not.toContainEqual(message("pay_sweep_lost"));

		const due = captureQueue();
		await resendLostConversions(withQueue(due.queue), at(1));
		expect(due.sent).toContainEqual(message("pay_sweep_lost"));

		// Past its slice: a conversion still waiting (for a rate) gets no message every minute.
		const later = captureQueue();
		await resendLostConversions(withQueue(later.queue), at(62));
		expect(later.sent).not.toContainEqual(message("pay_sweep_lost"));
	});

	it("runs from the minute cron's publishPendingEvents", async () => {
		const m = await convertingMerchant();
		const event = await succeededEvent(m.merchant.id, "pay_sweep_cron");
		const q = captureQueue();
		await publishPendingEvents(withQueue(q.queue), event.created + UNATTEMPTED_AFTER_SECONDS + 1);
		expect(q.sent).toContainEqual(message("pay_sweep_cron"));
	});

	it("sends nothing for a payment already converted, a merchant that keeps what it receives, or a card payment", async () => {
		const m = await convertingMerchant();
		const converted = await succeededEvent(m.merchant.id, "pay_sweep_converted");
		await env.DB.prepare(
			`INSERT INTO conversions (id, merchant_id, livemode, payment_id, status, policy, from_currency,
			 from_token, from_amount, to_currency, spread_bps, created)
			 VALUES ('conv_sweep', ?, 0, 'pay_sweep_converted', 'completed', 'locked', 'usdc', 'USDC', '1', 'usd', 30, ?)`,
		)
			.bind(m.merchant.id, converted.created)
			.run();
		await succeededEvent(m.merchant.id, "pay_sweep_card", false);
		const keeper = await createMerchant();
		const kept = await succeededEvent(keeper.merchant.id, "pay_sweep_kept");

		const q = captureQueue();
		await resendLostConversions(withQueue(q.queue), kept.created + UNATTEMPTED_AFTER_SECONDS + 1);
		for (const id of ["pay_sweep_converted", "pay_sweep_card", "pay_sweep_kept"])
			expect(q.sent).not.toContainEqual(message(id));
	});
});
