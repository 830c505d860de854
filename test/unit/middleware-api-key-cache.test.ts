import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/lib/crypto";
import {
	cachedApiKey,
	forgetApiKeys,
	KEY_CACHE_TTL_MS,
	rememberApiKey,
} from "../../src/middleware/api-key-cache";
import { adminAuth, apiKeyAuth } from "../../src/middleware/auth";
import { apiKeysDb, executionContext, type KeyRow, middlewareApp } from "./helpers/middleware-app";

const ROW: KeyRow = {
	id: "key_1",
	merchant_id: "mch_1",
	type: "secret",
	livemode: 0,
	expires_at: null,
	revoked_at: null,
	last_used_at: Math.floor(Date.now() / 1000),
};

describe("API key cache", () => {
	it("serves a live key's row for KEY_CACHE_TTL_MS, per environment object", () => {
		const env = {};
		rememberApiKey(env, "hash", ROW, 1_000);
		expect(cachedApiKey(env, "hash", 1_000 + KEY_CACHE_TTL_MS - 1)).toEqual(ROW);
		expect(cachedApiKey({}, "hash", 1_000)).toBeUndefined();
		expect(cachedApiKey(env, "hash", 1_000 + KEY_CACHE_TTL_MS)).toBeUndefined();
		// Expired entries are dropped, not served again.
		expect(cachedApiKey(env, "hash", 1_000)).toBeUndefined();
	});

	it("never keeps a revoked key", () => {
		const env = {};
		rememberApiKey(env, "hash", { ...ROW, revoked_at: 1 }, 1_000);
		expect(cachedApiKey(env, "hash", 1_000)).toBeUndefined();
	});

	it("keeps at most 1,000 keys, dropping the oldest", () => {
		const env = {};
		for (let i = 0; i <= 1_000; i++) rememberApiKey(env, `hash_${i}`, ROW, 1_000);
		expect(cachedApiKey(env, "hash_0", 1_000)).toBeUndefined();
		expect(cachedApiKey(env, "hash_1", 1_000)).toEqual(ROW);
		expect(cachedApiKey(env, "hash_1000", 1_000)).toEqual(ROW);
	});

	it("forgets every key at once", () => {
		const env = {};
		rememberApiKey(env, "hash", ROW, 1_000);
		forgetApiKeys();
		expect(cachedApiKey(env, "hash", 1_000)).toBeUndefined();
	});

	it("spares apiKeyAuth the lookup on repeat requests until an admin write drops the cache", async () => {
		const key = `sk_test_${"c".repeat(24)}`;
		const { db, calls } = apiKeysDb(new Map([[await sha256Hex(key), ROW]]));
		const app = middlewareApp();
		app.get("/v1/x", apiKeyAuth(), (c) => c.text("ok"));
		app.post("/admin/x", adminAuth(), (c) => c.text("ok"));
		const env = { DB: db, ADMIN_TOKEN: "admin-token-0123456789" };
		const v1 = () =>
			app.request(
				"/v1/x",
				{ headers: { Authorization: `Bearer ${key}` } },
				env,
				executionContext(),
			);
		expect((await v1()).status).toBe(200);
		expect((await v1()).status).toBe(200);
		expect(calls.lookups).toBe(1);
		const admin = await app.request(
			"/admin/x",
			{ method: "POST", headers: { Authorization: "Bearer admin-token-0123456789" } },
			env,
		);
		expect(admin.status).toBe(200);
		expect((await v1()).status).toBe(200);
		expect(calls.lookups).toBe(2);
	});
});
