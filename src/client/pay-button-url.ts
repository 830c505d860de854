/**
 * Where a pay button may send the payer: the DOM-free part of the pay button, kept pure so it is
 * unit-tested in Node. The button only ever navigates to the gateway that served its script.
 */

const PAYMENT_LINK_ID = /^plink_[0-9A-HJKMNP-TV-Z]{30}$/;
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

export type PayButtonTarget = { ok: true; url: string } | { ok: false; error: string };

/**
 * The gateway's origin, from the URL the script was loaded from: https, or plain http only on
 * loopback (local development). Anything else (a proxy, a copy on another host) is refused.
 */
export function gatewayOrigin(scriptSrc: string): string | null {
	let url: URL;
	try {
		url = new URL(scriptSrc);
	} catch {
		return null;
	}
	if (url.protocol === "https:") return url.origin;
	if (url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname)) return url.origin;
	return null;
}

/**
 * The URL a button opens: the payment link's URL (`data-payment-link`) or a checkout URL the
 * merchant's server obtained (`data-checkout-url`), which must be on the gateway's origin.
 */
export function payButtonTarget(
	scriptSrc: string,
	options: { paymentLink?: string | undefined; checkoutUrl?: string | undefined },
): PayButtonTarget {
	const origin = gatewayOrigin(scriptSrc);
	if (origin === null) {
		return { ok: false, error: "load the script over https from the payment gateway" };
	}
	const { paymentLink, checkoutUrl } = options;
	if (paymentLink && checkoutUrl) {
		return { ok: false, error: "set data-payment-link or data-checkout-url, not both" };
	}
	if (paymentLink) {
		if (!PAYMENT_LINK_ID.test(paymentLink)) {
			return { ok: false, error: `'${paymentLink}' is not a payment link id (plink_…)` };
		}
		return { ok: true, url: `${origin}/l/${paymentLink}` };
	}
	if (checkoutUrl) {
		let url: URL;
		try {
			url = new URL(checkoutUrl);
		} catch {
			return { ok: false, error: "data-checkout-url must be an absolute URL" };
		}
		// Same origin as the script implies the same https (or loopback) scheme and host.
		const credentials = url.username !== "" || url.password !== "";
		if (url.origin !== origin || !url.pathname.startsWith("/checkout/") || credentials) {
			return { ok: false, error: `data-checkout-url must be a checkout URL on ${origin}` };
		}
		return { ok: true, url: url.href };
	}
	return { ok: false, error: "set data-payment-link or data-checkout-url" };
}
