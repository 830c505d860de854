import { createMiddleware } from "hono/factory";
import { ApiError } from "../lib/errors";
import type { AppEnv } from "../types";

/**
 * Per-API-key request limit through the Workers Rate Limiting binding (counted per Cloudflare
 * location, so it is a guard against runaway clients, not an exact quota). Runs after auth so the
 * key id is known; a 429 carries `Retry-After`.
 */
export function rateLimit() {
	return createMiddleware<AppEnv>(async (c, next) => {
		const limiter = c.env.API_RATE_LIMITER;
		const auth = c.get("auth");
		if (limiter && auth) {
			const { success } = await limiter.limit({ key: auth.keyId });
			if (!success) {
				c.header("Retry-After", "10");
				throw new ApiError(
					"rate_limited",
					"Too many requests with this API key. Retry after a short wait, with backoff.",
				);
			}
		}
		await next();
	});
}

/**
 * Per-client-IP limit for payer-facing endpoints, which have no API key to count by. The IP is
 * Cloudflare's `CF-Connecting-IP` (set by the edge, not by the client).
 */
export function ipRateLimit(binding: "CHECKOUT_RATE_LIMITER" | "LINK_RATE_LIMITER") {
	return createMiddleware<AppEnv>(async (c, next) => {
		const limiter = c.env[binding];
		if (limiter) {
			const ip = c.req.header("CF-Connecting-IP") ?? "unknown";
			const { success } = await limiter.limit({ key: ip });
			if (!success) {
				c.header("Retry-After", "60");
				throw new ApiError(
					"rate_limited",
					"Too many requests from this network. Wait a minute and try again.",
				);
			}
		}
		await next();
	});
}
