import { copyFileSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { gatewayJson } from "../../scripts/lib/gateway-api";
import type { PaymentObjectJson } from "../../src/domain/payment";
import { fundedPayer, rpc, signAndSend } from "./helpers/chain";
import { screenshot } from "./helpers/checkout";
import { CHROMIUM_PATH } from "./helpers/chromium";
import { STEP_TIMEOUT_MS } from "./helpers/settings";
import { type StackMerchant, sharedStack, until } from "./helpers/stack";

// The merchant dashboard in Chromium against wrangler dev: open test mode with the test secret key, find a
// payment paid on the local chain, see the overview's charts drawn, refund from the detail page.

const stack = sharedStack();
let merchant: StackMerchant;
let payment: PaymentObjectJson;
let browser: Browser;
const DOCS_IMAGE = fileURLToPath(new URL("../../docs/images/dashboard.png", import.meta.url));

/** A $25.00 USDC payment paid through its transaction request, as a wallet would. */
async function paidPayment(): Promise<PaymentObjectJson> {
	const created = await merchant.api<PaymentObjectJson>("/v1/payments", {
		amount: 2500,
		currency: "usd",
		payment_method_types: ["solana"],
		solana: { token: "USDC" },
		description: "Two flat whites",
		metadata: { reference: "ORDER-1042" },
	});
	const payer = await fundedPayer(stack.rpcUrl, { usdc: 100_000_000n });
	const { transaction } = (await gatewayJson(stack.gatewayUrl, `/solana-pay/${created.id}`, {
		method: "POST",
		body: { account: payer.address },
	})) as { transaction: string };
	await signAndSend(stack.rpcUrl, payer, transaction);
	return until(
		"the payment to succeed",
		() => merchant.api<PaymentObjectJson>(`/v1/payments/${created.id}`),
		(p) => p.status === "succeeded",
	);
}

/** Fires the minute cron (rollups for the overview), which wrangler dev never fires itself. */
async function runMinuteCron(): Promise<void> {
	const url = new URL("/__scheduled", stack.gatewayUrl);
	url.searchParams.set("cron", "* * * * *");
	const res = await fetch(url);
	expect(res.ok, await res.text()).toBe(true);
}

/**
 * Runs the minute cron until the rollups count the paid payment. A run rebuilds a bounded number of
 * merchant-days, and the other suites' merchants on the shared stack may come first.
 */
async function rollupsCountPayment(): Promise<void> {
	const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
	const from = day(payment.created * 1000);
	const to = day(Date.now());
	await until(
		"the rollups to count the paid payment",
		async () => {
			await runMinuteCron();
			return merchant.api<{ totals: { succeeded: number } }>(
				`/v1/analytics/summary?from=${from}&to=${to}`,
			);
		},
		(summary) => summary.totals.succeeded >= 1,
	);
}

beforeAll(async () => {
	merchant = await stack.merchant("Dashboard Coffee");
	payment = await paidPayment();
	// The settlement wallet pays the crypto refund's network fee.
	await rpc(stack.rpcUrl, "requestAirdrop", [payment.solana?.recipient, 10_000_000_000]);
	browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true });
});

afterAll(async () => {
	await browser?.close();
});

/** A fresh browser context at desktop size, collecting CSP violations and page errors. */
async function openPage(): Promise<{ page: Page; problems: string[] }> {
	const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
	const page = await context.newPage();
	page.setDefaultTimeout(STEP_TIMEOUT_MS);
	const problems: string[] = [];
	page.on("console", (msg) => {
		if (msg.type() === "error") problems.push(msg.text());
	});
	page.on("pageerror", (error) => problems.push(error.message));
	return { page, problems };
}

describe("merchant dashboard in Chromium", () => {
	test("sign in, find the paid payment, see the charts, refund from the detail page", async () => {
		const { page, problems } = await openPage();
		await page.goto(`${stack.gatewayUrl}/dashboard/payments`);
		// Not signed in: sent to sign-in, which brings the merchant back to the payments.
		await page.waitForURL(/\/dashboard\/sign-in\?next=/);
		// The test-mode secret key (a local convenience behind its own disclosure; people use passkeys).
		await page.click("#test-key summary");
		await page.fill("#secret-key", merchant.secretKey);
		await page.click("#test-key button[type=submit]");
		await page.waitForURL(/\/dashboard\/payments$/);
		const cookies = await page.context().cookies();
		expect(cookies.find((c) => c.name === "sp_dashboard")).toMatchObject({
			httpOnly: true,
			sameSite: "Strict",
			path: "/dashboard",
		});
		const row = page.locator(`tr[data-payment="${payment.id}"]`);
		await expect.poll(() => row.count()).toBe(1);
		const cells = await row.locator("td").allTextContents();
		expect(cells.slice(1, 5)).toEqual(["25.00 USD", "succeeded", "Solana · USDC", "ORDER-1042"]);
		await page.fill("#q", "ORDER-1042");
		await page.click("form[aria-label='Filter payments'] button[type=submit]");
		await page.waitForURL(/q=ORDER-1042/);
		expect(await page.locator("tr[data-payment]").count()).toBe(1);
		await screenshot(page, "dashboard-payments");

		await rollupsCountPayment();
		await page.goto(`${stack.gatewayUrl}/dashboard`);
		const canvas = page.locator("#chart-volume .uplot canvas").first();
		await canvas.waitFor({ state: "visible" });
		const box = await canvas.boundingBox();
		expect(box?.width).toBeGreaterThan(100);
		expect(box?.height).toBeGreaterThan(100);
		expect(await page.locator(".uplot").count()).toBe(5);
		expect(await page.locator("#totals").textContent()).toContain("25.00 USD");
		await screenshot(page, "dashboard-overview");
		mkdirSync(fileURLToPath(new URL("../../docs/images/", import.meta.url)), { recursive: true });
		copyFileSync(await screenshot(page, "dashboard-overview"), DOCS_IMAGE);

		await page.goto(`${stack.gatewayUrl}/dashboard/payments`);
		await page.click(`tr[data-payment="${payment.id}"] a`);
		await page.waitForURL(new RegExp(`/dashboard/payments/${payment.id}$`));
		const explorer = await page.locator("#explorer-link").getAttribute("href");
		expect(explorer).toBe(
			`https://explorer.solana.com/tx/${payment.solana?.signature}?cluster=custom&customUrl=${encodeURIComponent(stack.rpcUrl)}`,
		);
		expect(await page.locator("#timeline").textContent()).toContain("payment.succeeded");
		expect(await page.locator("#postings tr").count()).toBeGreaterThan(2);
		await page.fill("#refund-amount", "10.00");
		await page.selectOption("#refund-reason", "requested_by_customer");
		await page.click("#refund-submit");
		await page.waitForURL(/refunded=re_/);
		const refundId = new URL(page.url()).searchParams.get("refunded") as string;
		await expect.poll(() => page.locator(`tr[data-refund="${refundId}"]`).count()).toBe(1);
		expect(await page.locator(`tr[data-refund="${refundId}"] td`).nth(1).textContent()).toBe(
			"10.00 USD",
		);
		await screenshot(page, "dashboard-payment-refunded");
		const refunds = await merchant.api<{ data: { id: string; amount: number }[] }>(
			`/v1/refunds?payment=${payment.id}`,
		);
		expect(refunds.data).toEqual([expect.objectContaining({ id: refundId, amount: 1000 })]);
		expect(problems).toEqual([]);
	});
});
