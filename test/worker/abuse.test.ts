import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { assertEnv } from "../../src/config";
import type { Env } from "../../src/env";
import {
	ADMIN_TOKEN,
	admin,
	call,
	createMerchant,
	expectApiError,
	json,
	unknownKey,
} from "./helpers/api";

afterEach(() => {
	(env as { ADMIN_TOKEN?: string }).ADMIN_TOKEN = ADMIN_TOKEN;
});

describe("request bodies", () => {
	it("answers a body over 64 KB with 413 body_too_large, before authentication", async () => {
		const m = await createMerchant();
		const big = JSON.stringify({ amount: 100, currency: "usd", description: "x".repeat(70_000) });
		await expectApiError(
			await call("POST", "/v1/payments", { key: m.sk, rawBody: big, headers: json_ }),
			"body_too_large",
		);
		await expectApiError(
			await call("POST", "/v1/payments", { rawBody: big, headers: json_ }),
			"body_too_large",
		);
		// A body streamed without Content-Length is measured as it is read.
		const stream = new ReadableStream({
			start(controller) {
				controller.enqueue(new TextEncoder().encode(big));
				controller.close();
			},
		});
		const { exports } = await import("cloudflare:workers");
		const res = await exports.default.fetch(
			new Request("http://gateway.test/v1/payments", {
				method: "POST",
				headers: { ...json_, Authorization: `Bearer ${m.sk}` },
				body: stream,
				duplex: "half",
			} as RequestInit),
		);
		await expectApiError(res, "body_too_large");
	});

	it("refuses JSON nested deeper than 32 levels", async () => {
		const m = await createMerchant();
		let metadata: unknown = "x";
		for (let i = 0; i < 40; i++) metadata = { a: metadata };
		const res = await call("POST", "/v1/payments", {
			key: m.sk,
			body: { amount: 100, currency: "usd", metadata },
		});
		const error = await expectApiError(res, "body_invalid");
		expect(error.message).toMatch(/32 levels/);
	});

	it("refuses __proto__ and constructor keys, duplicate keys and non-object bodies", async () => {
		const m = await createMerchant();
		const send = (rawBody: string) =>
			call("POST", "/v1/payments", { key: m.sk, rawBody, headers: json_ });
		expect(
			(
				await expectApiError(
					await send('{"amount":100,"currency":"usd","metadata":{"__proto__":{"x":"1"}}}'),
					"body_invalid",
				)
			).message,
		).toMatch(/__proto__/);
		await expectApiError(
			await send('{"amount":100,"currency":"usd","constructor":{"prototype":{}}}'),
			"body_invalid",
		);
		expect(
			(
				await expectApiError(
					await send('{"amount":100,"amount":900,"currency":"usd"}'),
					"body_invalid",
				)
			).message,
		).toMatch(/'amount' appears twice/);
		for (const body of ["[]", "1", '"x"', "null"]) {
			await expectApiError(await send(body), "body_invalid");
		}
		// An ordinary body still goes through.
		expect((await send('{"amount":100,"currency":"usd"}')).status).toBe(200);
	});
});

describe("admin API", () => {
	it("does not exist without ADMIN_TOKEN: 404 route_not_found, even with the old token", async () => {
		delete (env as { ADMIN_TOKEN?: string }).ADMIN_TOKEN;
		await expectApiError(
			await admin("POST", "/admin/v1/merchants", { name: "X" }),
			"route_not_found",
		);
		await expectApiError(await call("GET", "/admin/v1/merchants/mch_x"), "route_not_found");
		(env as { ADMIN_TOKEN?: string }).ADMIN_TOKEN = ADMIN_TOKEN;
		expect((await admin("POST", "/admin/v1/merchants", { name: "X" })).status).toBe(201);
	});

	it("keeps the 16-character rule for ADMIN_TOKEN when it is set", () => {
		const { ADMIN_TOKEN: _token, ...withoutToken } = env as unknown as Env;
		expect(() => assertEnv({ ...withoutToken } as Env)).not.toThrow();
		expect(() => assertEnv({ ...withoutToken, ADMIN_TOKEN: "short" } as Env)).toThrow(
			/ADMIN_TOKEN must be at least 16 characters/,
		);
	});
});

describe("failed authentication", () => {
	it("answers 429 with Retry-After after 60 failures a minute from one IP; others are unaffected", async () => {
		const m = await createMerchant();
		const ip = { "CF-Connecting-IP": "203.0.113.7" };
		let limited: Response | undefined;
		for (let i = 0; i < 70 && !limited; i++) {
			const res = await call("GET", "/v1/payments", { key: unknownKey(), headers: ip });
			if (res.status === 429) limited = res;
			else expect(res.status).toBe(401);
		}
		expect(limited, "no 429 after 70 failures").toBeDefined();
		expect(limited?.headers.get("Retry-After")).toBe("60");
		await expectApiError(limited as Response, "rate_limited");
		// A missing key counts as a failure too; a valid key from the same IP still works.
		await expectApiError(await call("GET", "/v1/payments", { headers: ip }), "rate_limited");
		expect((await call("GET", "/v1/payments", { key: m.sk, headers: ip })).status).toBe(200);
		// Another network is not limited.
		await expectApiError(
			await call("GET", "/v1/payments", {
				key: unknownKey(),
				headers: { "CF-Connecting-IP": "198.51.100.9" },
			}),
			"api_key_invalid",
		);
	});
});

describe("browsers", () => {
	it("gives /v1 no CORS: the checkout calls it from its own origin", async () => {
		const m = await createMerchant();
		const preflight = await call("OPTIONS", "/v1/payments", {
			headers: {
				Origin: "https://evil.example",
				"Access-Control-Request-Method": "POST",
				"Access-Control-Request-Headers": "authorization",
			},
		});
		expect(preflight.headers.get("Access-Control-Allow-Origin")).toBeNull();
		const get = await call("GET", "/v1/payments", {
			key: m.sk,
			headers: { Origin: "https://evil.example" },
		});
		expect(get.status).toBe(200);
		expect(get.headers.get("Access-Control-Allow-Origin")).toBeNull();
	});

	it("serves /docs with a Content-Security-Policy that allows scripts from this origin only", async () => {
		const res = await call("GET", "/docs");
		expect(res.status).toBe(200);
		const csp = res.headers.get("Content-Security-Policy") ?? "";
		expect(csp).toMatch(/default-src 'none'/);
		expect(csp).toMatch(/script-src 'self'(;|$)/);
		expect(csp).not.toMatch(/https?:/);
		expect(csp).toMatch(/frame-ancestors 'none'/);
		expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
		expect(res.headers.get("X-Frame-Options")).toBe("DENY");
		// No inline script at all: every <script> has a src on this origin.
		const html = await res.text();
		expect(html).not.toMatch(/<script(?![^>]*\ssrc="\/)[^>]*>/);
	});

	it("puts security headers on every HTML page, the checkout included", async () => {
		const m = await createMerchant();
		const p = await json<{ id: string }>(
			await call("POST", "/v1/payments", { key: m.sk, body: { amount: 100, currency: "usd" } }),
		);
		const res = await call("GET", `/checkout/${p.id}`);
		expect(res.headers.get("Content-Type")).toMatch(/^text\/html/);
		expect(res.headers.get("Content-Security-Policy")).toMatch(/script-src 'self'/);
		expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
		expect(res.headers.get("Referrer-Policy")).toBe("no-referrer");
	});
});

const json_ = { "Content-Type": "application/json" };
