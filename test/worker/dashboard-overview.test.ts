import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { ChartSpec } from "../../src/dashboard/chart-spec";
import worker from "../../src/index";
import { runRollups } from "../../src/services/rollups";
import { call, createMerchant, createPayment, json } from "./helpers/api";
import { BASE, sessionCookie } from "./helpers/dashboard";
import { liveSessionCookie } from "./helpers/passkey";
import { deliverAll, stripe } from "./helpers/stripe";

// The overview: an empty state before any payment, then charts drawn from the analytics
// summaries (the rollups) of the session's merchant and mode only.

async function overview(cookie: string, query = ""): Promise<string> {
	const res = await exports.default.fetch(
		new Request(`${BASE}/dashboard${query}`, { headers: { Cookie: cookie } }),
	);
	expect(res.status).toBe(200);
	return res.text();
}

function charts(html: string): Record<string, ChartSpec> {
	const data = /<script type="application\/json" id="dashboard-data">([^<]*)<\/script>/.exec(html);
	if (!data?.[1]) throw new Error("no chart data on the page");
	const parsed = JSON.parse(data[1]) as { charts: ChartSpec[] };
	return Object.fromEntries(parsed.charts.map((c) => [c.id, c]));
}

async function paidByCard(key: string, amount: number): Promise<string> {
	const p = await createPayment(key, { amount, payment_method_types: ["card"] });
	const opened = await call("POST", `/checkout/${p.id}/card`, { body: {} });
	const { client_secret } = await json<{ client_secret: string }>(opened);
	const intentId = client_secret.slice(0, client_secret.indexOf("_secret_"));
	await stripe.paymentIntents.confirm(intentId, { payment_method: "pm_card_visa" });
	await deliverAll(intentId);
	return p.id;
}

/** Hands a refund to the refunds queue's consumer, as the queue would (Stripe then refunds). */
async function processRefund(refundId: string): Promise<void> {
	const batch = createMessageBatch("refunds", [
		{
			id: `msg-${refundId}`,
			timestamp: new Date(),
			attempts: 1,
			body: { kind: "refund", refund_id: refundId },
		},
	]);
	const ctx = createExecutionContext();
	await worker.queue(batch, env, ctx);
	expect((await getQueueResult(batch, ctx)).explicitAcks).toHaveLength(1);
}

/** Rolls up everything recorded so far, as the minute cron does. */
async function rollUp(): Promise<void> {
	for (let i = 0; i < 20; i++) {
		const result = await runRollups(env, Math.floor(Date.now() / 1000));
		if (result.days === 0) return;
	}
}

describe("overview", () => {
	it("shows a clear empty state before any payment, with no chart data", async () => {
		const m = await createMerchant();
		const html = await overview(await sessionCookie(m.sk));
		expect(html).toContain('id="overview-empty"');
		expect(html).toContain("No succeeded payments in the last 30 days yet.");
		expect(html).not.toContain('id="dashboard-data"');
	});

	it("charts volume by method, success rate, mix and refunds from the merchant's own rollups", async () => {
		const m = await createMerchant();
		const paid = await paidByCard(m.sk, 2500);
		await paidByCard(m.sk, 1500);
		const refund = await json<{ id: string }>(
			await call("POST", "/v1/refunds", { key: m.sk, body: { payment: paid, amount: 500 } }),
		);
		await processRefund(refund.id);
		// Another merchant's and the live mode's payments stay out of this overview.
		const other = await createMerchant();
		await paidByCard(other.sk, 9900);
		await rollUp();
		const cookie = await sessionCookie(m.sk);
		const html = await overview(cookie);
		expect(html).toContain("40.00 USD");
		const byId = charts(html);
		expect(Object.keys(byId)).toEqual(["volume", "success", "methods", "tokens", "refunds"]);
		const volume = byId.volume as ChartSpec;
		expect(volume.unit).toEqual({ kind: "money", currency: "usd", exponent: 2 });
		expect(volume.series.map((s) => s.label)).toEqual(["Card"]);
		// This week's point holds both payments; earlier weeks of the window hold nothing.
		expect(volume.series[0]?.values.at(-1)).toBe(4000);
		expect(volume.series[0]?.values.slice(0, -1).every((v) => v === 0)).toBe(true);
		const success = byId.success as ChartSpec;
		expect(success.x).toHaveLength(30);
		expect(success.series[0]?.values.at(-1)).toBe(1);
		expect(byId.methods?.categories).toEqual(["Card"]);
		expect(byId.methods?.series[0]?.values).toEqual([2]);
		expect(byId.tokens?.x).toEqual([]);
		expect(byId.refunds?.series[0]?.values.at(-1)).toBe(500);
		const live = await overview(await liveSessionCookie(m.merchant.id));
		expect(live).toContain('id="overview-empty"');
	});
});
