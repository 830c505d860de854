import { timingSafeEqual } from "node:crypto";
import { Hono } from "hono";
import { expect } from "vitest";
import { ApiError } from "../../../src/lib/errors";
import { requestId } from "../../../src/middleware/request-id";
import type { AppEnv } from "../../../src/types";

// workerd's crypto.subtle.timingSafeEqual (src/lib/crypto.ts uses it) is not in Node's Web
// Crypto; Node's own constant-time comparison stands in for it.
if (!("timingSafeEqual" in crypto.subtle)) {
	Object.defineProperty(crypto.subtle, "timingSafeEqual", {
		value: (a: Uint8Array, b: Uint8Array) => timingSafeEqual(a, b),
		configurable: true,
	});
}

/**
 * A bare Hono app with what every gateway route has before its own middleware: a request id,
 * and an ApiError answered in the house shape `{ error: { type, code, message, param?,
 * request_id } }` (as src/app.ts's onError does). Tests mount one middleware on it.
 */
export function middlewareApp() {
	const app = new Hono<AppEnv>();
	app.use(requestId());
	app.onError((error, c) => {
		if (error instanceof ApiError) return c.json(error.toBody(c.get("requestId")), error.status);
		throw error;
	});
	return app;
}

/** The error body the house shape promises, read from a response. */
export async function errorOf(res: Response) {
	const body = (await res.json()) as {
		error: { type: string; code: string; message: string; param?: string; request_id: string };
	};
	expect(body.error.request_id).toBe(res.headers.get("Request-Id"));
	return body.error;
}

/** A Workers Rate Limiting binding in memory: `limit` requests per key, then refusals. */
export function memoryRateLimiter(limit: number) {
	const counts = new Map<string, number>();
	return {
		keys: [] as string[],
		async limit({ key }: { key: string }) {
			this.keys.push(key);
			const count = (counts.get(key) ?? 0) + 1;
			counts.set(key, count);
			return { success: count <= limit };
		},
	};
}

/** An ExecutionContext that keeps what is handed to waitUntil, so a test can await it. */
export function executionContext() {
	const waited: Promise<unknown>[] = [];
	return {
		waited,
		waitUntil(promise: Promise<unknown>) {
			waited.push(promise);
		},
		passThroughOnException() {},
		props: {},
	};
}

/** An api_keys row as src/middleware/auth.ts reads it. */
export interface KeyRow {
	id: string;
	merchant_id: string;
	type: "secret" | "publishable";
	livemode: number;
	expires_at: number | null;
	revoked_at: number | null;
	last_used_at: number | null;
}

/**
 * A D1 binding holding only api_keys rows by key hash: it answers the key lookup and the
 * last-used write apiKeyAuth makes (a copy of the row per read, as D1 gives), and counts both.
 */
export function apiKeysDb(rows: Map<string, KeyRow>) {
	const calls = { lookups: 0, lastUsedWrites: [] as unknown[][] };
	const db = {
		prepare(sql: string) {
			return {
				bind(...args: unknown[]) {
					return {
						async first() {
							if (!sql.includes("FROM api_keys WHERE hash = ?"))
								throw new Error(`unexpected: ${sql}`);
							calls.lookups++;
							const row = rows.get(String(args[0]));
							return row ? { ...row } : null;
						},
						async run() {
							if (!sql.startsWith("UPDATE api_keys SET last_used_at"))
								throw new Error(`unexpected: ${sql}`);
							calls.lastUsedWrites.push(args);
							return { meta: { changes: 1 } };
						},
					};
				},
			};
		},
	};
	return { db, calls };
}
