import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ledgerTotals, merchantBalance } from "../../src/db/ledger";
import { projectOutboxEntry } from "../../src/db/projection";
import { newId } from "../../src/domain/ids";
import { call, createMerchant, createPayment, json, type PaymentJson } from "./helpers/api";
import {
	breakD1,
	eventTypes,
	fireDueJobs,
	insidePayment,
	markSucceeded,
	paymentObject,
	pendingOutbox,
	projectedRow,
	scheduledJobs,
	transitionPayment,
} from "./helpers/objects";

describe("outbox", () => {
	it("keeps a transition made while D1 is down and projects it when the alarm retries", async () => {
		const m = await createMerchant();
		const p = await createPayment(m.sk);
		const restore = await breakD1(p.id);

		const res = await call("POST", `/v1/payments/${p.id}/cancel`, { key: m.sk });
		expect(res.status).toBe(200);
		expect((await json<PaymentJson>(res)).status).toBe("canceled");

		const stub = paymentObject(p.id);
		expect(await pendingOutbox(p.id)).toBe(1);
		expect((await stub.get())?.status).toBe("canceled");
		expect(await projectedRow(p.id)).toMatchObject({ status: "requires_payment", version: 1 });
		expect(await eventTypes(p.id)).toEqual(["payment.created"]);
		expect(await scheduledJobs(p.id)).toContain("flush");

		// Still down: the retry fails, keeps the row and backs off.
		await fireDueJobs(p.id, ["flush"]);
		expect(await pendingOutbox(p.id)).toBe(1);
		expect(await scheduledJobs(p.id)).toContain("flush");

		await restore();
		await fireDueJobs(p.id, ["flush"]);
		expect(await pendingOutbox(p.id)).toBe(0);
		expect(await projectedRow(p.id)).toMatchObject({ status: "canceled", version: 2 });
		expect(await eventTypes(p.id)).toEqual(["payment.created", "payment.canceled"]);
		expect(await scheduledJobs(p.id)).not.toContain("flush");
	});

	it("flushes a commit whose flush never ran (the isolate died after the commit) from the alarm", async () => {
		const m = await createMerchant();
		const p = await createPayment(m.sk);
		expect(await scheduledJobs(p.id)).not.toContain("flush");
		// The commit lands; the flush that follows it in the same call never happens.
		await insidePayment(p.id, async ({ core }) => {
			const object = core as unknown as { flush: () => Promise<boolean> };
			object.flush = () => Promise.resolve(false);
			await core.transition("processing", (payment) => payment);
			delete (object as Partial<typeof object>).flush;
		});
		expect(await pendingOutbox(p.id)).toBe(1);
		expect(await eventTypes(p.id)).toEqual(["payment.created"]);
		expect(await scheduledJobs(p.id)).toContain("flush");

		await fireDueJobs(p.id, ["flush"]);
		expect(await pendingOutbox(p.id)).toBe(0);
		expect(await eventTypes(p.id)).toEqual(["payment.created", "payment.processing"]);
		expect(await scheduledJobs(p.id)).not.toContain("flush");
	});

	it("flushes several queued transitions in order, with the ledger posting, exactly once", async () => {
		const m = await createMerchant();
		const p = await createPayment(m.sk, { amount: 4200 });
		const restore = await breakD1(p.id);
		await transitionPayment(p.id, "processing");
		await markSucceeded(p.id, { amountReceived: 4200, processor: "solana", balance: "available" });
		expect(await pendingOutbox(p.id)).toBe(2);
		expect(await merchantBalance(env.DB, m.merchant.id, false)).toEqual({
			available: [],
			pending: [],
		});

		await restore();
		await fireDueJobs(p.id, ["flush"]);
		await fireDueJobs(p.id, ["flush"]);
		expect(await pendingOutbox(p.id)).toBe(0);
		expect(await eventTypes(p.id)).toEqual([
			"payment.created",
			"payment.processing",
			"payment.succeeded",
		]);
		expect(await projectedRow(p.id)).toEqual({
			status: "succeeded",
			version: 3,
			amount_received: 4200,
		});
		expect(await merchantBalance(env.DB, m.merchant.id, false)).toEqual({
			available: [{ currency: "usd", amount: 4200n }],
			pending: [],
		});
		for (const total of (await ledgerTotals(env.DB)).values()) expect(total).toBe(0n);
	});

	it("creates a payment while D1 is down: readable at once, listed once D1 is back", async () => {
		const m = await createMerchant();
		const id = newId("payment");
		const restore = await breakD1(id);
		const now = Math.floor(Date.now() / 1000);
		await paymentObject(id).create({
			id,
			merchant_id: m.merchant.id,
			livemode: false,
			amount: 1000,
			currency: "usd",
			payment_method_types: ["solana"],
			description: null,
			metadata: {},
			success_url: null,
			cancel_url: null,
			checkout_url: `http://127.0.0.1:8787/checkout/${id}`,
			expires_at: now + 3600,
			created: now,
		});
		expect(await pendingOutbox(id)).toBe(1);
		expect((await call("GET", `/v1/payments/${id}`, { key: m.sk })).status).toBe(200);
		const listed = await json<{ data: PaymentJson[] }>(
			await call("GET", "/v1/payments", { key: m.sk }),
		);
		expect(listed.data.map((x) => x.id)).not.toContain(id);

		await restore();
		await fireDueJobs(id, ["flush"]);
		const after = await json<{ data: PaymentJson[] }>(
			await call("GET", "/v1/payments", { key: m.sk }),
		);
		expect(after.data.map((x) => x.id)).toContain(id);
		expect(await eventTypes(id)).toEqual(["payment.created"]);
	});

	it("never lets an older snapshot overwrite a newer projection", async () => {
		const m = await createMerchant();
		const p = await createPayment(m.sk);
		await paymentObject(p.id).cancel(null);
		const current = await paymentObject(p.id).get();
		if (!current) throw new Error("payment missing");
		const stale = {
			...current,
			status: "requires_payment" as const,
			version: 1,
		};
		await projectOutboxEntry(env.DB, {
			event: { id: "evt_00000000000000000000000000000A", type: "payment.created", created: 0 },
			payment: stale,
			transfers: [],
		});
		expect(await projectedRow(p.id)).toMatchObject({ status: "canceled", version: 2 });
	});
});
