/**
 * The embeddable pay button. On any storefront:
 *   <script src="https://pay.example.com/js/v1/pay-button.js" data-payment-link="plink_…" async></script>
 * renders a <button> right after the tag (or inside `data-target`) that opens the checkout.
 * Styles go through element.style (CSSOM), which a storefront's strict CSP allows, unlike a
 * <style> tag or a style attribute. No dependencies: it runs on pages we do not control.
 */
import { payButtonTarget } from "./pay-button-url";

const LOG_PREFIX = "StreamPayments pay button:";

function mount(script: HTMLScriptElement): void {
	const data = script.dataset;
	const target = payButtonTarget(script.src, {
		paymentLink: data.paymentLink,
		checkoutUrl: data.checkoutUrl,
	});
	if (!target.ok) {
		console.error(`${LOG_PREFIX} ${target.error}`);
		return;
	}
	const button = document.createElement("button");
	button.type = "button";
	button.textContent = data.label?.trim() || "Pay now";
	applyTheme(button, data.theme === "light");
	button.addEventListener("click", () => openCheckout(target.url, data.mode === "popup", button));
	// Back/forward cache restores the page as it was left: the button must be usable again.
	window.addEventListener("pageshow", () => {
		button.disabled = false;
	});

	const place = () => {
		if (!data.target) {
			script.after(button);
			return;
		}
		let host: Element | null = null;
		try {
			host = document.querySelector(data.target);
		} catch {
			// An invalid selector is reported below like a missing element.
		}
		if (host) host.appendChild(button);
		else console.error(`${LOG_PREFIX} no element matches data-target "${data.target}"`);
	};
	// An async script can run before the parser reaches the target element.
	if (data.target && document.readyState === "loading") {
		document.addEventListener("DOMContentLoaded", place, { once: true });
	} else {
		place();
	}
}

function applyTheme(button: HTMLButtonElement, light: boolean): void {
	const s = button.style;
	s.font = "600 16px/1.25 system-ui, -apple-system, 'Segoe UI', sans-serif";
	s.padding = "12px 24px";
	s.minHeight = "44px";
	s.border = "1px solid #111";
	s.borderRadius = "8px";
	s.background = light ? "#fff" : "#111";
	s.color = light ? "#111" : "#fff";
	s.cursor = "pointer";
	// The browser's focus ring stays: keyboard users must see where they are.
}

function openCheckout(url: string, popup: boolean, button: HTMLButtonElement): void {
	if (popup) {
		const win = window.open(url, "streampayments_checkout", "popup,width=480,height=720");
		if (win) {
			try {
				// The checkout needs no handle on the storefront's window.
				win.opener = null;
			} catch {
				// A reused popup is already on the gateway's origin; its opener cannot be reset.
			}
			win.focus();
			return;
		}
		// Popup blocked: fall through to the same tab.
	}
	// Each visit of a payment link creates a payment: one click, one navigation.
	button.disabled = true;
	setTimeout(() => {
		button.disabled = false;
	}, 3000);
	try {
		// The checkout refuses to be framed, so a button inside an iframe navigates the top page.
		(window.top ?? window).location.href = url;
	} catch {
		window.open(url, "_blank", "noopener");
	}
}

const current = document.currentScript;
if (current instanceof HTMLScriptElement) mount(current);
else console.error(`${LOG_PREFIX} load it with a classic <script> tag (not a module)`);
