import type { Context } from "hono";
import { raw } from "hono/html";
import { getConfig } from "../config";
import type { CheckoutView } from "../domain/checkout";
import { CLIENT_ASSETS } from "../generated/client-assets";
import { ApiError } from "../lib/errors";
import { hashText, jsonForScript, setPageSecurityHeaders } from "../lib/html";
import { HtmlPage } from "../lib/page";
import type { App, AppEnv } from "../types";
import type { CheckoutLocale, Messages } from "./i18n";
import type { ExplorerTarget } from "./panels";
import { CHECKOUT_CSS } from "./styles";

// The checkout page's shell: its assets (script, stylesheet, icon), security headers, the data its
// script starts from, and the document around the panels.

const ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><rect width="64" height="64" rx="14" fill="#111"/><path d="M18 40c8 6 20 6 28 0M18 24c8-6 20-6 28 0" stroke="#14f195" stroke-width="6" fill="none" stroke-linecap="round"/></svg>`;

const SCRIPT = CLIENT_ASSETS["checkout.js"] ?? { code: "", hash: "missing" };
const CSS_HASH = hashText(CHECKOUT_CSS);
const SCRIPT_PATH = `/checkout/assets/checkout.${SCRIPT.hash}.js`;
const CSS_PATH = `/checkout/assets/checkout.${CSS_HASH}.css`;

/** What the page's script starts from (a JSON data block: not executed, so CSP allows it). */
export interface CheckoutBootstrap {
	view: CheckoutView;
	checkout_token: string;
	chain: string;
	tokens: { symbol: string; decimals: number }[];
	default_token: string | null;
	status_text: Record<string, string>;
	/** The negotiated language's words, and the locale amounts and dates are formatted for. */
	messages: Messages;
	locale: string;
	/** For the receipt's explorer link. */
	explorer: ExplorerTarget;
	/**
	 * The request carried a payer session cookie (HttpOnly, so the page cannot see it): only then
	 * does the page ask who is signed in, so a payer without one sees no failed request.
	 */
	payer_session: boolean;
}

/**
 * Security headers of every checkout response: a strict CSP (scripts and styles only from this
 * origin, no inline script), no framing, no referrer, and HSTS on https.
 */
export function setCheckoutSecurityHeaders(c: Context<AppEnv>, card = false): void {
	const base = new URL(c.env.PUBLIC_BASE_URL);
	const ws = `${base.protocol === "https:" ? "wss:" : "ws:"}//${base.host}`;
	// Stripe's own script, frames and API, only on pages that offer the card tab.
	const stripeJs = card ? ` ${new URL(stripeJsUrl(c.env)).origin}` : "";
	const stripeApi = card ? ` ${new URL(getConfig(c.env).STRIPE_API_URL).origin}` : "";
	setPageSecurityHeaders(c, [
		"default-src 'none'",
		`script-src 'self'${stripeJs}`,
		"style-src 'self'",
		"img-src 'self' data:",
		`connect-src 'self' ${ws}${stripeJs}${stripeApi}`,
		...(card ? [`frame-src${stripeJs}`] : []),
		"base-uri 'none'",
		"form-action 'self'",
		"frame-ancestors 'none'",
	]);
	c.header("Permissions-Policy", "camera=(), microphone=(), geolocation=()");
}

export function stripeJsUrl(env: AppEnv["Bindings"]): string {
	return getConfig(env).STRIPE_JS_URL;
}

/** The icon and the content-hashed script and stylesheet the checkout pages load. */
export function registerCheckoutAssets(app: App): void {
	// Wallets show this next to the merchant's name in a Solana Pay transaction request.
	app.get("/favicon.svg", (c) => {
		c.header("Content-Type", "image/svg+xml");
		c.header("Cache-Control", "public, max-age=86400");
		return c.body(ICON);
	});

	// Content-hashed names: a deploy changes the name, so browsers may cache them forever.
	app.get("/checkout/assets/:file", (c) => {
		const file = c.req.param("file");
		c.header("X-Content-Type-Options", "nosniff");
		c.header("Cache-Control", "public, max-age=31536000, immutable");
		if (file === SCRIPT_PATH.slice("/checkout/assets/".length)) {
			c.header("Content-Type", "text/javascript; charset=utf-8");
			return c.body(SCRIPT.code);
		}
		if (file === CSS_PATH.slice("/checkout/assets/".length)) {
			c.header("Content-Type", "text/css; charset=utf-8");
			return c.body(CHECKOUT_CSS);
		}
		throw new ApiError("route_not_found", `No checkout asset named '${file}'.`);
	});
}

/**
 * A phone, by its client hint or user agent: its first action is opening the checkout in a
 * wallet app. A narrow window gets the same by the stylesheet's media query.
 */
export function isMobile(c: Context<AppEnv>): boolean {
	if (c.req.header("Sec-CH-UA-Mobile") === "?1") return true;
	return /Mobi|Android|iPhone|iPad|iPod/i.test(c.req.header("User-Agent") ?? "");
}

export function CheckoutPage(props: {
	title: string;
	bootstrap?: CheckoutBootstrap;
	loc: CheckoutLocale;
	mobile: boolean;
	children: unknown;
}) {
	return (
		<HtmlPage
			lang={props.loc.language}
			mobile={props.mobile}
			head={
				<>
					<title>{props.title}</title>
					<link rel="icon" href="/favicon.svg" />
					<link rel="stylesheet" href={CSS_PATH} />
					{props.bootstrap ? (
						<script type="application/json" id="checkout-data">
							{raw(jsonForScript(props.bootstrap))}
						</script>
					) : null}
					{props.bootstrap ? <script src={SCRIPT_PATH} defer /> : null}
				</>
			}
		>
			{props.children}
		</HtmlPage>
	);
}
