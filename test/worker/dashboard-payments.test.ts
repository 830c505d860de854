import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { SolanaPaymentDetails } from "../../src/domain/payment";
import {
	call,
	cancelPayment,
	createMerchant,
	createPayment,
	json,
	type PaymentJson,
} from "./helpers/api";
import { type Browser, field, signedIn } from "./helpers/dashboard";
import { payTransferRequestInFull } from "./helpers/solana";
import { deliverAll, stripe } from "./helpers/stripe";

// The dashboard's payments: filters and search return exactly the matching payments of the
// session's merchant and mode, the detail page shows the payment's history, and the refund
// form makes one refund however often it is sent.

/** A card payment paid through the Stripe emulator, as a payer would. */
async function paidByCard(key: string, body: Record<string, unknown> = {}): Promise<PaymentJson> {
	const p = await createPayment(key, { payment_method_types: ["card"], ...body });
	const opened = await call("POST", `/checkout/${p.id}/card`, { body: {} });
	const { client_secret } = await json<{ client_secret: string }>(opened);
	const intentId = client_secret.slice(0, client_secret.indexOf("_secret_"));
	await stripe.paymentIntents.confirm(intentId, { payment_method: "pm_card_visa" });
	await deliverAll(intentId);
	return json<PaymentJson>(await call("GET", `/v1/payments/${p.id}`, { key }));
}

/** A SOL payment paid on the sandbox chain from its Solana Pay URL; returns it and its signature. */
async function paidInSol(key: string, body: Record<string, unknown> = {}) {
	const p = (await createPayment(key, {
		payment_method_types: ["solana"],
		solana: { token: "SOL" },
		...body,
	})) as PaymentJson & { solana: SolanaPaymentDetails };
	const signature = await payTransferRequestInFull(p);
	const paid = await json<PaymentJson>(await call("GET", `/v1/payments/${p.id}`, { key }));
	expect(paid.status).toBe("succeeded");
	return { payment: paid, signature };
}

describe("payments list", () => {
	let m: Awaited<ReturnType<typeof createMerchant>>;
	let browser: Browser;
	const ids: Record<string, string> = {};
	let signature = "";

	beforeAll(async () => {
		m = await createMerchant("Filters Coffee");
		const customer = await json<{ id: string }>(
			await call("POST", "/v1/customers", {
				key: m.sk,
				body: { email: "Jenny.Rosen@Example.com" },
			}),
		);
		ids.open = (await createPayment(m.sk, { amount: 1000, metadata: { reference: "ORD-1" } })).id;
		ids.canceled = (await cancelPayment(m.sk, (await createPayment(m.sk, { amount: 5000 })).id)).id;
		ids.card = (await paidByCard(m.sk, { amount: 2500, metadata: { order_id: "ORD-2" } })).id;
		ids.customer = (await createPayment(m.sk, { amount: 7000, customer: customer.id })).id;
		const sol = await paidInSol(m.sk, { amount: 4000 });
		ids.sol = sol.payment.id;
		signature = sol.signature;
		// Other merchants' and the other mode's payments, with the same reference, never show.
		const other = await createMerchant("Elsewhere");
		await createPayment(other.sk, { amount: 1000, metadata: { reference: "ORD-1" } });
		await createPayment(m.skLive, { amount: 1000, metadata: { reference: "ORD-1" } });
		browser = await signedIn(m.sk);
	});

	it("lists the mode's payments, newest first", async () => {
		expect(await browser.paymentIds("")).toEqual([
			ids.sol,
			ids.customer,
			ids.card,
			ids.canceled,
			ids.open,
		]);
	});

	it("filters by status, method and amount range, exactly", async () => {
		expect(await browser.paymentIds("status=succeeded")).toEqual([ids.sol, ids.card]);
		expect(await browser.paymentIds("status=canceled")).toEqual([ids.canceled]);
		expect(await browser.paymentIds("method=card")).toEqual([ids.card]);
		expect(await browser.paymentIds("method=solana")).toEqual([ids.sol]);
		expect(await browser.paymentIds("amount_min=2500&amount_max=5000")).toEqual([
			ids.sol,
			ids.card,
			ids.canceled,
		]);
		expect(await browser.paymentIds("status=succeeded&amount_max=3000")).toEqual([ids.card]);
	});

	it("filters by date range (UTC days, inclusive)", async () => {
		const today = new Date().toISOString().slice(0, 10);
		const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
		const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
		expect(await browser.paymentIds(`from=${today}&to=${today}`)).toHaveLength(5);
		expect(await browser.paymentIds(`from=${tomorrow}`)).toEqual([]);
		expect(await browser.paymentIds(`to=${yesterday}`)).toEqual([]);
	});

	it("searches by id, reference, order id, signature and customer email", async () => {
		expect(await browser.paymentIds(`q=${ids.card}`)).toEqual([ids.card]);
		expect(await browser.paymentIds("q=ORD-1")).toEqual([ids.open]);
		expect(await browser.paymentIds("q=ORD-2")).toEqual([ids.card]);
		expect(await browser.paymentIds(`q=${signature}`)).toEqual([ids.sol]);
		// Emails match as the API's customer filter does: trimmed, case-insensitive.
		expect(
			await browser.paymentIds(`q=${encodeURIComponent(" jenny.rosen@example.COM ")}`),
		).toEqual([ids.customer]);
		expect(await browser.paymentIds("q=nobody@example.com")).toEqual([]);
		expect(await browser.paymentIds("q=ORD-1&status=succeeded")).toEqual([]);
	});

	it("pages with cursors both ways", async () => {
		const all = await browser.paymentIds("");
		const res = await browser.get(`/dashboard/payments?starting_after=${all[1]}`);
		const html = await res.text();
		expect([...html.matchAll(/<tr data-payment="(pay_\w+)"/g)].map((x) => x[1])).toEqual(
			all.slice(2),
		);
		expect(html).toContain(`ending_before=${all[2]}`);
		expect(await browser.paymentIds(`ending_before=${all[2]}`)).toEqual(all.slice(0, 2));
	});

	it("refuses a bad filter with a clear message instead of ignoring it", async () => {
		const res = await browser.get("/dashboard/payments?status=paid&from=2026-13-01&amount_min=1.5");
		expect(res.status).toBe(400);
		const html = await res.text();
		expect(html).toContain("Unknown status &#39;paid&#39;.");
		expect(html).toContain("is not a date (YYYY-MM-DD)");
		expect(html).toContain("Amounts are whole minor units");
	});

	it("answers each filter from an index, never a scan of the merchant's payments", async () => {
		const method = `(CASE WHEN json_extract(data, '$.solana.signature') IS NOT NULL THEN 'solana' WHEN json_extract(data, '$.card.charge') IS NOT NULL THEN 'card' END)`;
		const plans = {
			payments_dashboard_method_idx: `SELECT data FROM payments WHERE merchant_id = ? AND livemode = ? AND ${method} = 'card' ORDER BY id DESC LIMIT 26`,
			payments_dashboard_reference_idx: `SELECT id FROM payments WHERE merchant_id = ? AND livemode = ? AND json_extract(data, '$.metadata.reference') = 'x'`,
			payments_dashboard_order_idx: `SELECT id FROM payments WHERE merchant_id = ? AND livemode = ? AND json_extract(data, '$.metadata.order_id') = 'x'`,
		};
		for (const [index, sql] of Object.entries(plans)) {
			const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
				.bind(m.merchant.id, 0)
				.all<{ detail: string }>();
			expect(results.map((r) => r.detail).join(" ")).toContain(index);
		}
	});
});

describe("payment detail", () => {
	it("shows amounts, the timeline, ledger postings and the signature linked to the explorer", async () => {
		const m = await createMerchant();
		const { payment, signature } = await paidInSol(m.sk, {
			amount: 2500,
			metadata: { reference: "R-9" },
		});
		const browser = await signedIn(m.sk);
		const res = await browser.get(`/dashboard/payments/${payment.id}`);
		expect(res.status).toBe(200);
		const html = await res.text();
		expect(html).toContain("25.00 USD");
		// wrangler.toml's local cluster: the explorer is pointed at the sandbox's RPC.
		const rpc = env.SOLANA_RPC_URLS.split(",")[0] as string;
		expect(html).toContain(
			`href="https://explorer.solana.com/tx/${signature}?cluster=custom&amp;customUrl=${encodeURIComponent(rpc)}"`,
		);
		const { results: events } = await env.DB.prepare(
			"SELECT id, type FROM events WHERE object_id = ?",
		)
			.bind(payment.id)
			.all<{ id: string; type: string }>();
		expect(events.map((e) => e.type)).toContain("payment.succeeded");
		for (const e of events) expect(html).toContain(e.id);
		expect(html).toContain("requires_payment → succeeded");
		const { results: postings } = await env.DB.prepare(
			"SELECT p.account FROM ledger_postings p JOIN ledger_transfers t ON t.id = p.transfer_id WHERE t.reference = ?",
		)
			.bind(payment.id)
			.all<{ account: string }>();
		expect(postings.length).toBeGreaterThan(1);
		for (const p of postings) expect(html).toContain(p.account);
		expect(html).toContain("R-9");
	});

	it("another merchant's payment and the other mode's are not found", async () => {
		const m = await createMerchant();
		const other = await createMerchant();
		const theirs = await createPayment(other.sk);
		const live = await createPayment(m.skLive);
		const browser = await signedIn(m.sk);
		for (const id of [theirs.id, live.id, "pay_nope"]) {
			const res = await browser.get(`/dashboard/payments/${id}`);
			expect(res.status).toBe(404);
			expect(await res.text()).toContain("No such payment");
		}
	});
});

describe("refund form", () => {
	it("creates exactly one refund when the same form is sent twice", async () => {
		const m = await createMerchant();
		const p = await paidByCard(m.sk, { amount: 10_000 });
		const browser = await signedIn(m.sk);
		const page = await (await browser.get(`/dashboard/payments/${p.id}`)).text();
		const form = {
			csrf: field(page, "csrf"),
			form_token: field(page, "form_token"),
			amount: "30.00",
			reason: "requested_by_customer",
		};
		const first = await browser.post(`/dashboard/payments/${p.id}/refunds`, form);
		const second = await browser.post(`/dashboard/payments/${p.id}/refunds`, form);
		expect(first.status).toBe(303);
		expect(second.headers.get("Location")).toBe(first.headers.get("Location"));
		const refundId = /refunded=(re_\w+)/.exec(first.headers.get("Location") ?? "")?.[1] as string;
		const list = await json<{ data: { id: string; amount: number; reason: string }[] }>(
			await call("GET", `/v1/refunds?payment=${p.id}`, { key: m.sk }),
		);
		expect(list.data).toEqual([
			expect.objectContaining({ id: refundId, amount: 3000, reason: "requested_by_customer" }),
		]);
		const shown = await (await browser.get(first.headers.get("Location") as string)).text();
		expect(shown).toContain(`Refund ${refundId} created.`);
		expect(shown).toContain(`data-refund="${refundId}"`);
		// The pending refund holds its amount: the form offers what is left after it.
		expect(shown).toContain("0.00 USD (30.00 USD pending)");
		expect(shown).toContain("empty refunds all 70.00 USD left");
		// The same token for another amount is refused; a fresh form refunds the rest.
		const reused = await browser.post(`/dashboard/payments/${p.id}/refunds`, {
			...form,
			amount: "1.00",
		});
		expect(reused.status).toBe(422);
		const rest = await browser.post(`/dashboard/payments/${p.id}/refunds`, {
			csrf: form.csrf,
			form_token: field(shown, "form_token"),
		});
		expect(rest.status).toBe(303);
		const after = await json<{ data: { amount: number }[] }>(
			await call("GET", `/v1/refunds?payment=${p.id}`, { key: m.sk }),
		);
		expect(after.data.map((r) => r.amount).sort()).toEqual([3000, 7000]);
	});

	it("shows the refund service's refusal and frees the form to be corrected", async () => {
		const m = await createMerchant();
		const p = await paidByCard(m.sk, { amount: 1000 });
		const browser = await signedIn(m.sk);
		const page = await (await browser.get(`/dashboard/payments/${p.id}`)).text();
		const form = { csrf: field(page, "csrf"), form_token: field(page, "form_token") };
		const tooMuch = await browser.post(`/dashboard/payments/${p.id}/refunds`, {
			...form,
			amount: "10.01",
		});
		expect(tooMuch.status).toBe(400);
		expect(await tooMuch.text()).toMatch(/more than is left to refund/);
		const bad = await browser.post(`/dashboard/payments/${p.id}/refunds`, {
			...form,
			amount: "ten",
		});
		expect(bad.status).toBe(400);
		expect(await bad.text()).toContain("is not an amount in USD");
		const ok = await browser.post(`/dashboard/payments/${p.id}/refunds`, {
			...form,
			amount: "10.00",
		});
		expect(ok.status).toBe(303);
	});

	it("cannot refund another merchant's payment", async () => {
		const m = await createMerchant();
		const other = await createMerchant();
		const theirs = await paidByCard(other.sk, { amount: 1000 });
		const browser = await signedIn(m.sk);
		const page = await (await browser.get("/dashboard/keys")).text();
		const res = await browser.post(`/dashboard/payments/${theirs.id}/refunds`, {
			csrf: field(page, "csrf"),
			form_token: "A".repeat(32),
		});
		expect(res.status).toBe(404);
		const list = await json<{ data: unknown[] }>(
			await call("GET", `/v1/refunds?payment=${theirs.id}`, { key: other.sk }),
		);
		expect(list.data).toEqual([]);
	});
});
