import type { MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import { ApiError } from "../lib/errors";
import { setPageSecurityHeaders } from "../lib/html";
import { strictJsonProblem } from "../lib/strict-json";
import type { AppEnv } from "../types";

export interface BodyLimitOptions {
	/** Largest body accepted, in bytes (default 64 KB: every API body is far smaller). */
	maxBytes?: number;
	/** Larger limits for some paths (Stripe's webhook events), by path prefix. */
	overrides?: { prefix: string; maxBytes: number }[];
	/** Paths whose JSON is another party's and is taken as sent (signed webhooks), by prefix. */
	lenientJson?: string[];
}

const BODY_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * Caps request bodies (413 `body_too_large`, judged by Content-Length when sent and by the bytes
 * actually read otherwise) and holds JSON bodies to a strict shape before any handler parses
 * them (400 `body_invalid`): one object, at most 32 levels deep, no duplicate or prototype keys.
 * The body is read once here; later readers get Hono's cached copy.
 */
export function bodyLimits(options: BodyLimitOptions = {}) {
	const fallback = options.maxBytes ?? 64 * 1024;
	return createMiddleware<AppEnv>(async (c, next) => {
		if (!BODY_METHODS.has(c.req.method)) return next();
		const path = c.req.path;
		const limit = options.overrides?.find((o) => path.startsWith(o.prefix))?.maxBytes ?? fallback;
		const tooLarge = () =>
			new ApiError(
				"body_too_large",
				`The request body is larger than ${Math.floor(limit / 1024)} KB.`,
			);
		const declared = c.req.header("Content-Length");
		if (declared !== undefined && Number(declared) > limit) throw tooLarge();
		if (c.req.raw.body === null) return next();
		const text = await c.req.text();
		if (new TextEncoder().encode(text).byteLength > limit) throw tooLarge();
		const type = c.req.header("Content-Type");
		const json = type === undefined || /^application\/json\b/i.test(type);
		if (json && !options.lenientJson?.some((prefix) => path.startsWith(prefix))) {
			const problem = strictJsonProblem(text);
			if (problem) throw new ApiError("body_invalid", problem);
		}
		await next();
	});
}

/**
 * Counts failed authentication per client IP (Cloudflare's `CF-Connecting-IP`); past the limit,
 * a failure is answered 429 with `Retry-After` instead of 401, so keys cannot be guessed at speed.
 * Requests that authenticate are never counted. Without the header (not through Cloudflare's
 * edge: local runs) there is no client IP to count by.
 */
export function authFailureLimit(auth: MiddlewareHandler<AppEnv>) {
	return createMiddleware<AppEnv>(async (c, next) => {
		let authenticated = false;
		try {
			await auth(c, async () => {
				authenticated = true;
				await next();
			});
		} catch (error) {
			const limiter = c.env.AUTH_FAILURE_RATE_LIMITER;
			const ip = c.req.header("CF-Connecting-IP");
			if (
				!authenticated &&
				error instanceof ApiError &&
				error.status === 401 &&
				limiter &&
				ip !== undefined
			) {
				const { success } = await limiter.limit({ key: ip });
				if (!success) {
					c.header("Retry-After", "60");
					throw new ApiError(
						"rate_limited",
						"Too many failed authentication attempts from this network. Wait a minute, then retry with a valid API key.",
					);
				}
			}
			throw error;
		}
	});
}

/**
 * Every HTML response carries the page security headers; a page that set its own policy keeps
 * it, any other gets the strictest one (nothing loads, no framing).
 */
export function htmlSecurityHeaders() {
	return createMiddleware<AppEnv>(async (c, next) => {
		await next();
		if (!/^text\/html\b/i.test(c.res.headers.get("Content-Type") ?? "")) return;
		const own = c.res.headers.get("Content-Security-Policy");
		// The response may be immutable (built by a handler); re-wrap it to set headers.
		c.res = new Response(c.res.body, c.res);
		setPageSecurityHeaders(c, [
			own ?? "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
		]);
	});
}
