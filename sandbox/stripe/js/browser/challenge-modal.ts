import { isEnvelope } from "./protocol";

// 3-D Secure as Stripe.js shows it: the issuer's challenge page (here the emulator's
// /_test/3ds/:id) in an iframe inside a modal over the merchant's page. The page answers with a
// postMessage once the payer has chosen; the caller then reads the PaymentIntent for the outcome.

function style(element: HTMLElement, properties: Record<string, string>): void {
	// CSSOM, not a style attribute: allowed under a merchant's strict style-src.
	for (const [name, value] of Object.entries(properties)) element.style.setProperty(name, value);
}

/**
 * Shows `challengeUrl` (which must be on `origin`) in a modal; resolves once the challenge page
 * reports that the payer answered, and removes the modal.
 */
export function runChallenge(challengeUrl: string, origin: string): Promise<void> {
	const url = new URL(challengeUrl);
	if (url.origin !== origin) {
		return Promise.reject(new Error(`Refusing to frame a challenge page outside ${origin}.`));
	}
	url.searchParams.set("parent_origin", window.location.origin);
	const previousFocus =
		document.activeElement instanceof HTMLElement ? document.activeElement : null;

	const overlay = document.createElement("div");
	overlay.setAttribute("data-stripe-sandbox", "three-d-secure");
	style(overlay, {
		position: "fixed",
		inset: "0",
		"z-index": "2147483647",
		background: "rgba(0, 0, 0, 0.55)",
		display: "flex",
		"align-items": "center",
		"justify-content": "center",
	});
	const dialog = document.createElement("div");
	dialog.setAttribute("role", "dialog");
	dialog.setAttribute("aria-modal", "true");
	dialog.setAttribute("aria-label", "3D Secure authentication");
	style(dialog, {
		background: "#fff",
		"border-radius": "8px",
		"box-shadow": "0 12px 40px rgba(0, 0, 0, 0.35)",
		width: "min(500px, calc(100vw - 24px))",
		height: "min(600px, calc(100vh - 24px))",
		overflow: "hidden",
	});
	const iframe = document.createElement("iframe");
	iframe.name = "stripe-challenge-frame";
	iframe.title = "3D Secure authentication";
	iframe.setAttribute("frameborder", "0");
	style(iframe, { border: "none", width: "100%", height: "100%", display: "block" });
	iframe.src = url.toString();
	dialog.append(iframe);
	overlay.append(dialog);

	return new Promise((resolve) => {
		const onMessage = (event: MessageEvent) => {
			if (event.origin !== origin || event.source !== iframe.contentWindow) return;
			const data: unknown = event.data;
			if (!isEnvelope(data) || data.type !== "3ds-complete") return;
			window.removeEventListener("message", onMessage);
			overlay.remove();
			previousFocus?.focus();
			resolve();
		};
		window.addEventListener("message", onMessage);
		document.body.append(overlay);
		iframe.addEventListener("load", () => iframe.focus(), { once: true });
	});
}
