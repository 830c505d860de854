import type { IncomingMessage, ServerResponse } from "node:http";

// CORS for the API, as api.stripe.com answers browsers: Stripe.js calls it from any merchant's
// origin with a publishable key in `Authorization` (never with cookies), so any origin may call,
// and a preflight (OPTIONS) is answered without auth or faults. The key checks still apply to the
// request itself: a browser holding only a pk_ key can reach only what a pk_ key may do.

const ALLOWED_METHODS = "GET, POST, DELETE, OPTIONS";
const ALLOWED_HEADERS =
	"Authorization, Content-Type, Stripe-Version, Idempotency-Key, Stripe-Account";
const EXPOSED_HEADERS =
	"Request-Id, Stripe-Version, Idempotency-Key, Idempotent-Replayed, Original-Request";
const MAX_AGE_SECONDS = "300";

function isApiPath(pathname: string): boolean {
	return pathname === "/v1" || pathname.startsWith("/v1/");
}

/**
 * Adds CORS headers to an API response before its handler runs, and answers a preflight itself.
 * True when the request has been answered (a preflight).
 */
export function applyCors(req: IncomingMessage, res: ServerResponse): boolean {
	const pathname = new URL(req.url ?? "/", "http://sandbox.invalid").pathname;
	if (!isApiPath(pathname)) return false;
	res.setHeader("access-control-allow-origin", "*");
	res.setHeader("access-control-expose-headers", EXPOSED_HEADERS);
	if (req.method !== "OPTIONS") return false;
	res.writeHead(204, {
		"access-control-allow-methods": ALLOWED_METHODS,
		"access-control-allow-headers": ALLOWED_HEADERS,
		"access-control-max-age": MAX_AGE_SECONDS,
		"content-length": "0",
	});
	res.end();
	return true;
}
