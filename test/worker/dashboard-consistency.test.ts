import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { postingAmount } from "../../src/dashboard/payment-data";
import { paymentStub } from "../../src/services/payments";
import { call, createMerchant, createPayment, json, type PaymentJson } from "./helpers/api";
import { BASE, field, sessionCookie } from "./helpers/dashboard";
import { person, stepUpWith } from "./helpers/passkey";
import { deliverAll, stripe } from "./helpers/stripe";

// The dashboard agrees with itself: the overview's today is the payments list's today, a card
// payment shows no token amount from a quote it did not use, the timeline has only real
// transitions, ledger amounts read as money, and an unpaid payment can be opened or canceled.

async function page(cookie: string, path: string): Promise<string> {
	const res = await exports.default.fetch(
		new Request(`${BASE}${path}`, { headers: { Cookie: cookie } }),
	);
	expect(res.status, path).toBe(200);
	return res.text();
}

async function paidByCard(key: string, body: Record<string, unknown> = {}): Promise<PaymentJson> {
	const p = await createPayment(key, { payment_method_types: ["card"], ...body });
	const opened = await call("POST", `/checkout/${p.id}/card`, { body: {} });
	const { client_secret } = await json<{ client_secret: string }>(opened);
	const intentId = client_secret.slice(0, client_secret.indexOf("_secret_"));
	await stripe.paymentIntents.confirm(intentId, { payment_method: "pm_card_visa" });
	await deliverAll(intentId);
	return p;
}

function totals(html: string): string {
	return /<div class="stats" id="totals">([\s\S]*?)<\/div>\s*<\/div>/.exec(html)?.[1] ?? "";
}

describe("the overview", () => {
	it("counts today's payments as the list does, with no rollup run, and says as of when", async () => {
		const m = await createMerchant("Overview Now");
		const cookie = await sessionCookie(m.sk);
		await paidByCard(m.sk, { amount: 1500 });
		await createPayment(m.sk, { amount: 900 });
		await createPayment(m.sk, { amount: 700 });
		const html = await page(cookie, "/dashboard");
		// No runRollups here: today is rebuilt from the payments on the view itself.
		expect(totals(html)).toContain("<b>3</b>");
		expect(totals(html)).toContain("Payments (1 succeeded)");
		expect(totals(html)).toContain("15.00 USD");
		const asOf =
			/<p class="muted" id="as-of">As of <time datetime="([^"]+)">(\d\d:\d\d:\d\d) UTC<\/time>/.exec(
				html,
			);
		expect(asOf).not.toBeNull();
		expect(Math.abs(Date.parse(asOf?.[1] ?? "") - Date.now())).toBeLessThan(60_000);
		expect(asOf?.[1]?.slice(11, 19)).toBe(asOf?.[2]);

		// A payment made after the first view shows on the next one at once.
		await paidByCard(m.sk, { amount: 500 });
		const again = totals(await page(cookie, "/dashboard"));
		expect(again).toContain("<b>4</b>");
		expect(again).toContain("Payments (2 succeeded)");
	});
});

describe("a payment's detail", () => {
	it("shows no token amount for a card payment quoted in a token it never used; an open crypto quote shows", async () => {
		const m = await createMerchant("Card Detail");
		const cookie = await sessionCookie(m.sk);
		const card = await paidByCard(m.sk, {
			amount: 2000,
			payment_method_types: ["card", "solana"],
			solana: { token: "USDC" },
		});
		const quoted = await paymentStub(env, card.id).get();
		expect(quoted?.solana?.amount).toBeTruthy();
		expect(quoted?.status).toBe("succeeded");
		const html = await page(cookie, `/dashboard/payments/${card.id}`);
		expect(html).not.toContain("Token amount");
		expect(html).not.toContain("USDC");

		const open = await createPayment(m.sk, {
			amount: 2000,
			payment_method_types: ["card", "solana"],
			solana: { token: "USDC" },
		});
		expect(await page(cookie, `/dashboard/payments/${open.id}`)).toMatch(
			/<dd id="token-amount">[\d.]+ USDC<\/dd>/,
		);
	});

	it("never shows a transition to the status it came from, though the object records one", async () => {
		const m = await createMerchant("Timeline");
		const cookie = await sessionCookie(m.sk);
		const p = await createPayment(m.sk, {
			payment_method_types: ["solana"],
			solana: { token: "USDC" },
		});
		// A re-quote in another token is a new version in the same status.
		const requote = await call("POST", `/v1/payments/${p.id}/quote`, {
			key: m.sk,
			body: { token: "SOL" },
		});
		expect(requote.status).toBe(200);
		const history = await paymentStub(env, p.id).history();
		expect(history.some((t) => t.from === t.to)).toBe(true);
		const html = await page(cookie, `/dashboard/payments/${p.id}`);
		const timeline = /<table id="timeline">([\s\S]*?)<\/table>/.exec(html)?.[1] ?? "";
		expect(timeline).toContain("created → requires_payment");
		expect(timeline).not.toContain("requires_payment → requires_payment");
	});

	it("formats ledger amounts as money, never raw minor or base units", async () => {
		const m = await createMerchant("Ledger Money");
		const cookie = await sessionCookie(m.sk);
		const p = await paidByCard(m.sk, { amount: 2345 });
		const html = await page(cookie, `/dashboard/payments/${p.id}`);
		const postings = /<table id="postings">([\s\S]*?)<\/table>/.exec(html)?.[1] ?? "";
		const amounts = [...postings.matchAll(/<td class="num">([^<]*)<\/td>/g)].map((x) => x[1]);
		expect(amounts.length).toBeGreaterThan(0);
		for (const amount of amounts) expect(amount).toMatch(/^-?\d+\.\d{2} USD$/);
		expect(amounts).toContain("23.45 USD");
		expect(amounts).toContain("-23.45 USD");

		expect(postingAmount(env, -1500, "jpy")).toBe("-1500 JPY");
		expect(postingAmount(env, 1_500_000_000, "sol")).toBe("1.5 SOL");
		expect(postingAmount(env, 2_500_000, "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v")).toBe(
			"2.5 USDC",
		);
		expect(postingAmount(env, 1_000_001, "PYUSDSandboxMint111111111111111111111111111")).toBe(
			"1.000001 PYUSD",
		);
		expect(postingAmount(env, 7, "UnknownMint1111111111111111111111111111111")).toBe(
			"7 base units",
		);
	});
});

describe("an unpaid payment", () => {
	it("links its checkout and offers a cancel that needs a fresh passkey check", async () => {
		const m = await createMerchant("Cancel Shop");
		const owner = await person(m.merchant.id, "owner");
		const p = await createPayment(m.sk, { amount: 1200 });
		const html = await (await owner.browser.get(`/dashboard/payments/${p.id}`)).text();
		expect(html).toContain(`id="checkout-link" href="${p.checkout_url}"`);
		expect(html).toContain(`action="/dashboard/payments/${p.id}/cancel"`);
		const csrf = field(html, "csrf");

		// The passkey check of registration, made stale: the cancel waits behind a new one.
		await env.DB.prepare("UPDATE session_step_ups SET stepped_up_at = stepped_up_at - 360").run();
		const stale = await owner.browser.post(`/dashboard/payments/${p.id}/cancel`, { csrf });
		expect(stale.status).toBe(403);
		expect(await stale.text()).toMatch(/Confirm it('|&#39;)s you/);
		expect((await paymentStub(env, p.id).get())?.status).toBe("requires_payment");

		expect((await stepUpWith(owner, csrf)).status).toBe(200);
		const canceled = await owner.browser.post(`/dashboard/payments/${p.id}/cancel`, { csrf });
		expect(canceled.status).toBe(303);
		expect(canceled.headers.get("Location")).toBe(`/dashboard/payments/${p.id}?canceled=1`);
		expect((await paymentStub(env, p.id).get())?.status).toBe("canceled");
		const after = await (await owner.browser.get(`/dashboard/payments/${p.id}?canceled=1`)).text();
		expect(after).toContain('id="cancel-notice"');
		expect(after).not.toContain('id="checkout-link"');
		expect(after).not.toContain("/cancel");
	});

	it("is not offered to an analyst, who is refused the cancel itself", async () => {
		const m = await createMerchant("Analyst Shop");
		const analyst = await person(m.merchant.id, "analyst");
		const p = await createPayment(m.sk, { amount: 800 });
		const html = await (await analyst.browser.get(`/dashboard/payments/${p.id}`)).text();
		expect(html).toContain('id="checkout-link"');
		expect(html).not.toContain("/cancel");
		const csrf = field(html, "csrf");
		const res = await analyst.browser.post(`/dashboard/payments/${p.id}/cancel`, { csrf });
		expect(res.status).toBe(403);
		expect((await paymentStub(env, p.id).get())?.status).toBe("requires_payment");
	});

	it("a paid payment has neither", async () => {
		const m = await createMerchant("Paid Shop");
		const cookie = await sessionCookie(m.sk);
		const p = await paidByCard(m.sk, { amount: 1000 });
		const html = await page(cookie, `/dashboard/payments/${p.id}`);
		expect(html).not.toContain('id="checkout-link"');
		expect(html).not.toContain("/cancel");
	});
});
