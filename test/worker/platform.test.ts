import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { call, createMerchant, createPayment, json } from "./helpers/api";
import { advanceSlots, rpc } from "./helpers/solana";

/** Calls the Worker with a modified environment, to stand in for a failing dependency. */
async function callWith(
	overrides: Partial<typeof env>,
	path: string,
	key: string,
): Promise<Response> {
	const ctx = createExecutionContext();
	const res = await worker.fetch(
		new Request(`http://gateway.test${path}`, { headers: { Authorization: `Bearer ${key}` } }),
		{ ...env, ...overrides },
		ctx,
	);
	await waitOnExecutionContext(ctx);
	return res;
}

describe("operations endpoints", () => {
	it("reports health with D1 reachable", async () => {
		// The settlement wallet needs SOL for network fees; health says so when it has none.
		await rpc("requestAirdrop", [env.SOLANA_SETTLEMENT_WALLET, 1_000_000_000]);
		await advanceSlots(1);
		const res = await call("GET", "/health");
		expect(res.status, await res.clone().text()).toBe(200);
		expect(await json(res)).toMatchObject({ status: "ok", environment: "test" });
	});

	it("serves an OpenAPI 3.1 document generated from the route schemas", async () => {
		const res = await call("GET", "/v1/openapi.json");
		expect(res.status).toBe(200);
		const doc = await json<{
			openapi: string;
			paths: Record<string, Record<string, unknown>>;
			components: { schemas: Record<string, unknown> };
		}>(res);
		expect(doc.openapi).toBe("3.1.0");
		expect(Object.keys(doc.paths)).toEqual(
			expect.arrayContaining([
				"/v1/payments",
				"/v1/payments/{id}",
				"/v1/payments/{id}/cancel",
				"/v1/events",
				"/v1/events/{id}",
				"/v1/balances",
				"/admin/v1/merchants",
				"/admin/v1/merchants/{id}/keys/{key}/roll",
			]),
		);
		expect(Object.keys(doc.paths["/v1/payments"] ?? {})).toEqual(
			expect.arrayContaining(["get", "post"]),
		);
		expect(Object.keys(doc.components.schemas)).toEqual(
			expect.arrayContaining(["Payment", "Error", "Event", "Balance", "CreatePayment"]),
		);
	});

	it("serves interactive docs at /docs", async () => {
		const res = await call("GET", "/docs");
		expect(res.status).toBe(200);
		expect(res.headers.get("Content-Type")).toContain("text/html");
		expect(await res.text()).toContain("/v1/openapi.json");
	});
});

describe("failure handling", () => {
	it("answers 429 rate_limited with Retry-After when the key's limit is spent", async () => {
		const m = await createMerchant();
		const spent = { limit: async () => ({ success: false }) } as RateLimit;
		const res = await callWith({ API_RATE_LIMITER: spent }, "/v1/payments", m.sk);
		expect(res.status).toBe(429);
		expect(res.headers.get("Retry-After")).toBe("10");
		expect((await json<{ error: { code: string; type: string } }>(res)).error).toMatchObject({
			code: "rate_limited",
			type: "rate_limit_error",
		});
	});

	it("counts requests per API key", async () => {
		const m = await createMerchant();
		const keys: string[] = [];
		const counting = {
			limit: async ({ key }: { key: string }) => {
				keys.push(key);
				return { success: true };
			},
		} as RateLimit;
		expect((await callWith({ API_RATE_LIMITER: counting }, "/v1/payments", m.sk)).status).toBe(200);
		expect(keys).toEqual([m.keys.find((k) => k.secret === m.sk)?.id]);
	});

	it("turns an unexpected error into a 500 internal_error without internals", async () => {
		const m = await createMerchant();
		const broken = new Proxy(env.DB, {
			get(target, prop) {
				if (prop === "prepare") {
					return (sql: string) => {
						if (sql.includes("FROM payments"))
							throw new Error("D1_ERROR: no such table: secret_internal_table");
						return target.prepare(sql);
					};
				}
				const value = Reflect.get(target, prop);
				return typeof value === "function" ? value.bind(target) : value;
			},
		});
		const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
		const res = await callWith({ DB: broken }, "/v1/payments", m.sk);
		expect(res.status).toBe(500);
		// The cause is logged with the request id, for the operator; the client sees none of it.
		expect(String(logged.mock.calls[0]?.[0])).toContain(
			`"request_id":"${res.headers.get("Request-Id")}"`,
		);
		expect(String(logged.mock.calls[0]?.[0])).toContain("secret_internal_table");
		logged.mockRestore();
		const body = await res.text();
		expect(JSON.parse(body)).toEqual({
			error: {
				type: "api_error",
				code: "internal_error",
				message: "An internal error occurred. Retry later; quote the request id if it persists.",
				request_id: res.headers.get("Request-Id"),
			},
		});
		expect(body).not.toContain("secret_internal_table");
	});

	it("refuses to run with a missing or short ADMIN_TOKEN, saying which setting is wrong", async () => {
		const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
		const res = await callWith({ ADMIN_TOKEN: "short" }, "/health", "x");
		expect(res.status).toBe(500);
		expect((await json<{ error: { code: string } }>(res)).error.code).toBe("internal_error");
		expect(String(logged.mock.calls[0]?.[0])).toContain(
			"ADMIN_TOKEN must be at least 16 characters",
		);
		logged.mockRestore();
	});
});

describe("API key bookkeeping", () => {
	it("records when a key was last used, at most once an hour", async () => {
		const m = await createMerchant();
		const keyId = m.keys.find((k) => k.secret === m.sk)?.id;
		const lastUsed = async () =>
			(
				await env.DB.prepare("SELECT last_used_at FROM api_keys WHERE id = ?")
					.bind(keyId)
					.first<{ last_used_at: number | null }>()
			)?.last_used_at;
		expect(await lastUsed()).toBeNull();
		expect((await callWith({}, "/v1/balances", m.sk)).status).toBe(200);
		const first = await lastUsed();
		expect(first).toBeGreaterThan(0);
		await env.DB.prepare("UPDATE api_keys SET last_used_at = 100 WHERE id = ?").bind(keyId).run();
		await callWith({}, "/v1/balances", m.sk);
		expect(await lastUsed()).toBeGreaterThanOrEqual(first as number);
		await callWith({}, "/v1/balances", m.sk);
		const settled = await lastUsed();
		await callWith({}, "/v1/balances", m.sk);
		expect(await lastUsed()).toBe(settled);
	});

	it("echoes no part of a token that is not shaped like an API key", async () => {
		const res = await callWith({}, "/v1/balances", "test-admin-token");
		expect(res.status).toBe(401);
		const body = await json<{ error: { message: string } }>(res);
		expect(body.error.message).toBe("Invalid API key provided.");
	});
});

describe("event order", () => {
	it("orders a payment's events by commit even within one millisecond", async () => {
		const m = await createMerchant();
		const p = await createPayment(m.sk);
		await call("POST", `/v1/payments/${p.id}/cancel`, { key: m.sk });
		const events = await json<{ data: { type: string; id: string }[] }>(
			await call("GET", `/v1/events?object_id=${p.id}`, { key: m.sk }),
		);
		expect(events.data.map((e) => e.type)).toEqual(["payment.canceled", "payment.created"]);
	});
});
