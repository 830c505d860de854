import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createMerchant, createPayment, json, type PaymentJson } from "./helpers/api";
import {
	eventTypes,
	fireDueJobs,
	markSucceeded,
	paymentObject,
	pendingOutbox,
	projectedRow,
	scheduledJobs,
	transitionPayment,
} from "./helpers/objects";

describe("POST /v1/payments", () => {
	it("creates a payment in requires_payment with every documented field", async () => {
		const m = await createMerchant();
		const before = Math.floor(Date.now() / 1000);
		const p = await createPayment(m.sk, {
			amount: 1999,
			currency: "eur",
			payment_method_types: ["solana"],
			description: "Order 42",
			metadata: { order_id: "42" },
			success_url: "https://shop.example/thanks",
			cancel_url: "https://shop.example/cart",
			expires_in: 900,
		});
		expect(p.id).toMatch(/^pay_[0-9A-Z]{30}$/);
		expect(p).toMatchObject({
			object: "payment",
			livemode: false,
			status: "requires_payment",
			amount: 1999,
			currency: "eur",
			amount_received: 0,
			amount_refunded: 0,
			payment_method_types: ["solana"],
			description: "Order 42",
			metadata: { order_id: "42" },
			success_url: "https://shop.example/thanks",
			cancel_url: "https://shop.example/cart",
			checkout_url: `http://127.0.0.1:8787/checkout/${p.id}`,
			canceled_at: null,
			succeeded_at: null,
		});
		expect(p.created).toBeGreaterThanOrEqual(before);
		expect(p.expires_at).toBe(p.created + 900);
		expect(Object.keys(p)).not.toContain("merchant_id");
		expect(Object.keys(p)).not.toContain("version");
	});

	it("defaults to both methods, no metadata and a one-hour expiry", async () => {
		const m = await createMerchant();
		const p = await createPayment(m.sk);
		expect(p.payment_method_types).toEqual(["solana", "card"]);
		expect(p.metadata).toEqual({});
		expect(p.expires_at - p.created).toBe(3600);
	});

	it("accepts zero-decimal and three-decimal currencies in their minor units", async () => {
		const m = await createMerchant();
		expect((await createPayment(m.sk, { amount: 5000, currency: "jpy" })).amount).toBe(5000);
		expect((await createPayment(m.sk, { amount: 1250, currency: "kwd" })).currency).toBe("kwd");
	});

	it("accepts app links for redirects (mobile web views) but never script or data URLs", async () => {
		const m = await createMerchant();
		const p = await createPayment(m.sk, {
			success_url: "myshop://orders/42/paid?payment={PAYMENT_ID}",
			cancel_url: "com.example.shop:/cart",
		});
		expect(p.success_url).toBe("myshop://orders/42/paid?payment={PAYMENT_ID}");
		for (const url of [
			"javascript:alert(1)",
			"data:text/html,hi",
			"file:///etc/passwd",
			"not a url",
			"https://",
		]) {
			const res = await call("POST", "/v1/payments", {
				key: m.sk,
				body: { amount: 100, currency: "usd", success_url: url },
			});
			expect(res.status).toBe(400);
			expect((await json<{ error: { param: string } }>(res)).error.param).toBe("success_url");
		}
	});

	it("creates live-mode payments with a live key", async () => {
		const m = await createMerchant();
		expect((await createPayment(m.skLive)).livemode).toBe(true);
	});

	it("projects the payment to D1 and appends payment.created", async () => {
		const m = await createMerchant();
		const p = await createPayment(m.sk);
		expect(await projectedRow(p.id)).toEqual({
			status: "requires_payment",
			version: 1,
			amount_received: 0,
		});
		expect(await eventTypes(p.id)).toEqual(["payment.created"]);
		expect(await pendingOutbox(p.id)).toBe(0);
	});
});

describe("GET /v1/payments/:id", () => {
	it("reads the payment from its Durable Object", async () => {
		const m = await createMerchant();
		const p = await createPayment(m.sk);
		const res = await call("GET", `/v1/payments/${p.id}`, { key: m.sk });
		expect(res.status).toBe(200);
		expect(await json(res)).toEqual(p);
	});

	it("is consistent even when the D1 projection is behind", async () => {
		const m = await createMerchant();
		const p = await createPayment(m.sk);
		await env.DB.prepare("DELETE FROM payments WHERE id = ?").bind(p.id).run();
		const res = await call("GET", `/v1/payments/${p.id}`, { key: m.sk });
		expect(res.status).toBe(200);
	});
});

describe("POST /v1/payments/:id/cancel", () => {
	it("cancels an unpaid payment with a reason", async () => {
		const m = await createMerchant();
		const p = await createPayment(m.sk);
		const res = await call("POST", `/v1/payments/${p.id}/cancel`, {
			key: m.sk,
			body: { cancellation_reason: "requested_by_customer" },
		});
		expect(res.status).toBe(200);
		const canceled = await json<PaymentJson>(res);
		expect(canceled.status).toBe("canceled");
		expect(canceled.cancellation_reason).toBe("requested_by_customer");
		expect(canceled.canceled_at).toBeGreaterThanOrEqual(p.created);
		expect(await eventTypes(p.id)).toEqual(["payment.created", "payment.canceled"]);
		expect((await projectedRow(p.id))?.status).toBe("canceled");
	});

	it("works without a body and records the default reason", async () => {
		const m = await createMerchant();
		const p = await createPayment(m.sk);
		const res = await call("POST", `/v1/payments/${p.id}/cancel`, { key: m.sk });
		expect(res.status).toBe(200);
		expect((await json<PaymentJson>(res)).cancellation_reason).toBe("requested_by_merchant");
	});

	it("refuses to cancel a succeeded payment", async () => {
		const m = await createMerchant();
		const p = await createPayment(m.sk);
		await markSucceeded(p.id, {
			amountReceived: 2500,
			processor: "solana",
			balance: "available",
		});
		const res = await call("POST", `/v1/payments/${p.id}/cancel`, { key: m.sk });
		expect(res.status).toBe(409);
		const body = await json<{ error: { code: string; message: string } }>(res);
		expect(body.error.code).toBe("payment_unexpected_state");
		expect(body.error.message).toContain("'succeeded'");
	});
});

describe("expiry", () => {
	it("schedules expiry by alarm at expires_at and expires an unpaid payment", async () => {
		const m = await createMerchant();
		const p = await createPayment(m.sk, { expires_in: 60 });
		expect(await scheduledJobs(p.id)).toEqual(["expire"]);
		const alarm = await runAlarmAt(p.id);
		expect(alarm).toBe(p.expires_at * 1000);
		expect(await fireDueJobs(p.id, ["expire"])).toBe(true);
		const after = await json<PaymentJson>(await call("GET", `/v1/payments/${p.id}`, { key: m.sk }));
		expect(after.status).toBe("expired");
		expect(await eventTypes(p.id)).toEqual(["payment.created", "payment.expired"]);
		expect(await scheduledJobs(p.id)).toEqual([]);
	});

	it("does not expire a payment that is already processing", async () => {
		const m = await createMerchant();
		const p = await createPayment(m.sk);
		await transitionPayment(p.id, "processing");
		await fireDueJobs(p.id, ["expire"]);
		expect((await paymentObject(p.id).get())?.status).toBe("processing");
	});

	it("does not fire early: an alarm before expires_at leaves the payment open", async () => {
		const m = await createMerchant();
		const p = await createPayment(m.sk);
		await fireDueJobs(p.id, []);
		expect((await paymentObject(p.id).get())?.status).toBe("requires_payment");
		expect(await scheduledJobs(p.id)).toEqual(["expire"]);
	});
});

async function runAlarmAt(id: string): Promise<number | null> {
	const { runInDurableObject } = await import("cloudflare:test");
	return runInDurableObject(paymentObject(id), (_i, state) => state.storage.getAlarm());
}
