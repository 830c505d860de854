import { createMiddleware } from "hono/factory";
import { findApiKeyByHash, touchApiKeyLastUsed } from "../db/api-keys";
import { verifyCheckoutToken } from "../lib/checkout-token";
import { sha256Hex, timingSafeEqualText } from "../lib/crypto";
import { ApiError } from "../lib/errors";
import type { AppEnv } from "../types";
import { cachedApiKey, forgetApiKeys, rememberApiKey } from "./api-key-cache";

/** `last_used_at` is kept to the hour, so a busy key costs one write an hour, not one a request. */
const LAST_USED_RESOLUTION = 60 * 60;

const KEY_PATTERN = /^(sk|pk)_(test|live)_[0-9A-Za-z]{24,128}$/;

export interface ApiKeyAuthOptions {
	/** Publishable keys may call only the endpoints that list them here. */
	allow: readonly ("secret" | "publishable")[];
}

function bearerToken(header: string | undefined): string | null {
	if (!header) return null;
	const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
	if (!match?.[1])
		throw new ApiError("api_key_invalid", "The Authorization header must be 'Bearer <API key>'.");
	return match[1];
}

function mask(key: string): string {
	return `${key.slice(0, 8)}${"*".repeat(Math.max(4, key.length - 12))}${key.slice(-4)}`;
}

/** Authenticates `Authorization: Bearer sk_…`/`pk_…` against the stored key hashes. */
export function apiKeyAuth(options: ApiKeyAuthOptions = { allow: ["secret"] }) {
	return createMiddleware<AppEnv>(async (c, next) => {
		const token = bearerToken(c.req.header("Authorization"));
		if (!token) {
			throw new ApiError(
				"api_key_missing",
				"You did not provide an API key. Send it as 'Authorization: Bearer sk_test_…'.",
			);
		}
		if (!KEY_PATTERN.test(token)) {
			// Not shaped like a key (perhaps another secret pasted by mistake): echo none of it.
			throw new ApiError("api_key_invalid", "Invalid API key provided.");
		}
		const hash = await sha256Hex(token);
		let row = cachedApiKey(c.env, hash);
		if (!row) {
			row = (await findApiKeyByHash(c.env.DB, hash)) ?? undefined;
			if (row) rememberApiKey(c.env, hash, row);
		}
		if (!row || row.revoked_at !== null) {
			throw new ApiError("api_key_invalid", `Invalid API key provided: ${mask(token)}`);
		}
		if (row.expires_at !== null && row.expires_at <= Math.floor(Date.now() / 1000)) {
			throw new ApiError("api_key_expired", `This API key expired: ${mask(token)}`);
		}
		if (!options.allow.includes(row.type)) {
			throw new ApiError(
				"secret_key_required",
				"This endpoint requires a secret key (sk_…); publishable keys cannot call it.",
			);
		}
		const now = Math.floor(Date.now() / 1000);
		if (row.last_used_at === null || row.last_used_at < now - LAST_USED_RESOLUTION) {
			// At most one write per key per hour, off the response path.
			c.executionCtx.waitUntil(touchApiKeyLastUsed(c.env.DB, row.id, now).catch(() => undefined));
			// The cached row says so too, or every request until it expires would write again.
			row.last_used_at = now;
		}
		c.set("auth", {
			merchantId: row.merchant_id,
			livemode: row.livemode === 1,
			keyId: row.id,
			keyType: row.type,
		});
		await next();
	});
}

/** Operator endpoints: `Authorization: Bearer <ADMIN_TOKEN>`. */
export function adminAuth() {
	return createMiddleware<AppEnv>(async (c, next) => {
		const expected = c.env.ADMIN_TOKEN;
		if (!expected) {
			// No ADMIN_TOKEN: the admin API is switched off and answers like any unknown URL.
			throw new ApiError(
				"route_not_found",
				`Unrecognized request URL (${c.req.method}: ${c.req.path}).`,
			);
		}
		const token = bearerToken(c.req.header("Authorization"));
		if (!token) throw new ApiError("api_key_missing", "This endpoint requires the admin token.");
		if (!timingSafeEqualText(token, expected)) {
			throw new ApiError("api_key_invalid", "Invalid admin token.");
		}
		if (c.req.method === "GET") return next();
		// Admin writes roll and revoke keys: drop cached keys before, and after in case a request
		// in between cached the row the write is replacing.
		forgetApiKeys();
		try {
			await next();
		} finally {
			forgetApiKeys();
		}
	});
}

/**
 * `Authorization: Bearer <checkout token>` from a checkout page, for its own payment only
 * (`paymentId` is the id in the path). Anything else about the token is refused like a bad key.
 */
export function checkoutTokenAuth(paymentId: (path: string) => string | null) {
	return createMiddleware<AppEnv>(async (c, next) => {
		const token = bearerToken(c.req.header("Authorization"));
		const claims = token ? await verifyCheckoutToken(c.env.SESSION_SECRET, token) : null;
		if (!claims || claims.paymentId !== paymentId(c.req.path)) {
			throw new ApiError(
				"api_key_invalid",
				"Invalid or expired checkout token; reload the checkout page.",
			);
		}
		c.set("auth", {
			merchantId: claims.merchantId,
			livemode: claims.livemode,
			keyId: `checkout:${claims.paymentId}`,
			keyType: "publishable",
		});
		await next();
	});
}
