import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { sha256Hex } from "../../src/lib/crypto";
import {
	type ApiKeyRow,
	cachedApiKey,
	KEY_CACHE_TTL_MS,
	rememberApiKey,
} from "../../src/middleware/api-key-cache";
import { ADMIN_TOKEN, createMerchant, expectApiError, json } from "./helpers/api";

const KEY_LOOKUP = "FROM api_keys WHERE hash";

/** One environment object for a whole test (the cache is per environment), counting key lookups. */
function countingEnv(): { env: typeof env; lookups: () => number } {
	let lookups = 0;
	const db = new Proxy(env.DB, {
		get(target, prop) {
			if (prop === "prepare") {
				return (sql: string) => {
					if (sql.includes(KEY_LOOKUP)) lookups++;
					return target.prepare(sql);
				};
			}
			const value = Reflect.get(target, prop);
			return typeof value === "function" ? value.bind(target) : value;
		},
	});
	return { env: { ...env, DB: db }, lookups: () => lookups };
}

async function send(
	e: typeof env,
	method: string,
	path: string,
	key: string,
	body?: unknown,
): Promise<Response> {
	const ctx = createExecutionContext();
	const res = await worker.fetch(
		new Request(`http://gateway.test${path}`, {
			method,
			headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
			body: body === undefined ? undefined : JSON.stringify(body),
		}),
		e,
		ctx,
	);
	await waitOnExecutionContext(ctx);
	return res;
}

function row(overrides: Partial<ApiKeyRow> = {}): ApiKeyRow {
	return {
		id: "key_test",
		merchant_id: "mch_test",
		type: "secret",
		livemode: 0,
		expires_at: null,
		revoked_at: null,
		last_used_at: null,
		...overrides,
	};
}

describe("API key lookups cached per isolate", () => {
	it("reads a live key from D1 once, then serves it from the cache", async () => {
		const m = await createMerchant();
		const { env: e, lookups } = countingEnv();
		for (let i = 0; i < 3; i++)
			expect((await send(e, "GET", "/v1/payments", m.sk)).status).toBe(200);
		expect(lookups()).toBe(1);
	});

	it("a key revoked through this isolate's admin API is refused on its very next request", async () => {
		const m = await createMerchant();
		const { env: e } = countingEnv();
		const created = await json<{ id: string; secret: string }>(
			await send(e, "POST", `/admin/v1/merchants/${m.merchant.id}/keys`, ADMIN_TOKEN, {
				type: "secret",
				livemode: false,
			}),
		);
		expect((await send(e, "GET", "/v1/payments", created.secret)).status).toBe(200);
		const revoke = `/admin/v1/merchants/${m.merchant.id}/keys/${created.id}/revoke`;
		expect((await send(e, "POST", revoke, ADMIN_TOKEN)).status).toBe(200);
		await expectApiError(await send(e, "GET", "/v1/payments", created.secret), "api_key_invalid");
	});

	it("a key rolled with no grace through the admin API is expired on its very next request", async () => {
		const m = await createMerchant();
		const { env: e } = countingEnv();
		const old = m.keys.find((k) => k.secret === m.sk);
		expect((await send(e, "GET", "/v1/payments", m.sk)).status).toBe(200);
		const roll = `/admin/v1/merchants/${m.merchant.id}/keys/${old?.id}/roll`;
		expect((await send(e, "POST", roll, ADMIN_TOKEN, { expires_in: 0 })).status).toBe(200);
		await expectApiError(await send(e, "GET", "/v1/payments", m.sk), "api_key_expired");
	});

	it("a key revoked elsewhere (straight in D1) is served from the cache only until the entry is KEY_CACHE_TTL_MS old", async () => {
		const m = await createMerchant();
		const { env: e, lookups } = countingEnv();
		expect((await send(e, "GET", "/v1/payments", m.sk)).status).toBe(200);
		const hash = await sha256Hex(m.sk);
		await env.DB.prepare("UPDATE api_keys SET revoked_at = ? WHERE hash = ?")
			.bind(Math.floor(Date.now() / 1000), hash)
			.run();
		// Within the window the cached row still answers, without a lookup…
		expect((await send(e, "GET", "/v1/payments", m.sk)).status).toBe(200);
		expect(lookups()).toBe(1);
		// …and past it the entry is gone, so the next request reads the revocation from D1.
		expect(cachedApiKey(e, hash, Date.now() + KEY_CACHE_TTL_MS)).toBeUndefined();
		await expectApiError(await send(e, "GET", "/v1/payments", m.sk), "api_key_invalid");
		expect(lookups()).toBe(2);
	});

	it("never caches a revoked key: every request with it is looked up", async () => {
		const m = await createMerchant();
		const { env: e, lookups } = countingEnv();
		await env.DB.prepare("UPDATE api_keys SET revoked_at = 1 WHERE hash = ?")
			.bind(await sha256Hex(m.sk))
			.run();
		await expectApiError(await send(e, "GET", "/v1/payments", m.sk), "api_key_invalid");
		await expectApiError(await send(e, "GET", "/v1/payments", m.sk), "api_key_invalid");
		expect(lookups()).toBe(2);
		rememberApiKey(e, "h", row({ revoked_at: 1 }));
		expect(cachedApiKey(e, "h")).toBeUndefined();
	});

	it("judges expiry at each request, so a cached key's grace period ends on time", async () => {
		const m = await createMerchant();
		const { env: e } = countingEnv();
		expect((await send(e, "GET", "/v1/payments", m.sk)).status).toBe(200);
		const hash = await sha256Hex(m.sk);
		const cached = cachedApiKey(e, hash);
		expect(cached).toBeDefined();
		rememberApiKey(e, hash, {
			...(cached as ApiKeyRow),
			expires_at: Math.floor(Date.now() / 1000),
		});
		await expectApiError(await send(e, "GET", "/v1/payments", m.sk), "api_key_expired");
	});

	it("keeps one cache per environment object", () => {
		const a = {};
		const b = {};
		rememberApiKey(a, "h", row(), 1_000);
		expect(cachedApiKey(a, "h", 1_000)).toEqual(row());
		expect(cachedApiKey(b, "h", 1_000)).toBeUndefined();
		expect(cachedApiKey(a, "h", 1_000 + KEY_CACHE_TTL_MS)).toBeUndefined();
	});
});
