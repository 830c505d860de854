import {
	createExecutionContext,
	createMessageBatch,
	createScheduledController,
	getQueueResult,
	waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { projectOutboxEntry } from "../../../src/db/projection";
import { newId } from "../../../src/domain/ids";
import { newPaymentRecord, type PaymentRecord } from "../../../src/domain/payment";
import { dayOf } from "../../../src/domain/rollups";
import worker from "../../../src/index";
import { runRollups } from "../../../src/services/rollups";
import { ADMIN_TOKEN, call, createMerchant, createPayment, json } from "./api";
import { recordConversionMessages } from "./objects";
import { payTransferRequestInFull } from "./solana";
import { deliverAll, stripe } from "./stripe";

/** Real payments, refunds and conversions for the rollup and analytics tests, and the cron. */
export type Merchant = Awaited<ReturnType<typeof createMerchant>>;
export type Paid = { id: string; created: number; succeeded_at: number };

export const today = () => dayOf(Date.now());
export const DAY_S = 86_400;

export async function merchant(): Promise<Merchant> {
	const m = await createMerchant();
	const res = await call("POST", `/admin/v1/merchants/${m.merchant.id}`, {
		key: ADMIN_TOKEN,
		body: { settings: { settlement_currency: "usd" } },
	});
	expect(res.status, await res.clone().text()).toBe(200);
	return m;
}

export async function customer(m: Merchant): Promise<string> {
	const res = await call("POST", "/v1/customers", { key: m.sk, body: { name: "Ada" } });
	expect(res.status, await res.clone().text()).toBe(200);
	return (await json<{ id: string }>(res)).id;
}

export async function paidCard(m: Merchant, amount: number, body: Record<string, unknown> = {}) {
	const p = await createPayment(m.sk, { amount, payment_method_types: ["card"], ...body });
	const opened = await call("POST", `/checkout/${p.id}/card`, { body: {} });
	const { client_secret } = await json<{ client_secret: string }>(opened);
	const intentId = client_secret.slice(0, client_secret.indexOf("_secret_"));
	await stripe.paymentIntents.confirm(intentId, { payment_method: "pm_card_visa" });
	await deliverAll(intentId);
	const paid = await json<Paid & { status: string }>(
		await call("GET", `/v1/payments/${p.id}`, { key: m.sk }),
	);
	expect(paid.status).toBe("succeeded");
	return paid;
}

let messageSeq = 0;

/** A $25.00 SOL payment paid on the local chain and converted to dollars by the queue consumer. */
export async function paidAndConvertedSol(m: Merchant) {
	const p = (await createPayment(m.sk, {
		payment_method_types: ["solana"],
		solana: { token: "SOL" },
	})) as unknown as { id: string; solana: { solana_pay_url: string; amount: string } };
	// The conversion message stays in the test's hands, so no background consumer races it.
	const sent = await recordConversionMessages(p.id);
	await payTransferRequestInFull(p);
	const batch = createMessageBatch(
		"conversions",
		sent.map((body) => ({
			id: `rollup-conv-${++messageSeq}`,
			timestamp: new Date(),
			attempts: 1,
			body,
		})),
	);
	const ctx = createExecutionContext();
	await worker.queue(batch, env, ctx);
	expect((await getQueueResult(batch, ctx)).explicitAcks).toHaveLength(1);
	return json<Paid & { status: string }>(await call("GET", `/v1/payments/${p.id}`, { key: m.sk }));
}

export async function refundAndFinish(
	m: Merchant,
	paymentId: string,
	amount: number,
): Promise<string> {
	const res = await call("POST", "/v1/refunds", {
		key: m.sk,
		body: { payment: paymentId, amount },
	});
	expect(res.status, await res.clone().text()).toBe(200);
	const refund = await json<{ id: string }>(res);
	const batch = createMessageBatch("refunds", [
		{
			id: `rollup-ref-${++messageSeq}`,
			timestamp: new Date(),
			attempts: 1,
			body: { kind: "refund", refund_id: refund.id },
		},
	]);
	const ctx = createExecutionContext();
	await worker.queue(batch, env, ctx);
	await getQueueResult(batch, ctx);
	return refund.id;
}

/** Runs the minute cron exactly as the runtime would. */
export async function runCron(): Promise<void> {
	const ctx = createExecutionContext();
	await worker.scheduled(
		createScheduledController({ cron: "* * * * *", scheduledTime: Date.now() }),
		env,
		ctx,
	);
	await waitOnExecutionContext(ctx);
}

/** Runs the job until the log is drained. */
export async function drain(): Promise<void> {
	for (let i = 0; i < 20; i++) {
		if ((await runRollups(env, Math.floor(Date.now() / 1000))).days === 0) return;
	}
	throw new Error("rollups did not drain");
}

/**
 * A succeeded card payment created at `createdMs`, as its PaymentObject would hold it: history
 * the tests cannot make through the API, which always creates payments now.
 */
export function succeededPayment(
	m: Merchant,
	createdMs: number,
	amount: number,
	options: { customer?: string; livemode?: boolean } = {},
): PaymentRecord {
	const created = Math.floor(createdMs / 1000);
	const record = newPaymentRecord({
		id: newId("payment", createdMs),
		merchant_id: m.merchant.id,
		livemode: options.livemode ?? false,
		customer: options.customer ?? null,
		amount,
		currency: "usd",
		payment_method_types: ["card"],
		description: null,
		metadata: {},
		success_url: null,
		cancel_url: null,
		checkout_url: "https://gateway.test/checkout/x",
		expires_at: created + 3600,
		created,
	});
	return {
		...record,
		status: "succeeded",
		amount_received: amount,
		succeeded_at: created + 12,
		updated: created + 12,
		version: 2,
	};
}

/** Writes a payment's change to D1 as its outbox flush does, with an event minted at `eventMs`. */
export async function project(p: PaymentRecord, type = "payment.succeeded", eventMs = Date.now()) {
	await projectOutboxEntry(env.DB, {
		event: { id: newId("event", eventMs), type, created: Math.floor(eventMs / 1000) },
		payment: p,
		transfers: [],
	});
}
