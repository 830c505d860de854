import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createMerchant, createPayment, json } from "./helpers/api";
import { BASE, sessionCookie } from "./helpers/dashboard";
import { liveSessionCookie } from "./helpers/passkey";
import { deliverAll, stripe } from "./helpers/stripe";
import { createEndpoint, recordEvent, runWebhooks, sink } from "./helpers/webhooks";

// The read-only pages: balances and conversions, webhook endpoints and their attempt log, and
// the risk and routing rules, each showing the session's merchant and mode only.

async function page(cookie: string, path: string): Promise<{ status: number; html: string }> {
	const res = await exports.default.fetch(
		new Request(BASE + path, { headers: { Cookie: cookie }, redirect: "manual" }),
	);
	return { status: res.status, html: await res.text() };
}

/** The text of each cell of the table row marked `data-<attr>="<value>"`. */
function rowCells(html: string, attr: string, value: string): string[] {
	const row = new RegExp(`<tr data-${attr}="${value}">(.*?)</tr>`, "s").exec(html)?.[1];
	if (!row) throw new Error(`no row ${attr}=${value}`);
	return [...row.matchAll(/<td[^>]*>(.*?)<\/td>/gs)].map((m) =>
		(m[1] as string)
			.replace(/<[^>]+>/g, " ")
			.replace(/\s+/g, " ")
			.replace(/&quot;/g, '"')
			.replace(/&#39;/g, "'")
			.replace(/&amp;/g, "&")
			.trim(),
	);
}

describe("balances page", () => {
	it("shows the ledger's available and pending balances, as GET /v1/balances does", async () => {
		const m = await createMerchant();
		const cookie = await sessionCookie(m.sk);
		expect((await page(cookie, "/dashboard/balances")).html).toContain('id="no-balance"');
		const p = await createPayment(m.sk, { amount: 10_000, payment_method_types: ["card"] });
		const opened = await call("POST", `/checkout/${p.id}/card`, { body: {} });
		const { client_secret } = await json<{ client_secret: string }>(opened);
		const intentId = client_secret.slice(0, client_secret.indexOf("_secret_"));
		await stripe.paymentIntents.confirm(intentId, { payment_method: "pm_card_visa" });
		await deliverAll(intentId);
		const api = await json<{
			available: { amount: number; currency: string }[];
			pending: { amount: number; currency: string }[];
		}>(await call("GET", "/v1/balances", { key: m.sk }));
		const pending = api.pending.find((b) => b.currency === "usd")?.amount ?? 0;
		const available = api.available.find((b) => b.currency === "usd")?.amount ?? 0;
		expect(pending + available).toBe(9680);
		const { html } = await page(cookie, "/dashboard/balances");
		const money = (minor: number) => `${(minor / 100).toFixed(2)} USD`;
		expect(rowCells(html, "currency", "usd")).toEqual(["usd", money(available), money(pending)]);
		// The live mode has nothing.
		const live = await page(await liveSessionCookie(m.merchant.id), "/dashboard/balances");
		expect(live.html).toContain('id="no-balance"');
	});
});

describe("webhooks pages", () => {
	it("lists the mode's endpoints and each one's attempts; another merchant's is not found", async () => {
		const m = await createMerchant();
		const receiver = sink();
		const endpoint = await createEndpoint(m.sk, { url: receiver.url, description: "Orders" });
		const event = await recordEvent(m.merchant.id, { type: "payment.created" });
		await runWebhooks([{ body: { kind: "event", event_id: event.id } }]);
		expect(await receiver.waitFor(1)).toHaveLength(1);
		const other = await createMerchant();
		const theirs = await createEndpoint(other.sk, { url: sink().url });
		const cookie = await sessionCookie(m.sk);
		const list = await page(cookie, "/dashboard/webhooks");
		expect(rowCells(list.html, "endpoint", endpoint.id).slice(0, 4)).toEqual([
			endpoint.id,
			receiver.url,
			"*",
			"succeeded enabled",
		]);
		expect(list.html).not.toContain(theirs.id);
		const detail = await page(cookie, `/dashboard/webhooks/${endpoint.id}`);
		expect(detail.status).toBe(200);
		const attempt = /<tr data-attempt="(wha_\w+)">/.exec(detail.html)?.[1] as string;
		const cells = rowCells(detail.html, "attempt", attempt);
		expect(cells[1]).toBe(`payment.created ${event.id}`);
		expect(cells[2]).toBe("1");
		expect(cells[3]).toBe("succeeded 200");
		expect((await page(cookie, `/dashboard/webhooks/${theirs.id}`)).status).toBe(404);
		const live = await page(
			await liveSessionCookie(m.merchant.id),
			`/dashboard/webhooks/${endpoint.id}`,
		);
		expect(live.status).toBe(404);
	});
});

describe("rules page", () => {
	it("shows the current risk and routing rules of the session's mode", async () => {
		const m = await createMerchant();
		expect(
			(
				await call("PUT", "/v1/risk_rules", {
					key: m.sk,
					body: {
						review_at: 40,
						rules: [{ id: "cap", kind: "amount", currency: "USD", max: 100_000 }],
					},
				})
			).status,
		).toBe(200);
		expect(
			(
				await call("PUT", "/v1/routing_rules", {
					key: m.sk,
					body: {
						strategy: "priority",
						rules: [
							{
								id: "eu-cards",
								description: "European cards via Stripe",
								conditions: { methods: ["card"], currencies: ["EUR"] },
								action: { processor: "stripe", settings: { capture_method: "manual" } },
							},
						],
					},
				})
			).status,
		).toBe(200);
		const { html } = await page(await sessionCookie(m.sk), "/dashboard/rules");
		expect(html).toContain('<dd id="review-at">40</dd>');
		expect(html).toContain('<dd id="block-at">90</dd>');
		expect(rowCells(html, "rule", "cap")).toEqual([
			"cap",
			"amount",
			"action: block currency: usd max: 100000",
		]);
		expect(html).toContain('<dd id="strategy">priority</dd>');
		expect(rowCells(html, "rule", "eu-cards")).toEqual([
			"1",
			"eu-cards European cards via Stripe",
			'methods: ["card"] currencies: ["eur"]',
			"stripe capture_method: manual",
		]);
		const live = await page(await liveSessionCookie(m.merchant.id), "/dashboard/rules");
		expect(live.html).toContain("No rules beyond the built-in sanctions screen.");
		expect(live.html).toContain("No rules: every method the payment accepts is offered.");
	});
});
