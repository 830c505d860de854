import type { FrameLocator, Page } from "playwright-core";
import { describe, expect, test } from "vitest";
import type { ApiPayment } from "./helpers/api";
import { screenshot, waitForStatus } from "./helpers/checkout";
import { PAYMENT_TIMEOUT_MS } from "./helpers/settings";
import { setUpSuite } from "./helpers/suite";

// Card payments on the checkout, as a payer makes them: the page loads the sandbox's stand-in
// Stripe.js, the card inputs live in its frame on the Stripe emulator's origin, confirmPayment
// goes from the browser to the emulator, and "Paid" reaches the page only through the emulator's
// signed webhook → the gateway's /webhooks/stripe → the payment's object → its WebSocket.

const { api, payerBrowser, openCheckout, usdPayment } = setUpSuite();

const PAID = /paid/i;
const EXPIRY = `12 / ${String((new Date().getFullYear() + 3) % 100).padStart(2, "0")}`;
const CARD_FRAME = "#card-element iframe";

/** The card inputs, inside the stand-in Payment Element's frame. */
function cardForm(page: Page): FrameLocator {
	return page.frameLocator(CARD_FRAME);
}

async function fillCard(page: Page, number: string): Promise<void> {
	const form = cardForm(page);
	await form.getByLabel("Card number").fill(number);
	await form.getByLabel("Expiration date").fill(EXPIRY);
	await form.getByLabel("Security code").fill("123");
	await form.getByLabel("ZIP code").fill("94107");
}

async function clickPayByCard(page: Page): Promise<void> {
	await page.locator("button#pay-card-button:enabled").click();
}

/** The Stripe emulator's origin, read from the card frame the page mounted. */
async function emulatorOrigin(page: Page): Promise<string> {
	const src = await page.locator(CARD_FRAME).getAttribute("src");
	return new URL(src ?? "").origin;
}

/** The payment after "Paid": succeeded through its PaymentIntent, the whole amount received. */
async function expectPaidByCard(payment: ApiPayment): Promise<string> {
	const settled = await api.getPayment(payment.id);
	expect(settled.status).toBe("succeeded");
	expect(settled.amount_received).toBe(payment.amount);
	expect(settled.card).toMatchObject({ intent_status: "succeeded", last_payment_error: null });
	return settled.card?.payment_intent as string;
}

function cardPayment(amount: number, description: string): Promise<ApiPayment> {
	return api.createPayment({
		amount,
		currency: "usd",
		payment_method_types: ["card"],
		description,
	});
}

describe("card scenarios", () => {
	test("pays with 4242 on the Card tab and shows Paid without reload, by the emulator's signed webhook", async () => {
		const payment = await usdPayment({
			amount: 2500,
			payment_method_types: ["solana", "card"],
			description: "Flat white and a croissant",
		});
		const view = await payerBrowser();
		const documentId = await openCheckout(view, payment);
		const { page } = view;

		await page.locator("button#tab-card[role=tab]").click();
		expect(await page.locator("#pay-card").isVisible()).toBe(true);
		expect(await page.locator("#pay-crypto").isVisible()).toBe(false);
		await fillCard(page, "4242 4242 4242 4242");
		// Formatted as typed, inside the frame.
		expect(await cardForm(page).getByLabel("Card number").inputValue()).toBe("4242 4242 4242 4242");
		await screenshot(page, "card-form");
		// Card data stays in the emulator's frame: the merchant's page never holds it (only the
		// test-mode hint names the test card).
		const hint = (await page.locator("#test-card-hint").textContent()) ?? "";
		expect(hint).toContain("4242 4242 4242 4242");
		expect((await page.content()).replaceAll(hint, "")).not.toContain("4242 4242");

		await clickPayByCard(page);
		await waitForStatus(page, { status: "succeeded", text: PAID, documentId }, PAYMENT_TIMEOUT_MS);
		await screenshot(page, "card-paid");
		const intentId = await expectPaidByCard(payment);

		// The emulator's webhook for it was delivered and acknowledged by the gateway.
		const origin = await emulatorOrigin(page);
		const pendingWebhooks = async () => {
			const res = await fetch(`${origin}/v1/events?type=payment_intent.succeeded&limit=100`, {
				headers: { authorization: "Bearer sk_test_e2e" },
			});
			const list = (await res.json()) as {
				data: { pending_webhooks: number; data: { object: { id: string } } }[];
			};
			return list.data.find((event) => event.data.object.id === intentId)?.pending_webhooks;
		};
		await expect.poll(pendingWebhooks, { timeout: 5_000 }).toBe(0);
	});

	test("shows the decline of 4000 0000 0000 0002, then 4242 pays", async () => {
		const payment = await cardPayment(1800, "Beans, 500 g");
		const view = await payerBrowser();
		const documentId = await openCheckout(view, payment);
		const { page } = view;

		// A card-only payment: the card form is the page.
		await fillCard(page, "4000 0000 0000 0002");
		await clickPayByCard(page);
		const error = page.locator("#card-error[role=alert]");
		await error.filter({ hasText: "Your card was declined." }).waitFor();
		await screenshot(page, "card-declined");
		expect(await page.locator("main#checkout").getAttribute("data-status")).toBe(
			"requires_payment",
		);

		await cardForm(page).getByLabel("Card number").fill("4242 4242 4242 4242");
		await clickPayByCard(page);
		await waitForStatus(page, { status: "succeeded", text: PAID, documentId }, PAYMENT_TIMEOUT_MS);
		await screenshot(page, "card-declined-then-paid");
		expect(await error.isVisible()).toBe(false);
		await expectPaidByCard(payment);
	});

	test("a 3-D Secure card shows the challenge over the page: Fail is explained, Complete pays", async () => {
		const payment = await cardPayment(4200, "Espresso machine service");
		const view = await payerBrowser();
		const documentId = await openCheckout(view, payment);
		const { page } = view;
		const modal = page.locator(
			"[data-stripe-sandbox=three-d-secure] [role=dialog][aria-modal=true]",
		);
		const challenge = page.frameLocator('iframe[title="3D Secure authentication"]');

		await fillCard(page, "4000 0025 0000 3155");
		await clickPayByCard(page);
		await challenge.getByRole("button", { name: "Fail" }).click();
		await page
			.locator("#card-error[role=alert]")
			.filter({ hasText: "We are unable to authenticate your payment method." })
			.waitFor();
		expect(await modal.count()).toBe(0);
		expect((await api.getPayment(payment.id)).status).toBe("requires_payment");

		await clickPayByCard(page);
		await challenge.getByRole("button", { name: "Complete" }).waitFor();
		await screenshot(page, "card-3ds-challenge");
		await challenge.getByRole("button", { name: "Complete" }).click();
		await waitForStatus(page, { status: "succeeded", text: PAID, documentId }, PAYMENT_TIMEOUT_MS);
		expect(await modal.count()).toBe(0);
		await screenshot(page, "card-3ds-paid");
		await expectPaidByCard(payment);
	});
});
