import { getBase58Decoder, type KeyPairSigner } from "@solana/kit";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { ApiPayment } from "./helpers/api";
import { fundedPayer } from "./helpers/chain";
import {
	type PayerBrowser,
	probeState,
	referenceOf,
	screenshot,
	waitForCountdownPast,
	waitForEntry,
	waitForFreshQuote,
	waitForStatus,
} from "./helpers/checkout";
import { decodeQrPng } from "./helpers/qr";
import { PAYMENT_TIMEOUT_MS, QUOTE_TTL_SECONDS } from "./helpers/settings";
import { type SuccessSite, startSuccessSite } from "./helpers/success-site";
import { setUpSuite } from "./helpers/suite";

// The checkout as a payer sees it: Chromium, the injected "Phantom" signing in Node, and the real
// gateway (wrangler dev) watching the sandbox's local Solana network. The DOM contract the
// scenarios rely on is in the README ("Browser tests").

const { api, gatewayUrl, rpcUrl, payerBrowser, openCheckout, usdPayment } = setUpSuite();

/** A payer starts paying only with this much of the quote left, so the page's re-quote never races it. */
const FRESH_QUOTE_SECONDS = 12;
const USDC = 1_000_000n;
const PAID = /paid/i;

let site: SuccessSite;

/** Opened in beforeAll and left running while the other scenarios pay. */
const background: {
	expiring?: { payment: ApiPayment; view: PayerBrowser; documentId: string };
	requoting?: { payment: ApiPayment; view: PayerBrowser; documentId: string };
} = {};

function base58(bytes: Uint8Array): string {
	return getBase58Decoder().decode(bytes);
}

/** Clicks "Pay with Phantom" once the page holds a quote with time left. */
async function clickPay(page: Page): Promise<void> {
	await waitForFreshQuote(page, FRESH_QUOTE_SECONDS, (QUOTE_TTL_SECONDS + 5) * 1000);
	const button = page.locator("button#pay-wallet:enabled");
	await button.waitFor();
	expect(await button.textContent()).toMatch(/Pay with Phantom/);
	await button.click();
}

/** The payment as the API reports it after the page said "Paid": succeeded, by this payer. */
async function expectSettled(payment: ApiPayment, payer: KeyPairSigner, signature: Uint8Array) {
	const settled = await api.getPayment(payment.id);
	expect(settled.status).toBe("succeeded");
	expect(settled.solana?.signature).toBe(base58(signature));
	expect(settled.solana?.payer).toBe(payer.address);
	return settled;
}

beforeAll(async () => {
	site = await startSuccessSite();
	// The expiring payment's minute and the first quote's 30 s run while the other scenarios pay.
	const expiring = await usdPayment({ amount: 1500, expires_in: 60, description: "Expires soon" });
	const expiringView = await payerBrowser();
	background.expiring = {
		payment: expiring,
		view: expiringView,
		documentId: await openCheckout(expiringView, expiring),
	};
	const requoting = await usdPayment({ amount: 1800, description: "Re-quoted" });
	const requotingView = await payerBrowser();
	background.requoting = {
		payment: requoting,
		view: requotingView,
		documentId: await openCheckout(requotingView, requoting),
	};
});

afterAll(async () => {
	await site?.close();
});

describe("checkout scenarios", () => {
	test("pays in USDC through the wallet, shows Paid without reload, then goes to success_url", async () => {
		const payment = await usdPayment({ success_url: `${site.url}/success?order=6735` });
		const payer = await fundedPayer(rpcUrl, { usdc: 100n * USDC });
		const view = await payerBrowser(payer);
		const wallet = view.wallet as NonNullable<PayerBrowser["wallet"]>;
		const documentId = await openCheckout(view, payment);
		const { page } = view;
		expect(await page.locator("select#token").inputValue()).toBe("USDC");
		expect(await page.locator("#token-amount").textContent()).toMatch(/^[\d.,]+ USDC$/);
		await page.locator("#status[role=status]").waitFor();

		await page.locator("button#pay-wallet:enabled").waitFor();
		// The README's picture of the checkout (docs/images/checkout.png) is this one.
		await screenshot(page, "checkout");
		await clickPay(page);
		await waitForStatus(page, { status: "succeeded", text: PAID, documentId }, PAYMENT_TIMEOUT_MS);
		const paidAt = Date.now();
		await screenshot(page, "pay-usdc").catch(() => {
			// The redirect may already be under way; the success page is checked below.
		});
		const signature = wallet.sent[0];
		expect(signature).toBeDefined();
		expect(wallet.log.find((e) => e.method === "signAndSendTransaction")?.request).toMatchObject({
			chain: "solana:localnet",
		});
		await expectSettled(payment, payer, signature as Uint8Array);

		await page.waitForURL((url) => url.href.startsWith(`${site.url}/success`), {
			timeout: 5_000,
			waitUntil: "commit",
		});
		// "A short pause of at most 2 s"; the slack covers timers on a busy two-core machine.
		expect(Date.now() - paidAt).toBeLessThan(2_500);
		await page.locator("#thanks").waitFor();
		await screenshot(page, "pay-usdc-success-page");
	});

	test("pays in SOL after switching the token", async () => {
		const payment = await usdPayment({ amount: 1999 });
		const payer = await fundedPayer(rpcUrl, { lamports: 20_000_000_000n });
		const view = await payerBrowser(payer);
		const wallet = view.wallet as NonNullable<PayerBrowser["wallet"]>;
		const documentId = await openCheckout(view, payment);
		const { page } = view;
		await page.locator("#token-amount", { hasText: /USDC$/ }).waitFor();
		const usdcQr = (await probeState(page)).now.qrUrl;

		await page.locator("select#token").selectOption("SOL");
		await page.locator("#token-amount", { hasText: /^[\d.,]+ SOL$/ }).waitFor();
		// The re-quote is in SOL, under a new reference.
		const requoted = await api.getPayment(payment.id);
		expect(requoted.solana?.token).toBe("SOL");
		expect(requoted.solana?.mint).toBeNull();
		if (usdcQr) expect(requoted.solana?.reference).not.toBe(referenceOf(usdcQr));

		await clickPay(page);
		await waitForStatus(page, { status: "succeeded", text: PAID, documentId }, PAYMENT_TIMEOUT_MS);
		await screenshot(page, "pay-sol");
		const settled = await expectSettled(payment, payer, wallet.sent[0] as Uint8Array);
		expect(settled.solana?.token).toBe("SOL");
	});

	test("shows the wallet's rejection, and a retry pays", async () => {
		const payment = await usdPayment({ amount: 1250 });
		const payer = await fundedPayer(rpcUrl, { usdc: 100n * USDC });
		const view = await payerBrowser(payer);
		const wallet = view.wallet as NonNullable<PayerBrowser["wallet"]>;
		const documentId = await openCheckout(view, payment);
		const { page } = view;

		wallet.rejectNext("signAndSendTransaction");
		await clickPay(page);
		// The page words it for the payer; Phantom's own text is "User rejected the request.".
		const error = page.locator("#wallet-error[role=alert]");
		await error.filter({ hasText: /declined|rejected/i }).waitFor();
		await screenshot(page, "wallet-rejected");
		expect((await probeState(page)).now.status).toBe("requires_payment");
		expect(wallet.sent).toHaveLength(0);

		await clickPay(page);
		await waitForStatus(page, { status: "succeeded", text: PAID, documentId }, PAYMENT_TIMEOUT_MS);
		await screenshot(page, "wallet-rejected-then-paid");
		expect(await error.isVisible()).toBe(false);
		expect(
			wallet.log.filter((e) => e.method === "signAndSendTransaction").map((e) => e.outcome),
		).toEqual(["rejected", "approved"]);
		await expectSettled(payment, payer, wallet.sent[0] as Uint8Array);
	});

	test("the QR code decodes to the transfer request the API returns", async () => {
		const payment = await usdPayment({ amount: 4200, description: "Order 6736" });
		const view = await payerBrowser();
		await openCheckout(view, payment);
		const { page } = view;
		// No wallet in this browser: the page says so and points at the QR code.
		await page.locator("#wallet-hint", { hasText: /No Solana wallet in this browser/ }).waitFor();
		const qr = page.locator("#qr");
		await qr.locator("svg").waitFor();
		await waitForFreshQuote(page, FRESH_QUOTE_SECONDS, (QUOTE_TTL_SECONDS + 5) * 1000);

		const dataUrl = await qr.getAttribute("data-url");
		const href = await page.locator("a#open-in-wallet").getAttribute("href");
		const decoded = decodeQrPng(await qr.screenshot());
		const current = await api.getPayment(payment.id);
		await screenshot(page, "qr-code");
		expect(current.solana?.solana_pay_url).toMatch(/^solana:/);
		expect(decoded).toBe(current.solana?.solana_pay_url);
		expect(dataUrl).toBe(current.solana?.solana_pay_url);
		expect(href).toBe(current.solana?.solana_pay_url);
	});

	test("re-quotes by itself when the quote runs out", async () => {
		const { payment, view, documentId } = background.requoting ?? {};
		if (!payment || !view || !documentId) throw new Error("beforeAll did not open the page");
		const { page } = view;
		const first = (await probeState(page)).entries.find((e) => e.quoteExpiresAt !== null);
		expect(first, "the page never showed #quote-expiry[data-expires-at]").toBeDefined();
		const firstExpiry = Number(first?.quoteExpiresAt);
		expect(firstExpiry).toBe(payment.solana?.quote.expires_at);

		// The countdown moves.
		const countdown = (await probeState(page)).now.quoteExpiryText ?? "";
		await waitForCountdownPast(page, countdown, 3_000);

		// A new expiry and a QR code for the new reference (drawn once the page has fetched it).
		const waitMs = Math.max(0, firstExpiry * 1000 - Date.now()) + 20_000;
		await waitForEntry(
			page,
			documentId,
			{ quoteExpiresAfter: firstExpiry, qrUrlOtherThan: first?.qrUrl ?? "" },
			waitMs,
		);
		const { entries } = await probeState(page);
		const next = entries.find(
			(e) => Number(e.quoteExpiresAt) > firstExpiry && e.qrUrl && e.qrUrl !== first?.qrUrl,
		);
		// By itself: not before the first quote ran out.
		expect(next?.at).toBeGreaterThanOrEqual(firstExpiry * 1000 - 1_000);
		expect(referenceOf(next?.qrUrl ?? "")).not.toBe(referenceOf(first?.qrUrl ?? ""));
		await screenshot(page, "quote-requoted");

		const current = await api.getPayment(payment.id);
		expect(current.status).toBe("requires_payment");
		expect(current.solana?.reference).not.toBe(payment.solana?.reference);
		expect(current.solana?.quote.expires_at).toBeGreaterThan(firstExpiry);
	}, 90_000);

	test("signs in with the wallet: the saved wallet, then the past payment", async () => {
		const payer = await fundedPayer(rpcUrl, { usdc: 100n * USDC });
		// Past payments are the customer's: the merchant knows this payer's wallet and creates the
		// order for them (viewing or paying while signed in attaches nothing; see the README).
		const customer = await api.createCustomer({ name: "Pat", wallets: [payer.address] });
		const view = await payerBrowser(payer);
		const wallet = view.wallet as NonNullable<PayerBrowser["wallet"]>;
		const first = await usdPayment({
			amount: 1234,
			description: "Beans, 250 g",
			customer: customer.id,
		});
		const documentId = await openCheckout(view, first);
		const { page } = view;

		const signInButton = page.locator("button#sign-in");
		await signInButton.waitFor();
		expect(await signInButton.textContent()).toMatch(/Sign in with wallet/);
		await signInButton.click();
		await page.locator("#account .saved-wallet", { hasText: payer.address }).waitFor();
		const signIn = wallet.log.find((e) => e.method === "signIn");
		expect(signIn?.outcome).toBe("approved");
		const text = signIn?.request.method === "signIn" ? signIn.request.text : "";
		expect(text).toContain(
			`${new URL(gatewayUrl).host} wants you to sign in with your Solana account:\n${payer.address}`,
		);
		await screenshot(page, "signed-in");

		await clickPay(page);
		await waitForStatus(page, { status: "succeeded", text: PAID, documentId }, PAYMENT_TIMEOUT_MS);

		// The payer comes back for the next order: still signed in, the first one listed as paid.
		const second = await usdPayment({ amount: 990, description: "Filter papers" });
		await page.goto(second.checkout_url);
		await page.locator("#account .saved-wallet", { hasText: payer.address }).waitFor();
		const past = page.locator("#account .past-payment");
		await past.filter({ hasText: /\$12\.34.*Paid/ }).waitFor();
		expect(await past.count()).toBe(1);
		await screenshot(page, "signed-in-past-payment");

		// Signing out ends the session on the server too: a reload shows no one signed in.
		await page.locator("button#sign-out").click();
		await signInButton.waitFor();
		await page.locator("#account .saved-wallet").first().waitFor({ state: "hidden" });
		await page.reload();
		await signInButton.waitFor();
		expect(await page.locator("#account .saved-wallet").first().isVisible()).toBe(false);
	});

	test("shows the payment expired without reload", async () => {
		const { payment, view, documentId } = background.expiring ?? {};
		if (!payment || !view || !documentId) throw new Error("beforeAll did not open the page");
		const { page } = view;
		const waitMs = Math.max(0, payment.expires_at * 1000 - Date.now()) + 30_000;
		await waitForEntry(page, documentId, { status: "expired" }, waitMs);
		const { entries, now } = await probeState(page);
		expect(now.statusText).toMatch(/expired/i);
		const expiredAt = entries.find((e) => e.status === "expired")?.at ?? 0;
		// Live: shortly after the expiry alarm, not at some later reload.
		expect(expiredAt).toBeGreaterThanOrEqual(payment.expires_at * 1000 - 1_000);
		expect(expiredAt).toBeLessThan(payment.expires_at * 1000 + 20_000);
		await screenshot(page, "payment-expired");
		expect((await api.getPayment(payment.id)).status).toBe("expired");
	}, 90_000);
});
