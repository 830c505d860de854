import type { KeyPairSigner } from "@solana/kit";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { formatTokenAmount } from "../../src/domain/checkout";
import { walletBrowseLinks } from "../../src/domain/checkout-format";
import { type ApiPayment, MerchantApi } from "./helpers/api";
import { fundedPayer } from "./helpers/chain";
import { screenshot } from "./helpers/checkout";
import { CHROMIUM_PATH } from "./helpers/chromium";
import { PAYMENT_TIMEOUT_MS, STEP_TIMEOUT_MS } from "./helpers/settings";
import { installTestWallet } from "./helpers/wallet-host";

// The checkout as a phone and as a desktop show it: with and without a wallet, paid with its
// receipt, canceled, and in the payer's own language. Every page load is watched for a failed
// request or a console error.

const gatewayUrl = inject("gatewayUrl");
const rpcUrl = inject("solanaRpcUrl");
const api = new MerchantApi(gatewayUrl, inject("secretKey"));
const USDC = 1_000_000n;

const IPHONE_UA =
	"Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1";

const DEVICES = {
	phone: {
		viewport: { width: 390, height: 844 },
		userAgent: IPHONE_UA,
		isMobile: true,
		hasTouch: true,
		deviceScaleFactor: 2,
		timezoneId: "Asia/Tokyo",
	},
	desktop: {
		viewport: { width: 1280, height: 900 },
		deviceScaleFactor: 1,
		timezoneId: "America/New_York",
	},
} as const;
type Device = keyof typeof DEVICES;

let browser: Browser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
	browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true });
});

afterAll(async () => {
	await Promise.allSettled(contexts.map((c) => c.close()));
	await browser?.close();
});

interface Opened {
	page: Page;
	/** Failed requests, HTTP errors and console errors seen since the page opened. */
	problems: string[];
}

async function open(
	device: Device,
	payment: ApiPayment,
	options: { payer?: KeyPairSigner; locale?: string } = {},
): Promise<Opened> {
	const context = await browser.newContext({
		...DEVICES[device],
		locale: options.locale ?? "en-US",
	});
	contexts.push(context);
	context.setDefaultTimeout(STEP_TIMEOUT_MS);
	const page = await context.newPage();
	if (options.payer) await installTestWallet(page, { payer: options.payer, rpcUrl });
	const problems: string[] = [];
	page.on("requestfailed", (r) => problems.push(`failed: ${r.method()} ${r.url()}`));
	page.on("response", (r) => {
		if (r.status() >= 400) problems.push(`${r.status()}: ${r.request().method()} ${r.url()}`);
	});
	page.on("console", (m) => {
		if (m.type() === "error") problems.push(`console: ${m.text()}`);
	});
	page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
	await page.goto(payment.checkout_url);
	await page.locator("#token-amount", { hasText: /\d/ }).waitFor();
	await page.locator("main#checkout[data-wallet]").waitFor({ state: "attached" });
	return { page, problems };
}

/** The visible actions of the crypto panel, top to bottom (copy buttons aside). */
async function visibleActions(page: Page): Promise<string[]> {
	const actions = page.locator(
		"#pay-crypto button:not(.copy):visible, #pay-crypto a.button:visible, #pay-crypto a[href^='solana:']:visible",
	);
	const boxes: { id: string; y: number }[] = [];
	for (const el of await actions.all()) {
		const box = await el.boundingBox();
		boxes.push({ id: (await el.getAttribute("id")) ?? "", y: box?.y ?? 0 });
	}
	return boxes.sort((a, b) => a.y - b.y).map((b) => b.id);
}

/** The clipboard's text, as the page sees it (a page function: no DOM types in this file). */
function readClipboard(page: Page): Promise<string> {
	return page.evaluate(() =>
		(
			globalThis as unknown as { navigator: { clipboard: { readText(): Promise<string> } } }
		).navigator.clipboard.readText(),
	);
}

function usdPayment(overrides: Partial<Parameters<MerchantApi["createPayment"]>[0]> = {}) {
	return api.createPayment({
		amount: 2500,
		currency: "usd",
		payment_method_types: ["solana"],
		description: "Flat white and a croissant",
		solana: { token: "USDC" },
		...overrides,
	});
}

describe("checkout on a phone and on a desktop", () => {
	test("phone without a wallet: Open in Phantom first, then Solflare and the solana: link, with the QR code", async () => {
		const payment = await usdPayment();
		const { page, problems } = await open("phone", payment);
		const links = walletBrowseLinks(payment.checkout_url);
		expect(await page.locator("#open-phantom").getAttribute("href")).toBe(links.phantom);
		expect(await page.locator("#open-solflare").getAttribute("href")).toBe(links.solflare);
		expect(await visibleActions(page)).toEqual(["open-phantom", "open-solflare", "open-in-wallet"]);
		expect(await page.locator("#open-in-wallet").getAttribute("href")).toMatch(/^solana:/);
		// Never a disabled main button; the hint says what to do.
		expect(await page.locator("button#pay-wallet").isVisible()).toBe(false);
		expect(await page.locator("button:disabled:visible").count()).toBe(0);
		await page
			.locator("#wallet-hint", { hasText: /Open this checkout in your wallet app/ })
			.waitFor();
		expect(await page.locator("#qr svg").isVisible()).toBe(true);
		await screenshot(page, "phone-no-wallet");
		expect(problems).toEqual([]);
	});

	test("desktop without a wallet: says to install one or scan the QR code with a phone", async () => {
		const { page, problems } = await open("desktop", await usdPayment());
		await page
			.locator("#wallet-hint", { hasText: /Install Phantom or Solflare, or scan the QR code/ })
			.waitFor();
		expect(await page.locator("#install-wallet").isVisible()).toBe(true);
		expect(await page.locator("#open-in").isVisible()).toBe(false);
		expect(await page.locator("button#pay-wallet").isVisible()).toBe(false);
		expect(await page.locator("button:disabled:visible").count()).toBe(0);
		expect(await page.locator("#qr svg").isVisible()).toBe(true);
		await screenshot(page, "desktop-no-wallet");
		expect(problems).toEqual([]);
	});

	for (const device of ["phone", "desktop"] as const) {
		test(`${device} with a wallet pays with one click and shows the receipt in local time`, async () => {
			const payer = await fundedPayer(rpcUrl, { usdc: 100n * USDC });
			const payment = await usdPayment();
			const { page, problems } = await open(device, payment, { payer });
			// In a wallet's browser (or with the extension) the wallet pays: no "open in" detour.
			expect(await visibleActions(page)).toEqual(["pay-wallet", "open-in-wallet"]);
			expect(await page.locator("#rate").textContent()).toMatch(/^1 USDC = \$\d+\.\d{2}$/);
			await page.locator("button#pay-wallet:enabled").click();
			await page.locator("main#checkout[data-status=succeeded]").waitFor({
				timeout: PAYMENT_TIMEOUT_MS,
			});
			const receipt = page.locator("#receipt");
			await receipt.waitFor();
			const paid = await api.getPayment(payment.id);
			const signature = paid.solana?.signature ?? "";
			expect(await page.locator("#receipt-amount").textContent()).toBe("$25.00");
			expect(await page.locator("#receipt-token").textContent()).toMatch(/^[\d.]+ USDC$/);
			expect(await page.locator("#receipt-signature").textContent()).toBe(signature);
			expect(await page.locator("#receipt-signature").getAttribute("href")).toBe(
				`https://explorer.solana.com/tx/${signature}?cluster=custom&customUrl=${encodeURIComponent(rpcUrl)}`,
			);
			// The payer's own time zone, written by the browser.
			const local = new Intl.DateTimeFormat("en-US", {
				dateStyle: "medium",
				timeStyle: "short",
				timeZone: DEVICES[device].timezoneId,
			}).format(new Date((paid.succeeded_at ?? 0) * 1000));
			expect(await page.locator("#receipt-time").textContent()).toBe(local);
			expect(await page.locator("#pay-crypto").isVisible()).toBe(false);
			await screenshot(page, `${device}-paid-receipt`);
			expect(problems).toEqual([]);
		});
	}

	test("copy buttons put the amount and the address on the clipboard", async () => {
		const payment = await usdPayment();
		const { page } = await open("desktop", payment);
		await page.context().grantPermissions(["clipboard-read", "clipboard-write"]);
		await page.locator("button#copy-amount").click();
		await page.locator("button#copy-amount", { hasText: "Copied" }).waitFor();
		const current = await api.getPayment(payment.id);
		const amount = await readClipboard(page);
		// Plain digits with a point, as a wallet's amount field takes them.
		expect(amount).toBe(
			formatTokenAmount(current.solana?.amount ?? "", current.solana?.decimals ?? 0),
		);
		await page.locator("button#copy-address").click();
		expect(await readClipboard(page)).toBe(current.solana?.recipient);
	});

	for (const device of ["phone", "desktop"] as const) {
		test(`${device}: a canceled payment says so and offers nothing to pay`, async () => {
			const payment = await usdPayment();
			const res = await fetch(`${gatewayUrl}/v1/payments/${payment.id}/cancel`, {
				method: "POST",
				headers: {
					Authorization: `Bearer ${api.secretKey}`,
					"Content-Type": "application/json",
					"Idempotency-Key": crypto.randomUUID(),
				},
				body: "{}",
			});
			expect(res.status).toBe(200);
			const context = await browser.newContext({ ...DEVICES[device], locale: "en-US" });
			contexts.push(context);
			const page = await context.newPage();
			await page.goto(payment.checkout_url);
			await page.locator("#status", { hasText: "This payment was canceled" }).waitFor();
			expect(await page.locator("#pay-crypto").isVisible()).toBe(false);
			expect(await page.locator("#receipt").isVisible()).toBe(false);
			await screenshot(page, `${device}-canceled`);
		});
	}

	test("speaks Spanish to a payer whose browser asks for it, amounts and dates for es-ES", async () => {
		const payment = await usdPayment();
		const { page, problems } = await open("phone", payment, { locale: "es-ES" });
		expect(await page.locator("html").getAttribute("lang")).toBe("es");
		expect(await page.locator("#status").textContent()).toBe("Esperando el pago");
		expect(await page.locator("#amount").textContent()).toMatch(/^25,00\s?US\$$/);
		expect(await page.locator("#open-phantom").textContent()).toBe("Abrir en Phantom");
		expect(await page.locator("#token-amount").textContent()).toMatch(/^\d+(,\d+)? USDC$/);
		const expires = new Intl.DateTimeFormat("es-ES", {
			dateStyle: "medium",
			timeStyle: "short",
			timeZone: DEVICES.phone.timezoneId,
		}).format(new Date(payment.expires_at * 1000));
		expect(await page.locator("footer time").textContent()).toBe(expires);
		await screenshot(page, "phone-spanish");
		expect(problems).toEqual([]);
	});
});
