import { describe, expect, it } from "vitest";
import { signCheckoutToken } from "../../src/lib/checkout-token";
import { sha256Hex } from "../../src/lib/crypto";
import { adminAuth, apiKeyAuth, checkoutTokenAuth } from "../../src/middleware/auth";
import {
	apiKeysDb,
	errorOf,
	executionContext,
	type KeyRow,
	middlewareApp,
} from "./helpers/middleware-app";

const SECRET = `sk_test_${"a".repeat(24)}`;
const PUBLISHABLE = `pk_test_${"b".repeat(24)}`;
const now = () => Math.floor(Date.now() / 1000);

function row(id: string, overrides: Partial<KeyRow> = {}): KeyRow {
	return {
		id,
		merchant_id: "mch_1",
		type: "secret",
		livemode: 0,
		expires_at: null,
		revoked_at: null,
		last_used_at: null,
		...overrides,
	};
}

/** apiKeyAuth over a store holding `keys`; the handler answers with what auth established. */
async function keyApp(keys: [string, KeyRow][], allow?: ("secret" | "publishable")[]) {
	const rows = new Map<string, KeyRow>();
	for (const [key, r] of keys) rows.set(await sha256Hex(key), r);
	const { db, calls } = apiKeysDb(rows);
	const app = middlewareApp();
	app.use(apiKeyAuth(allow ? { allow } : undefined));
	app.get("/", (c) => c.json(c.get("auth")));
	// One environment object per app: the key cache is per environment.
	const env = { DB: db };
	const call = async (authorization?: string) => {
		const ctx = executionContext();
		const res = await app.request(
			"/",
			{ headers: authorization === undefined ? {} : { Authorization: authorization } },
			env,
			ctx,
		);
		await Promise.all(ctx.waited);
		return res;
	};
	return { call, calls };
}

describe("apiKeyAuth middleware", () => {
	it("establishes the merchant, mode, key id and type of a live secret key", async () => {
		const { call } = await keyApp([[SECRET, row("key_1", { livemode: 1 })]]);
		const res = await call(`Bearer ${SECRET}`);
		expect(res.status).toBe(200);
		expect(await res.json()).toEqual({
			merchantId: "mch_1",
			livemode: true,
			keyId: "key_1",
			keyType: "secret",
		});
	});

	it("answers 401 api_key_missing without a key, api_key_invalid for another scheme", async () => {
		const { call } = await keyApp([]);
		const missing = await call();
		expect(missing.status).toBe(401);
		expect(await errorOf(missing)).toMatchObject({
			type: "authentication_error",
			code: "api_key_missing",
		});
		const basic = await call("Basic dXNlcjpwYXNz");
		expect(basic.status).toBe(401);
		expect(await errorOf(basic)).toMatchObject({
			code: "api_key_invalid",
			message: "The Authorization header must be 'Bearer <API key>'.",
		});
	});

	it("echoes none of a token not shaped like a key, and only a masked unknown key", async () => {
		const { call, calls } = await keyApp([]);
		const pasted = await call("Bearer some-other-secret-entirely");
		expect(await errorOf(pasted)).toMatchObject({
			code: "api_key_invalid",
			message: "Invalid API key provided.",
		});
		expect(calls.lookups).toBe(0);
		const unknown = await call(`Bearer ${SECRET}`);
		expect(unknown.status).toBe(401);
		const { message } = await errorOf(unknown);
		expect(message).toBe(`Invalid API key provided: sk_test_${"*".repeat(20)}aaaa`);
		expect(message).not.toContain(SECRET);
	});

	it("refuses a revoked key as invalid and an expired one as expired", async () => {
		const revoked = await keyApp([[SECRET, row("key_1", { revoked_at: now() - 1 })]]);
		expect((await errorOf(await revoked.call(`Bearer ${SECRET}`))).code).toBe("api_key_invalid");
		const expired = await keyApp([[SECRET, row("key_1", { expires_at: now() - 1 })]]);
		const res = await expired.call(`Bearer ${SECRET}`);
		expect(res.status).toBe(401);
		expect((await errorOf(res)).code).toBe("api_key_expired");
	});

	it("refuses a publishable key where only secret keys may call, and takes it where allowed", async () => {
		const keys: [string, KeyRow][] = [[PUBLISHABLE, row("key_pk", { type: "publishable" })]];
		const secretOnly = await keyApp(keys);
		const refused = await secretOnly.call(`Bearer ${PUBLISHABLE}`);
		expect(refused.status).toBe(401);
		expect((await errorOf(refused)).code).toBe("secret_key_required");
		const both = await keyApp(keys, ["secret", "publishable"]);
		const res = await both.call(`Bearer ${PUBLISHABLE}`);
		expect(res.status).toBe(200);
		expect(await res.json()).toMatchObject({ keyId: "key_pk", keyType: "publishable" });
	});

	it("records last use at most once an hour, off the response path", async () => {
		const { call, calls } = await keyApp([[SECRET, row("key_1")]]);
		await call(`Bearer ${SECRET}`);
		await call(`Bearer ${SECRET}`);
		expect(calls.lastUsedWrites).toEqual([[expect.any(Number), "key_1"]]);
		const recent = await keyApp([[SECRET, row("key_1", { last_used_at: now() - 60 })]]);
		await recent.call(`Bearer ${SECRET}`);
		expect(recent.calls.lastUsedWrites).toEqual([]);
	});
});

describe("adminAuth middleware", () => {
	function app() {
		const a = middlewareApp();
		a.use(adminAuth());
		a.get("/admin", (c) => c.text("ok"));
		return a;
	}
	const TOKEN = "admin-token-0123456789";

	it("hides the admin API when no ADMIN_TOKEN is set: 404 route_not_found", async () => {
		const res = await app().request(
			"/admin",
			{ headers: { Authorization: `Bearer ${TOKEN}` } },
			{},
		);
		expect(res.status).toBe(404);
		expect(await errorOf(res)).toMatchObject({
			type: "invalid_request_error",
			code: "route_not_found",
			message: "Unrecognized request URL (GET: /admin).",
		});
	});

	it("takes the admin token and refuses a missing or wrong one", async () => {
		const env = { ADMIN_TOKEN: TOKEN };
		expect(
			(await app().request("/admin", { headers: { Authorization: `Bearer ${TOKEN}` } }, env))
				.status,
		).toBe(200);
		expect((await errorOf(await app().request("/admin", {}, env))).code).toBe("api_key_missing");
		const wrong = await app().request("/admin", { headers: { Authorization: "Bearer nope" } }, env);
		expect(wrong.status).toBe(401);
		expect(await errorOf(wrong)).toMatchObject({
			code: "api_key_invalid",
			message: "Invalid admin token.",
		});
	});
});

describe("checkoutTokenAuth middleware", () => {
	const SESSION_SECRET = "test-session-secret-0123456789abcdef0123";
	function app() {
		const a = middlewareApp();
		a.use(
			"/pay/:id",
			checkoutTokenAuth((path) => path.split("/")[2] ?? null),
		);
		a.get("/pay/:id", (c) => c.json(c.get("auth")));
		return a;
	}
	const token = (paymentId: string, expiresAt = now() + 600) =>
		signCheckoutToken(
			SESSION_SECRET,
			{ paymentId, merchantId: "mch_1", livemode: false },
			expiresAt,
		);
	const call = async (path: string, bearer: string) =>
		app().request(path, { headers: { Authorization: `Bearer ${bearer}` } }, { SESSION_SECRET });

	it("lets a checkout page act for its own payment as a publishable caller", async () => {
		const res = await call("/pay/pay_1", await token("pay_1"));
		expect(res.status).toBe(200);
		expect(await res.json()).toEqual({
			merchantId: "mch_1",
			livemode: false,
			keyId: "checkout:pay_1",
			keyType: "publishable",
		});
	});

	it("refuses a token for another payment, an expired one and a forged one alike", async () => {
		for (const bearer of [
			await token("pay_2"),
			await token("pay_1", now() - 1),
			"e30.e30.forged",
		]) {
			const res = await call("/pay/pay_1", bearer);
			expect(res.status).toBe(401);
			expect(await errorOf(res)).toMatchObject({
				code: "api_key_invalid",
				message: "Invalid or expired checkout token; reload the checkout page.",
			});
		}
	});
});
