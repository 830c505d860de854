import type { Context } from "hono";
import { Hono } from "hono";
import { ApiError } from "../lib/errors";
import { log } from "../lib/log";
import type { AppEnv } from "../types";
import { csrfMatches, type DashboardSession, readDashboardSession, sameOrigin } from "./session";

/**
 * Counts a sign-in, recovery or invitation attempt against DASHBOARD_AUTH_RATE_LIMITER, once per
 * client IP and once per account it names (a user, an email, an invitation): false past either
 * limit. Without Cloudflare's `CF-Connecting-IP` (local runs) only the account is counted.
 */
export async function attemptAllowed(c: Context<AppEnv>, account: string | null): Promise<boolean> {
	const limiter = c.env.DASHBOARD_AUTH_RATE_LIMITER;
	if (!limiter) return true;
	const ip = c.req.header("CF-Connecting-IP");
	const keys = [
		ip === undefined ? null : `ip:${ip}`,
		account === null ? null : `account:${account}`,
	];
	for (const key of keys) {
		if (key !== null && !(await limiter.limit({ key })).success) return false;
	}
	return true;
}

export function tooManyAttempts(c: Context<AppEnv>): ApiError {
	c.header("Retry-After", "60");
	return new ApiError(
		"rate_limited",
		"Too many sign-in attempts for this account or from this network. Wait a minute, then try again.",
	);
}

/** The JSON endpoints of the dashboard's passkey ceremonies, with the API's error shape. */
export function jsonAuthApp(): Hono<AppEnv> {
	const api = new Hono<AppEnv>();
	api.use("/dashboard/auth/*", async (c, next) => {
		c.header("Cache-Control", "no-store");
		// Only the dashboard's own pages call these; a cross-site page cannot.
		if (!sameOrigin(c)) {
			throw new ApiError("parameter_invalid", "This request must come from the dashboard's pages.");
		}
		await next();
	});
	api.onError((err, c) => {
		const requestId = c.get("requestId") ?? "req_unknown";
		if (err instanceof ApiError) return c.json(err.toBody(requestId), err.status);
		log("error", "dashboard auth error", {
			request_id: requestId,
			path: c.req.path,
			error: `${err.name}: ${err.message}`,
			stack: err.stack,
		});
		const error = new ApiError("internal_error", `An internal error occurred (${requestId}).`);
		return c.json(error.toBody(requestId), error.status);
	});
	return api;
}

/** The JSON body, an object, or a 400 in the house shape. */
export async function readJsonBody(c: Context<AppEnv>): Promise<Record<string, unknown>> {
	const body = await c.req.json().catch(() => null);
	if (body === null || typeof body !== "object" || Array.isArray(body)) {
		throw new ApiError("body_invalid", "Send a JSON object.");
	}
	return body as Record<string, unknown>;
}

export function text(body: Record<string, unknown>, name: string, max = 200): string {
	const value = body[name];
	if (typeof value !== "string" || value.length === 0 || value.length > max) {
		throw new ApiError("parameter_invalid", `'${name}' must be a non-empty string.`, name);
	}
	return value;
}

/** The signed-in person's session, checked like a form: its CSRF token in `X-CSRF-Token`. */
export async function personSession(c: Context<AppEnv>): Promise<DashboardSession> {
	const session = await readDashboardSession(c);
	if (!session) throw new ApiError("session_required", "Your session has ended. Sign in again.");
	if (!csrfMatches(session, c.req.header("X-CSRF-Token"))) {
		throw new ApiError("parameter_invalid", "The page has expired; reload it.", "csrf");
	}
	return session;
}
