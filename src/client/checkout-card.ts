/**
 * The checkout's card tab: Stripe.js and its Payment Element, loaded only when the tab is first
 * shown (or at once on a card-only payment), and the card payment's confirmation.
 */
import type { CheckoutView } from "../domain/checkout";
import { $, t } from "./checkout-dom";
import { postJson } from "./checkout-http";

interface StripePaymentElement {
	mount(target: string | HTMLElement): void;
	on(event: "change", handler: (event: { complete: boolean }) => void): void;
}

interface StripeElements {
	create(type: "payment"): StripePaymentElement;
}

interface StripeJs {
	elements(options: { clientSecret: string }): StripeElements;
	confirmPayment(options: {
		elements: StripeElements;
		confirmParams: { return_url: string };
		redirect: "if_required";
	}): Promise<{ error?: { message?: string }; paymentIntent?: { status: string } }>;
}

let cardSetUp: Promise<void> | null = null;
/** The payment as the page last saw it, and how to refresh it: the card tab follows the page. */
let page: { view: () => CheckoutView; refreshStatus: () => Promise<void> };

function showCardError(message: string | null): void {
	const el = $("card-error");
	if (!el) return;
	el.textContent = message ?? "";
	el.hidden = !message;
}

function loadScript(src: string): Promise<void> {
	return new Promise((resolve, reject) => {
		const script = document.createElement("script");
		script.src = src;
		script.async = true;
		script.onload = () => resolve();
		script.onerror = () => reject(new Error(t("card_unavailable")));
		document.head.append(script);
	});
}

/** Loads Stripe.js and mounts the Payment Element, once, when the card tab is first shown. */
function openCard(): Promise<void> {
	if (cardSetUp) return cardSetUp;
	cardSetUp = (async () => {
		const card = await postJson<{
			client_secret: string;
			publishable_key: string;
			js_url: string;
			return_url: string;
		}>(`/checkout/${page.view().id}/card`, {});
		await loadScript(card.js_url);
		const factory = (window as unknown as { Stripe?: (key: string) => StripeJs }).Stripe;
		if (!factory) throw new Error(t("card_unavailable"));
		const stripe = factory(card.publishable_key);
		const elements = stripe.elements({ clientSecret: card.client_secret });
		const element = elements.create("payment");
		element.mount("#card-element");
		const button = $<HTMLButtonElement>("pay-card-button");
		if (!button) return;
		// Enabled once the form is complete, as Stripe suggests; the element reports it on change.
		element.on("change", (event) => {
			button.disabled = !event.complete || page.view().status !== "requires_payment";
		});
		button.addEventListener("click", async () => {
			button.disabled = true;
			showCardError(null);
			try {
				const result = await stripe.confirmPayment({
					elements,
					confirmParams: { return_url: card.return_url },
					redirect: "if_required",
				});
				if (result.error) showCardError(result.error.message ?? t("card_failed"));
				else void page.refreshStatus();
			} catch (error) {
				showCardError(error instanceof Error ? error.message : t("card_failed"));
			} finally {
				button.disabled = page.view().status !== "requires_payment";
			}
		});
	})().catch((error: unknown) => {
		cardSetUp = null;
		showCardError(error instanceof Error ? error.message : t("card_unavailable"));
	});
	return cardSetUp;
}

function selectTab(which: "crypto" | "card"): void {
	for (const [tab, panel] of [
		["tab-crypto", "pay-crypto"],
		["tab-card", "pay-card"],
	] as const) {
		const selected = tab === `tab-${which}`;
		$(tab)?.setAttribute("aria-selected", String(selected));
		const el = $(panel);
		if (el) el.hidden = !selected;
	}
	if (which === "card") void openCard();
}

/** Wires the card tab; the Payment Element loads when the tab is first shown. */
export function setUpCard(view: () => CheckoutView, refreshStatus: () => Promise<void>): void {
	page = { view, refreshStatus };
	const tabCard = $("tab-card");
	if (tabCard) {
		$("tab-crypto")?.addEventListener("click", () => selectTab("crypto"));
		tabCard.addEventListener("click", () => selectTab("card"));
	} else if ($("pay-card") && !$("pay-card")?.hidden) {
		// A card-only payment: the form is the page.
		void openCard();
	}
}
