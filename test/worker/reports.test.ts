import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { CardPaymentDetails } from "../../src/domain/card-details";
import type { RefundJson } from "../../src/domain/refund";
import worker from "../../src/index";
import { buildReport, type Report } from "../../src/services/reports";
import {
	call,
	createMerchant,
	createPayment,
	expectApiError,
	json,
	type ListJson,
	type PaymentJson,
} from "./helpers/api";
import { captureLogs } from "./helpers/logs";
import { deliverAll, stripe } from "./helpers/stripe";
import { captureQueue, createEndpoint, runWebhooks, sink } from "./helpers/webhooks";

type Payment = PaymentJson & { card: CardPaymentDetails | null };
type Merchant = Awaited<ReturnType<typeof createMerchant>>;

const today = () => new Date().toISOString().slice(0, 10);
const iso = (s: number) => new Date(s * 1000).toISOString().replace(".000Z", "Z");

async function paidCard(
	m: Merchant,
	amount: number,
	metadata: Record<string, string>,
	description: string,
) {
	const p = await createPayment(m.sk, {
		amount,
		payment_method_types: ["card"],
		metadata,
		description,
	});
	const opened = await call("POST", `/checkout/${p.id}/card`, { body: {} });
	const { client_secret } = await json<{ client_secret: string }>(opened);
	const intentId = client_secret.slice(0, client_secret.indexOf("_secret_"));
	await stripe.paymentIntents.confirm(intentId, { payment_method: "pm_card_visa" });
	await deliverAll(intentId);
	const paid = await json<Payment>(await call("GET", `/v1/payments/${p.id}`, { key: m.sk }));
	expect(paid.status).toBe("succeeded");
	return paid;
}

let messageSeq = 0;

/** Refunds part of a payment and runs the refunds queue's consumer on it. */
async function refunded(m: Merchant, paymentId: string, amount: number): Promise<RefundJson> {
	const res = await call("POST", "/v1/refunds", {
		key: m.sk,
		body: { payment: paymentId, amount },
	});
	expect(res.status, await res.clone().text()).toBe(200);
	const refund = await json<RefundJson>(res);
	const batch = createMessageBatch("refunds", [
		{
			id: `rpt-refund-${++messageSeq}`,
			timestamp: new Date(),
			attempts: 1,
			body: { kind: "refund", refund_id: refund.id },
		},
	]);
	const ctx = createExecutionContext();
	await worker.queue(batch, env, ctx);
	await getQueueResult(batch, ctx);
	const done = await json<RefundJson>(await call("GET", `/v1/refunds/${refund.id}`, { key: m.sk }));
	expect(done.status).toBe("succeeded");
	return done;
}

async function postReport(key: string, body: unknown, headers: Record<string, string> = {}) {
	return call("POST", "/v1/reports", { key, body, headers });
}

async function r2Text(key: string): Promise<string> {
	const object = await env.REPORTS_BUCKET?.get(key);
	if (!object) throw new Error(`no R2 object ${key}`);
	return object.text();
}

const HEADER =
	"type,id,created,status,method,amount,amount_decimal,currency,fee,fee_decimal,net,net_decimal,token,token_amount,token_amount_decimal,token_fee,token_fee_decimal,processor_reference,payment,customer,description,metadata\r\n";

describe("transactions report", () => {
	it("writes every payment and refund of the day to R2 as CSV and JSON, exactly", async () => {
		const m = await createMerchant();
		// A description a spreadsheet would run as a formula is written as text.
		const p = await paidCard(m, 10_000, { order_id: "6735" }, "=cmd|' /C calc'!A0");
		const refund = await refunded(m, p.id, 4_000);
		const open = await createPayment(m.sk, {
			amount: 1_234,
			currency: "eur",
			description: "Mug, blue",
			payment_method_types: ["card"],
		});

		const res = await postReport(m.sk, { type: "transactions", from: today(), to: today() });
		expect(res.status, await res.clone().text()).toBe(200);
		const report = await json<Report>(res);
		expect(report).toEqual({
			id: expect.stringMatching(/^rpt_[0-9A-HJKMNP-TV-Z]{30}$/),
			object: "report",
			livemode: false,
			type: "transactions",
			from: today(),
			to: today(),
			status: "ready",
			formats: ["csv", "json"],
			rows: 3,
			size_bytes: expect.any(Number),
			created: expect.any(Number),
			ready_at: expect.any(Number),
			failure_reason: null,
		});

		const intent = p.card?.payment_intent as string;
		const stripeRefund = refund.card?.stripe_refund as string;
		const csvKey = `reports/${m.merchant.id}/test/${report.id}.csv`;
		const csv = await r2Text(csvKey);
		expect(csv).toBe(
			HEADER +
				`payment,${p.id},${iso(p.created)},succeeded,card,10000,100.00,usd,320,3.20,9680,96.80,,,,,,${intent},${p.id},,'=cmd|' /C calc'!A0,"{""order_id"":""6735""}"\r\n` +
				`payment,${open.id},${iso(open.created)},requires_payment,card,1234,12.34,eur,0,0.00,0,0.00,,,,,,,${open.id},,"Mug, blue",\r\n` +
				`refund,${refund.id},${iso(refund.created)},succeeded,card,-4000,-40.00,usd,0,0.00,-4000,-40.00,,,,,,${stripeRefund},${p.id},,,\r\n`,
		);
		const jsonFile = JSON.parse(await r2Text(`reports/${m.merchant.id}/test/${report.id}.json`));
		expect(jsonFile).toEqual({
			object: "report_file",
			report: {
				id: report.id,
				type: "transactions",
				livemode: false,
				from: today(),
				to: today(),
				created: report.created,
			},
			data: [
				expect.objectContaining({
					type: "payment",
					id: p.id,
					amount: 10000,
					amount_decimal: "100.00",
					fee: 320,
					net: 9680,
					processor_reference: intent,
					description: "=cmd|' /C calc'!A0",
					metadata: { order_id: "6735" },
				}),
				expect.objectContaining({ type: "payment", id: open.id, description: "Mug, blue" }),
				expect.objectContaining({ type: "refund", id: refund.id, amount: -4000, payment: p.id }),
			],
			rows: 3,
		});
		expect(report.size_bytes).toBe(
			new TextEncoder().encode(csv).length +
				new TextEncoder().encode(await r2Text(`reports/${m.merchant.id}/test/${report.id}.json`))
					.length,
		);

		// The download streams the same bytes, as an attachment.
		const download = await call("GET", `/v1/reports/${report.id}/download?format=csv`, {
			key: m.sk,
		});
		expect(download.status).toBe(200);
		expect(download.headers.get("Content-Type")).toBe("text/csv; charset=utf-8");
		expect(download.headers.get("Content-Disposition")).toBe(
			`attachment; filename="transactions-${today()}-${today()}-${report.id}.csv"`,
		);
		expect(download.headers.get("Content-Length")).toBe(
			String(new TextEncoder().encode(csv).length),
		);
		expect(await download.text()).toBe(csv);
		const asJson = await call("GET", `/v1/reports/${report.id}/download?format=json`, {
			key: m.sk,
		});
		expect(asJson.headers.get("Content-Type")).toBe("application/json");
		expect(await asJson.json()).toEqual(jsonFile);

		// One report.ready event, carrying the report, as webhooks see it.
		const { results } = await env.DB.prepare(
			"SELECT type, merchant_id, livemode, data, published FROM events WHERE object_id = ?",
		)
			.bind(report.id)
			.all<{
				type: string;
				merchant_id: string;
				livemode: number;
				data: string;
				published: number;
			}>();
		expect(results).toHaveLength(1);
		expect(results[0]).toMatchObject({
			type: "report.ready",
			merchant_id: m.merchant.id,
			livemode: 0,
			published: expect.any(Number),
		});
		expect(JSON.parse(results[0]?.data as string)).toEqual(report);
		const events = await json<ListJson<{ type: string; data: { object: Report } }>>(
			await call("GET", `/v1/events?object_id=${report.id}`, { key: m.sk }),
		);
		expect(events.data.map((e) => e.type)).toEqual(["report.ready"]);
	});

	it("delivers report.ready to the merchant's webhook endpoints like every other event", async () => {
		const m = await createMerchant();
		const receiver = sink();
		const endpoint = await createEndpoint(m.sk, {
			url: receiver.url,
			enabled_events: ["report.ready"],
		});
		const webhooks = captureQueue();
		const report = await buildReport(
			{ ...env, WEBHOOKS_QUEUE: webhooks.queue },
			{
				merchantId: m.merchant.id,
				livemode: false,
				type: "settlement",
				from: today(),
				to: today(),
			},
			Math.floor(Date.now() / 1000),
		);
		expect(webhooks.sent).toEqual([{ kind: "event", event_id: expect.stringMatching(/^evt_/) }]);
		// Fanned out to the endpoint subscribed to report.ready, then delivered to it.
		const deliveries = captureQueue();
		await runWebhooks(
			webhooks.sent.map((body) => ({ body })),
			{ env: { WEBHOOKS_QUEUE: deliveries.queue } },
		);
		expect(deliveries.sent).toEqual([
			{
				kind: "delivery",
				event_id: (webhooks.sent[0] as { event_id: string }).event_id,
				endpoint_id: endpoint.id,
			},
		]);
		const result = await runWebhooks(deliveries.sent.map((body) => ({ body })));
		expect(result.retryMessages).toEqual([]);
		const [delivery] = await receiver.received();
		const event = JSON.parse(delivery?.body ?? "{}");
		expect(event).toMatchObject({ object: "event", type: "report.ready", livemode: false });
		expect(event.data.object).toEqual(report);
	});

	it("lists reports newest first with cursors and retrieves one", async () => {
		const m = await createMerchant();
		const ids: string[] = [];
		for (const type of ["transactions", "settlement", "transactions"]) {
			const res = await postReport(m.sk, { type, from: today(), to: today() });
			ids.push((await json<Report>(res)).id);
		}
		const page1 = await json<ListJson<Report>>(
			await call("GET", "/v1/reports?limit=2", { key: m.sk }),
		);
		expect(page1.data.map((r) => r.id)).toEqual([ids[2], ids[1]]);
		expect(page1.has_more).toBe(true);
		expect(page1.url).toBe("/v1/reports");
		const page2 = await json<ListJson<Report>>(
			await call("GET", `/v1/reports?limit=2&starting_after=${ids[1]}`, { key: m.sk }),
		);
		expect(page2.data.map((r) => r.id)).toEqual([ids[0]]);
		expect(page2.has_more).toBe(false);
		const back = await json<ListJson<Report>>(
			await call("GET", `/v1/reports?limit=1&ending_before=${ids[0]}`, { key: m.sk }),
		);
		expect(back.data.map((r) => r.id)).toEqual([ids[1]]);
		const one = await call("GET", `/v1/reports/${ids[0]}`, { key: m.sk });
		expect((await json<Report>(one)).id).toBe(ids[0]);
		await expectApiError(
			await call("GET", "/v1/reports?starting_after=pay_x", { key: m.sk }),
			"parameter_invalid",
			"starting_after",
		);
	});

	it("shows a report to its merchant and mode only: 404 for everyone else", async () => {
		const a = await createMerchant();
		const b = await createMerchant();
		const report = await json<Report>(
			await postReport(a.sk, { type: "transactions", from: today(), to: today() }),
		);
		for (const key of [b.sk, a.skLive]) {
			await expectApiError(
				await call("GET", `/v1/reports/${report.id}`, { key }),
				"resource_missing",
				"id",
			);
			await expectApiError(
				await call("GET", `/v1/reports/${report.id}/download?format=csv`, { key }),
				"resource_missing",
				"id",
			);
			const list = await json<ListJson<Report>>(await call("GET", "/v1/reports", { key }));
			expect(list.data.map((r) => r.id)).not.toContain(report.id);
		}
		await expectApiError(
			await call("GET", "/v1/reports/rpt_nope/download", { key: a.sk }),
			"resource_missing",
			"id",
		);
	});

	it("refuses bad periods and types in the house error shape", async () => {
		const m = await createMerchant();
		const cases: [unknown, string][] = [
			[{ type: "transactions", from: "2026-02-30", to: "2026-03-01" }, "from"],
			[{ type: "transactions", from: "2026-03-01", to: "03/02/2026" }, "to"],
			[{ type: "transactions", from: "2026-03-02", to: "2026-03-01" }, "to"],
			[{ type: "transactions", from: "2024-01-01", to: "2025-01-01" }, "to"],
			[{ type: "transactions", from: today(), to: "2999-01-01" }, "to"],
			[{ type: "payouts", from: today(), to: today() }, "type"],
			[{ from: today(), to: today() }, "type"],
			[{ type: "settlement", from: today(), to: today(), extra: 1 }, "extra"],
		];
		for (const [body, param] of cases) {
			const error = await expectApiError(await postReport(m.sk, body), "parameter_invalid", param);
			expect(error.message.length).toBeGreaterThan(5);
		}
		await expectApiError(
			await call("GET", "/v1/reports/rpt_x/download?format=pdf", { key: m.sk }),
			"parameter_invalid",
			"format",
		);
		const { results } = await env.DB.prepare("SELECT id FROM reports WHERE merchant_id = ?")
			.bind(m.merchant.id)
			.all();
		expect(results).toEqual([]);
	});

	it("replays a POST with the same Idempotency-Key: one report", async () => {
		const m = await createMerchant();
		const body = { type: "settlement", from: today(), to: today() };
		const first = await postReport(m.sk, body, { "Idempotency-Key": "rpt-key-1" });
		const second = await postReport(m.sk, body, { "Idempotency-Key": "rpt-key-1" });
		expect(second.status).toBe(first.status);
		expect(await json(second)).toEqual(await json(first));
		const { results } = await env.DB.prepare("SELECT id FROM reports WHERE merchant_id = ?")
			.bind(m.merchant.id)
			.all();
		expect(results).toHaveLength(1);
	});
});

describe("large reports", () => {
	/** The reports queue, recorded: the test decides when the consumer runs. */
	function recorder() {
		const sent: unknown[] = [];
		const queue = {
			send: async (body: unknown) => void sent.push(body),
			sendBatch: async (messages: { body: unknown }[]) => {
				for (const msg of messages) sent.push(msg.body);
			},
		} as unknown as Queue<unknown>;
		return { sent, env: { ...env, REPORTS_QUEUE: queue } };
	}

	async function consume(body: unknown, attempts = 1, withEnv: Cloudflare.Env = env) {
		const batch = createMessageBatch("reports", [
			{ id: `rpt-msg-${++messageSeq}`, timestamp: new Date(), attempts, body },
		]);
		const delays: (number | undefined)[] = [];
		for (const message of batch.messages) {
			const retry = message.retry.bind(message);
			Object.defineProperty(message, "retry", {
				value: (options?: QueueRetryOptions) => {
					delays.push(options?.delaySeconds);
					retry(options);
				},
			});
		}
		const ctx = createExecutionContext();
		await worker.queue(batch, withEnv, ctx);
		return { ...(await getQueueResult(batch, ctx)), delays };
	}

	it("answers 202 pending past 31 days, 409 on download until the queue has built it", async () => {
		const m = await createMerchant();
		const p = await createPayment(m.sk, { amount: 777 });
		const q = recorder();
		const from = new Date(Date.now() - 40 * 86_400_000).toISOString().slice(0, 10);
		const ctx = createExecutionContext();
		const res = await worker.fetch(
			new Request("http://gateway.test/v1/reports", {
				method: "POST",
				headers: { Authorization: `Bearer ${m.sk}`, "Content-Type": "application/json" },
				body: JSON.stringify({ type: "transactions", from, to: today() }),
			}),
			q.env,
			ctx,
		);
		expect(res.status).toBe(202);
		const pending = await json<Report>(res);
		expect(pending).toMatchObject({
			status: "pending",
			rows: null,
			size_bytes: null,
			ready_at: null,
		});
		expect(q.sent).toEqual([{ kind: "build", report_id: pending.id }]);
		await expectApiError(
			await call("GET", `/v1/reports/${pending.id}/download?format=csv`, { key: m.sk }),
			"resource_conflict",
		);

		const first = await consume(q.sent[0]);
		expect(first.explicitAcks).toHaveLength(1);
		const ready = await json<Report>(await call("GET", `/v1/reports/${pending.id}`, { key: m.sk }));
		expect(ready).toMatchObject({ status: "ready", rows: 1 });
		const csv = await (
			await call("GET", `/v1/reports/${pending.id}/download?format=csv`, { key: m.sk })
		).text();
		expect(csv).toContain(`payment,${p.id},`);

		// The same message again: nothing is rebuilt, no second event.
		const again = await consume(q.sent[0]);
		expect(again.explicitAcks).toHaveLength(1);
		expect(
			await json<Report>(await call("GET", `/v1/reports/${pending.id}`, { key: m.sk })),
		).toEqual(ready);
		const listed = await env.REPORTS_BUCKET?.list({ prefix: `reports/${m.merchant.id}/` });
		expect(listed?.objects.map((o) => o.key).sort()).toEqual([
			`reports/${m.merchant.id}/test/${pending.id}.csv`,
			`reports/${m.merchant.id}/test/${pending.id}.json`,
		]);
		const { results } = await env.DB.prepare("SELECT id FROM events WHERE object_id = ?")
			.bind(pending.id)
			.all();
		expect(results).toHaveLength(1);
	});

	it("retries a failed build with backoff, then marks the report failed and records the give-up", async () => {
		const logs = captureLogs();
		const m = await createMerchant();
		const q = recorder();
		const from = new Date(Date.now() - 40 * 86_400_000).toISOString().slice(0, 10);
		const ctx = createExecutionContext();
		const res = await worker.fetch(
			new Request("http://gateway.test/v1/reports", {
				method: "POST",
				headers: { Authorization: `Bearer ${m.sk}`, "Content-Type": "application/json" },
				body: JSON.stringify({ type: "settlement", from, to: today() }),
			}),
			q.env,
			ctx,
		);
		const pending = await json<Report>(res);
		const broken = { ...env, REPORTS_BUCKET: undefined } as unknown as Cloudflare.Env;
		const retried = await consume(q.sent[0], 1, broken);
		expect(retried.retryMessages).toHaveLength(1);
		expect(retried.delays).toEqual([60]);
		expect((await consume(q.sent[0], 3, broken)).delays).toEqual([240]);
		const last = await consume(q.sent[0], 5, broken);
		expect(last.explicitAcks).toHaveLength(1);
		expect(
			await json<Report>(await call("GET", `/v1/reports/${pending.id}`, { key: m.sk })),
		).toMatchObject({
			status: "failed",
			failure_reason: "The report could not be built. Request it again.",
		});
		const failure = await env.DB.prepare(
			"SELECT error, attempts FROM queue_failures WHERE body LIKE ?",
		)
			.bind(`%${pending.id}%`)
			.first<{ error: string; attempts: number }>();
		expect(failure).toEqual({ error: "Reports need the REPORTS_BUCKET R2 binding", attempts: 5 });
		expect(logs.find("error", "queue message given up")).toEqual([
			expect.objectContaining({ queue: "reports", attempts: 5 }),
		]);
		// Announced once as report.failed, also when the last attempt is delivered again.
		await consume(q.sent[0], 5, broken);
		const events = await json<{ data: { type: string; data: { object: Report } }[] }>(
			await call("GET", `/v1/events?object_id=${pending.id}`, { key: m.sk }),
		);
		expect(events.data.map((e) => e.type)).toEqual(["report.failed"]);
		expect(events.data[0]?.data.object).toMatchObject({ id: pending.id, status: "failed" });
		await expectApiError(
			await call("GET", `/v1/reports/${pending.id}/download?format=json`, { key: m.sk }),
			"resource_conflict",
		);
	});

	it("gives up on a day's reports: both failed, each announced once as report.failed", async () => {
		const logs = captureLogs();
		const m = await createMerchant();
		const broken = { ...env, REPORTS_BUCKET: undefined } as unknown as Cloudflare.Env;
		const daily = { kind: "daily", merchant_id: m.merchant.id, livemode: false, date: today() };
		expect((await consume(daily, 1, broken)).delays).toEqual([60]);
		expect((await consume(daily, 5, broken)).explicitAcks).toHaveLength(1);
		await consume(daily, 5, broken);
		const reports = await json<{ data: Report[] }>(await call("GET", "/v1/reports", { key: m.sk }));
		expect(reports.data.map((r) => [r.type, r.status]).sort()).toEqual([
			["settlement", "failed"],
			["transactions", "failed"],
		]);
		const events = await json<{ data: { type: string; data: { object: Report } }[] }>(
			await call("GET", "/v1/events?type=report.failed", { key: m.sk }),
		);
		expect(events.data.map((e) => e.data.object.id).sort()).toEqual(
			reports.data.map((r) => r.id).sort(),
		);
		// The first give-up is logged; the redelivered last attempt is recorded again, so logged again.
		expect(logs.find("error", "queue message given up")).toEqual([
			expect.objectContaining({ queue: "reports", attempts: 5 }),
			expect.objectContaining({ queue: "reports", attempts: 5 }),
		]);
	});

	it("acknowledges a message that is not a reports message, recording it", async () => {
		const logs = captureLogs();
		const result = await consume({ kind: "mystery" });
		expect(result.explicitAcks).toHaveLength(1);
		const row = await env.DB.prepare("SELECT error FROM queue_failures WHERE body = ?")
			.bind(JSON.stringify({ kind: "mystery" }))
			.first<{ error: string }>();
		expect(row?.error).toBe("not a reports message");
		expect(logs.find("error", "queue message given up")).toEqual([
			expect.objectContaining({ queue: "reports", attempts: 1, error: "not a reports message" }),
		]);
	});
});
