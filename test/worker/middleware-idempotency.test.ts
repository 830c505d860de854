import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/lib/crypto";
import { ApiError } from "../../src/lib/errors";
import { idempotency } from "../../src/middleware/idempotency";
import { errorOf, middlewareApp } from "../unit/helpers/middleware-app";

// idempotency() on a bare app with real D1: its claim, replay, mismatch and takeover are SQL.

/** The middleware behind a stand-in for apiKeyAuth (merchant from X-Merchant); counts handler runs. */
function app() {
	const runs = { count: 0 };
	const a = middlewareApp();
	a.use(async (c, next) => {
		const merchantId = c.req.header("X-Merchant");
		if (merchantId)
			c.set("auth", { merchantId, livemode: false, keyId: "key_1", keyType: "secret" });
		await next();
	});
	a.use(idempotency());
	a.post("/things", async (c) => {
		runs.count++;
		const body = await c.req.json<{ name: string; answer?: number }>();
		if (body.answer === 400) throw new ApiError("parameter_invalid", "Not that.", "name");
		if (body.answer === 503) return c.json({ down: true }, 503);
		return c.json({ id: `thing_${runs.count}`, name: body.name, secret: "shown once" }, 201);
	});
	a.get("/things", (c) => c.json({ runs: runs.count }));
	return { a, runs };
}

function post(body: unknown, key?: string, merchant = "mch_idem") {
	return {
		method: "POST",
		body: JSON.stringify(body),
		headers: {
			"Content-Type": "application/json",
			"X-Merchant": merchant,
			...(key === undefined ? {} : { "Idempotency-Key": key }),
		},
	};
}

describe("idempotency middleware", () => {
	it("replays the first completed response for the same key and body, without running the handler", async () => {
		const { a, runs } = app();
		const first = await a.request("/things", post({ name: "a" }, "key-replay"), env);
		expect(first.status).toBe(201);
		expect(await first.json()).toEqual({ id: "thing_1", name: "a", secret: "shown once" });
		const again = await a.request("/things", post({ name: "a" }, "key-replay"), env);
		expect(again.status).toBe(201);
		expect(again.headers.get("Idempotent-Replayed")).toBe("true");
		// The stored copy drops secrets: they are shown once.
		expect(await again.json()).toEqual({ id: "thing_1", name: "a" });
		expect(runs.count).toBe(1);
		const stored = await env.DB.prepare("SELECT response_body FROM idempotency_keys WHERE key = ?")
			.bind("key-replay")
			.first<{ response_body: string }>();
		// Sealed at rest (the suite sets ENCRYPTION_KEYS).
		expect(stored?.response_body).not.toContain("thing_1");
	});

	it("answers 422 idempotency_key_mismatch for the same key with other parameters", async () => {
		const { a } = app();
		await a.request("/things", post({ name: "a" }, "key-mismatch"), env);
		const res = await a.request("/things", post({ name: "b" }, "key-mismatch"), env);
		expect(res.status).toBe(422);
		expect(await errorOf(res)).toMatchObject({
			type: "idempotency_error",
			code: "idempotency_key_mismatch",
			param: "Idempotency-Key",
		});
	});

	it("answers 409 while the key is held, and takes over a lock whose holder died", async () => {
		const { a, runs } = app();
		const body = JSON.stringify({ name: "a" });
		const hash = await sha256Hex(`POST /things\n${body}`);
		const now = Math.floor(Date.now() / 1000);
		const hold = (lockedUntil: number) =>
			env.DB.prepare(
				`INSERT OR REPLACE INTO idempotency_keys (merchant_id, livemode, key, request_hash, locked_until, created, expires_at)
				 VALUES ('mch_idem', 0, 'key-held', ?, ?, ?, ?)`,
			)
				.bind(hash, lockedUntil, now, now + 86_400)
				.run();
		await hold(now + 60);
		const held = await a.request("/things", post({ name: "a" }, "key-held"), env);
		expect(held.status).toBe(409);
		expect(await errorOf(held)).toMatchObject({
			code: "idempotency_key_in_use",
			param: "Idempotency-Key",
		});
		expect(runs.count).toBe(0);
		await hold(now - 1);
		expect((await a.request("/things", post({ name: "a" }, "key-held"), env)).status).toBe(201);
		expect(runs.count).toBe(1);
	});

	it("stores nothing for a 400 or a 5xx, so the same key can be retried", async () => {
		const { a, runs } = app();
		for (const answer of [400, 503]) {
			const key = `key-retry-${answer}`;
			expect((await a.request("/things", post({ name: "a", answer }, key), env)).status).toBe(
				answer,
			);
			expect((await a.request("/things", post({ name: "a", answer }, key), env)).status).toBe(
				answer,
			);
			const row = await env.DB.prepare("SELECT key FROM idempotency_keys WHERE key = ?")
				.bind(key)
				.first();
			expect(row).toBeNull();
		}
		expect(runs.count).toBe(4);
	});

	it("keeps each merchant's keys apart", async () => {
		const { a, runs } = app();
		await a.request("/things", post({ name: "a" }, "key-shared", "mch_one"), env);
		const other = await a.request("/things", post({ name: "a" }, "key-shared", "mch_two"), env);
		expect(other.headers.get("Idempotent-Replayed")).toBeNull();
		expect(runs.count).toBe(2);
	});

	it("refuses a key that is empty, too long or not printable ASCII: 400 parameter_invalid", async () => {
		const { a, runs } = app();
		for (const key of ["has space", "x".repeat(256), "clé"]) {
			const res = await a.request("/things", post({ name: "a" }, key), env);
			expect(res.status).toBe(400);
			expect(await errorOf(res)).toMatchObject({
				type: "invalid_request_error",
				code: "parameter_invalid",
				param: "Idempotency-Key",
			});
		}
		expect(runs.count).toBe(0);
	});

	it("leaves requests without a key, and other methods, alone", async () => {
		const { a, runs } = app();
		await a.request("/things", post({ name: "a" }), env);
		await a.request("/things", post({ name: "a" }), env);
		expect(runs.count).toBe(2);
		const get = await a.request("/things", { headers: { "Idempotency-Key": "key-get" } }, env);
		expect(get.status).toBe(200);
		const row = await env.DB.prepare("SELECT key FROM idempotency_keys WHERE key = ?")
			.bind("key-get")
			.first();
		expect(row).toBeNull();
	});
});
