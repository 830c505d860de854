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
