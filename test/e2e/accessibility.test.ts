import type { Page } from "playwright-core";
import { beforeAll, describe, expect, test } from "vitest";
import { describeViolations, seriousViolations } from "./helpers/axe";
import { fundedPayer } from "./helpers/chain";
import { type PayerBrowser, screenshot } from "./helpers/checkout";
import { PAYMENT_TIMEOUT_MS } from "./helpers/settings";
import { type StackMerchant, sharedStack } from "./helpers/stack";
import { setUpSuite } from "./helpers/suite";

// axe-core on every page a person sees: the checkout in each of its states, the payment-link
// pages, the dashboard's sign-in and every dashboard page signed in. No serious or critical
// violation is allowed.

const { api, rpcUrl, payerBrowser, openCheckout, usdPayment } = setUpSuite();
const stack = sharedStack();
const USDC = 1_000_000n;

async function expectAccessible(page: Page, name: string): Promise<void> {
	const violations = describeViolations(await seriousViolations(page));
	expect(violations, `${name} at ${page.url()}`).toEqual([]);
}

/** Waits until the page has a quote and has looked for a wallet. */
async function settled(page: Page): Promise<void> {
	await page.locator("#token-amount", { hasText: /\d/ }).waitFor();
	await page.locator("main#checkout[data-wallet]").waitFor({ state: "attached" });
}

test("the check finds what it should: an unnamed button and an image without text", async () => {
	const { page } = await payerBrowser();
	await page.setContent(
		'<!DOCTYPE html><html lang="en"><title>t</title><main><button></button><img src="data:,"></main></html>',
	);
	const found = (await seriousViolations(page)).map((v) => v.id).sort();
	expect(found).toEqual(expect.arrayContaining(["button-name", "image-alt"]));
});

describe("checkout", () => {
	let paying: { view: PayerBrowser; release: () => void } | undefined;

	test("awaiting payment with a wallet, in light and dark colours", async () => {
		const payer = await fundedPayer(rpcUrl);
		const view = await payerBrowser(payer);
		await openCheckout(view, await usdPayment());
		await settled(view.page);
		await view.page.locator("button#pay-wallet:enabled").waitFor();
		await expectAccessible(view.page, "awaiting payment");
		await view.page.emulateMedia({ colorScheme: "dark" });
		await screenshot(view.page, "checkout-dark");
		await expectAccessible(view.page, "awaiting payment, dark");
	});

	test("no wallet in the browser", async () => {
		const view = await payerBrowser();
		await openCheckout(view, await usdPayment());
		await settled(view.page);
		await view.page.locator("#wallet-hint", { hasText: /No Solana wallet/ }).waitFor();
		await expectAccessible(view.page, "no wallet");
	});

	test("paying: the wallet asked, the transaction being prepared", async () => {
		const payer = await fundedPayer(rpcUrl, { usdc: 100n * USDC });
		const view = await payerBrowser(payer);
		await openCheckout(view, await usdPayment());
		await settled(view.page);
		// The transaction request is held, so the page stays in its paying state while axe looks.
		let release = () => {};
		const released = new Promise<void>((resolve) => {
			release = resolve;
		});
		await view.page.route("**/solana-pay/*", async (route) => {
			await released;
			await route.continue();
		});
		await view.page.locator("button#pay-wallet:enabled").click();
		await view.page.locator("#wallet-hint", { hasText: /Preparing the transaction/ }).waitFor();
		await expectAccessible(view.page, "paying");
		paying = { view, release };
	});

	test("paid, with the receipt", async () => {
		if (!paying) throw new Error("the paying scenario did not run");
		paying.release();
		const { page } = paying.view;
		await page.locator("main#checkout[data-status=succeeded]").waitFor({
			timeout: PAYMENT_TIMEOUT_MS,
		});
		await page.locator("#receipt #receipt-signature[href^='https://explorer']").waitFor();
		await expectAccessible(page, "paid with receipt");
	});

	test("canceled", async () => {
		const payment = await usdPayment();
		const res = await fetch(`${stack.gatewayUrl}/v1/payments/${payment.id}/cancel`, {
			method: "POST",
			headers: {
				Authorization: `Bearer ${api.secretKey}`,
				"Content-Type": "application/json",
				"Idempotency-Key": crypto.randomUUID(),
			},
			body: "{}",
		});
		expect(res.status, await res.clone().text()).toBe(200);
		const view = await payerBrowser();
		await openCheckout(view, payment);
		await view.page.locator("main#checkout[data-status=canceled]").waitFor();
		await expectAccessible(view.page, "canceled");
	});

	test("the card tab, with the test-card hint", async () => {
		const view = await payerBrowser();
		await openCheckout(
			view,
			await usdPayment({ payment_method_types: ["solana", "card"], description: "Card or crypto" }),
		);
		await settled(view.page);
		await view.page.locator("button#tab-card").click();
		await view.page.locator("#card-element iframe").waitFor();
		await view.page.locator("#test-card-hint", { hasText: "4242 4242 4242 4242" }).waitFor();
		await expectAccessible(view.page, "card tab");
	});
});

describe("payment-link pages", () => {
	let merchant: StackMerchant;
	beforeAll(async () => {
		merchant = await stack.merchant("Link Bakery");
	});

	test("a link's visit lands on its checkout; unknown and inactive links explain themselves", async () => {
		const link = await merchant.api<{ id: string; url: string }>("/v1/payment_links", {
			amount: 900,
			currency: "usd",
			payment_method_types: ["solana"],
			description: "Sourdough loaf",
			solana: { token: "USDC" },
		});
		const view = await payerBrowser();
		await view.page.goto(link.url);
		await view.page.waitForURL(/\/checkout\/pay_/);
		await settled(view.page);
		await expectAccessible(view.page, "payment link's checkout");

		const missing = await view.page.goto(`${stack.gatewayUrl}/l/plink_00000000000000000000000000`);
		expect(missing?.status()).toBe(404);
		await expectAccessible(view.page, "unknown payment link");

		await merchant.api(`/v1/payment_links/${link.id}`, { active: false });
		const inactive = await view.page.goto(link.url);
		expect(inactive?.status()).toBe(410);
		await expectAccessible(view.page, "inactive payment link");
	});
});

describe("dashboard", () => {
	test("sign-in, sign-up and every page signed in", async () => {
		const merchant = await stack.merchant("Accessible Roasters");
		const payment = await merchant.api<{ id: string }>("/v1/payments", {
			amount: 2500,
			currency: "usd",
			payment_method_types: ["solana"],
			solana: { token: "USDC" },
			description: "Two flat whites",
		});
		const endpoint = await merchant.api<{ id: string }>("/v1/webhook_endpoints", {
			url: "https://example.com/hooks",
			enabled_events: ["payment.succeeded"],
		});
		const { page } = await payerBrowser();
		await page.setViewportSize({ width: 1280, height: 900 });

		await page.goto(`${stack.gatewayUrl}/dashboard/sign-up`);
		await expectAccessible(page, "sign-up");
		await page.goto(`${stack.gatewayUrl}/dashboard/sign-in`);
		await expectAccessible(page, "sign-in");
		await page.click("#test-key summary");
		await expectAccessible(page, "sign-in, test key open");
		await page.fill("#secret-key", merchant.secretKey);
		await page.click("#test-key button[type=submit]");
		await page.waitForURL((url) => !url.pathname.startsWith("/dashboard/sign-in"));

		const pages = [
			"/dashboard",
			"/dashboard/payments",
			`/dashboard/payments/${payment.id}`,
			"/dashboard/balances",
			"/dashboard/reports",
			"/dashboard/keys",
			"/dashboard/team",
			"/dashboard/webhooks",
			`/dashboard/webhooks/${endpoint.id}`,
			"/dashboard/rules",
			"/dashboard/settings",
			"/dashboard/audit",
			"/dashboard/account",
		];
		for (const path of pages) {
			const res = await page.goto(`${stack.gatewayUrl}${path}`);
			expect(res?.status(), path).toBe(200);
			await expectAccessible(page, path);
		}
	});
});
