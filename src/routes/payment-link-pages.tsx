import type { Context } from "hono";
import { isId } from "../domain/ids";
import { paymentParamsForLink } from "../domain/payment-link";
import { CLIENT_ASSETS } from "../generated/client-assets";
import { ApiError } from "../lib/errors";
import { setPageSecurityHeaders } from "../lib/html";
import { log } from "../lib/log";
import { HtmlPage } from "../lib/page";
import { findPaymentLink } from "../services/payment-links";
import { createPaymentFor, requestCountry, requestIp } from "../services/payments";
import type { App, AppEnv } from "../types";

/** The pages' only styling, allowed by its hash: the CSP needs neither 'unsafe-inline' nor a file. */
const PAGE_CSS =
	"body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#111}h1{font-size:1.5rem}";
let pageCssHash: Promise<string> | undefined;

function cssHash(): Promise<string> {
	pageCssHash ??= crypto.subtle
		.digest("SHA-256", new TextEncoder().encode(PAGE_CSS))
		.then((digest) => btoa(String.fromCharCode(...new Uint8Array(digest))));
	return pageCssHash;
}

/**
 * The checkout's security headers (src/checkout/routes.tsx), tighter still: these pages run no
 * script at all and allow only their own stylesheet. A redirect carries them too, harmlessly.
 */
async function setLinkPageSecurityHeaders(c: Context<AppEnv>): Promise<void> {
	setPageSecurityHeaders(c, [
		"default-src 'none'",
		`style-src 'sha256-${await cssHash()}'`,
		"img-src 'self' data:",
		"base-uri 'none'",
		"form-action 'self'",
		"frame-ancestors 'none'",
	]);
}

/** Seconds a payer (or crawler) waits after a 429, the limiter's window. */
const RETRY_AFTER_SECONDS = 60;

const PAY_BUTTON = "pay-button.js";

/**
 * Public, unauthenticated routes: the payment link URL (`/l/:id`), which creates a payment per
 * visit, and the embeddable pay button script (`/js/v1/…`). Both live outside /v1, so no API key
 * applies.
 */
export function registerPaymentLinkPages(app: App): void {
	app.get("/l/:id", async (c) => {
		const id = c.req.param("id");
		await setLinkPageSecurityHeaders(c);
		c.header("Cache-Control", "no-store");
		// A link is a one-off action, not content: search engines should neither index nor follow it.
		c.header("X-Robots-Tag", "noindex, nofollow");
		if (!isId("paymentLink", id)) return notFoundPage(c);
		if (!(await withinVisitLimits(c, id))) {
			c.header("Retry-After", String(RETRY_AFTER_SECONDS));
			c.status(429);
			return c.html(
				<LinkPage title="Too many requests">
					<h1>Too many requests</h1>
					<p>Wait a few seconds, then open the link again.</p>
				</LinkPage>,
			);
		}
		const link = await findPaymentLink(c.env.DB, id);
		if (!link) return notFoundPage(c);
		if (!link.active) {
			c.status(410);
			return c.html(
				<LinkPage title="Link no longer active">
					<h1>This payment link is no longer active</h1>
					<p>Ask the merchant for a new link.</p>
				</LinkPage>,
			);
		}
		// Hono answers HEAD through the GET route; link checkers and prefetchers must not mint payments.
		if (c.req.method === "HEAD") return c.body(null, 200);
		try {
			const payment = await createPaymentFor(
				c.env,
				{ merchantId: link.merchant_id, livemode: link.livemode },
				paymentParamsForLink(link),
				{ country: requestCountry(c.req.raw), ip: requestIp(c.req.raw) },
			);
			return c.redirect(payment.checkout_url, 303);
		} catch (err) {
			const unavailable = !(err instanceof ApiError) || err.status >= 500;
			// The payer sees a page, not the API's JSON; the details go to the log.
			log(unavailable ? "error" : "warn", "payment link visit failed", {
				request_id: c.get("requestId"),
				payment_link: id,
				error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
			});
			if (err instanceof ApiError && err.code === "payment_blocked") {
				// The merchant's risk rules refused it; which rule stays in the log.
				c.status(402);
				return c.html(
					<LinkPage title="Payment declined">
						<h1>This payment was declined</h1>
						<p>Contact the merchant if you think this is a mistake.</p>
					</LinkPage>,
				);
			}
			c.status(unavailable ? 503 : 409);
			if (unavailable) c.header("Retry-After", "30");
			return c.html(
				<LinkPage title="Payment unavailable">
					<h1>This payment can't be started right now</h1>
					<p>
						{unavailable
							? "Try again in a minute."
							: "Ask the merchant to check this payment link's settings."}
					</p>
				</LinkPage>,
			);
		}
	});

	app.get("/js/v1/:file", (c) => {
		const asset = CLIENT_ASSETS[PAY_BUTTON];
		const file = c.req.param("file");
		const hashed = asset ? `pay-button.${asset.hash}.js` : null;
		if (!asset || (file !== PAY_BUTTON && file !== hashed)) return c.notFound();
		// v1 is a stable API: the plain name may change within v1, so caches recheck it often;
		// the hashed name's content never changes.
		c.header(
			"Cache-Control",
			file === PAY_BUTTON ? "public, max-age=300" : "public, max-age=31536000, immutable",
		);
		c.header("ETag", `"${asset.hash}"`);
		c.header("Access-Control-Allow-Origin", "*");
		// Loadable by storefronts that isolate themselves (Cross-Origin-Embedder-Policy).
		c.header("Cross-Origin-Resource-Policy", "cross-origin");
		c.header("X-Content-Type-Options", "nosniff");
		c.header("Content-Type", "text/javascript; charset=utf-8");
		if (etagMatches(c.req.header("If-None-Match"), asset.hash)) return c.body(null, 304);
		return c.body(asset.code, 200);
	});
}

/**
 * Each visit creates a payment, so visits are limited per IP (across links: a crawler walking
 * many links) and per link (across IPs: a link posted somewhere crawlers swarm). The IP is
 * checked first (30 a minute) so an abusive client does not spend the link's budget; the
 * per-link guard shares the API's binding under keys no API key id can take.
 */
async function withinVisitLimits(c: Context<AppEnv>, linkId: string): Promise<boolean> {
	const ip = c.req.header("CF-Connecting-IP") ?? "unknown";
	const perIp = c.env.LINK_RATE_LIMITER;
	if (perIp && !(await perIp.limit({ key: ip })).success) return false;
	const perLink = c.env.API_RATE_LIMITER;
	return !perLink || (await perLink.limit({ key: `payment_link:${linkId}` })).success;
}

/** RFC 9110 If-None-Match: a list of entity tags (weak ones compare equal) or `*`. */
function etagMatches(header: string | undefined, hash: string): boolean {
	if (!header) return false;
	return header
		.split(",")
		.map((tag) => tag.trim().replace(/^W\//, ""))
		.some((tag) => tag === "*" || tag === `"${hash}"`);
}

function notFoundPage(c: Context<AppEnv>) {
	c.status(404);
	return c.html(
		<LinkPage title="Payment link not found">
			<h1>Payment link not found</h1>
			<p>Check the link you were given, or ask the merchant for a new one.</p>
		</LinkPage>,
	);
}

function LinkPage(props: { title: string; children: unknown }) {
	return (
		<HtmlPage
			lang="en"
			head={
				<>
					<title>{props.title}</title>
					<style>
						{
							"body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#111}h1{font-size:1.5rem}"
						}
					</style>
				</>
			}
		>
			<main>{props.children as never}</main>
		</HtmlPage>
	);
}
