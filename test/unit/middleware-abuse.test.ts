import { describe, expect, it } from "vitest";
import { ApiError } from "../../src/lib/errors";
import { authFailureLimit, bodyLimits, htmlSecurityHeaders } from "../../src/middleware/abuse";
import { errorOf, memoryRateLimiter, middlewareApp } from "./helpers/middleware-app";

const json = (body: string, headers: Record<string, string> = {}) => ({
	method: "POST",
	body,
	headers: { "Content-Type": "application/json", ...headers },
});

describe("bodyLimits middleware", () => {
	function app(options?: Parameters<typeof bodyLimits>[0]) {
		const a = middlewareApp();
		a.use(bodyLimits(options));
		a.all("*", async (c) => c.json({ got: c.req.method === "GET" ? null : await c.req.json() }));
		return a;
	}

	it("passes a small strict JSON body on, readable again by the handler", async () => {
		const res = await app().request("/v1/x", json('{"a":1}'));
		expect(res.status).toBe(200);
		expect(await res.json()).toEqual({ got: { a: 1 } });
	});

	it("refuses a declared Content-Length over the limit: 413 body_too_large", async () => {
		const res = await app({ maxBytes: 1024 }).request("/v1/x", json(`{"a":"${"x".repeat(2048)}"}`));
		expect(res.status).toBe(413);
		expect(await errorOf(res)).toMatchObject({
			type: "invalid_request_error",
			code: "body_too_large",
			message: "The request body is larger than 1 KB.",
		});
	});

	it("judges a body without Content-Length by the bytes read", async () => {
		const stream = new ReadableStream({
			start(controller) {
				controller.enqueue(new TextEncoder().encode(`{"a":"${"x".repeat(2048)}"}`));
				controller.close();
			},
		});
		const res = await app({ maxBytes: 1024 }).request("/v1/x", {
			method: "POST",
			body: stream,
			headers: { "Content-Type": "application/json" },
			duplex: "half",
		} as RequestInit);
		expect(res.status).toBe(413);
		expect((await errorOf(res)).code).toBe("body_too_large");
	});

	it("gives a path its own larger limit", async () => {
		const a = app({ maxBytes: 10, overrides: [{ prefix: "/stripe/", maxBytes: 1024 }] });
		expect((await a.request("/stripe/webhooks", json('{"a":"0123456789"}'))).status).toBe(200);
		expect((await a.request("/v1/x", json('{"a":"0123456789"}'))).status).toBe(413);
	});

	it("refuses JSON with a duplicate key: 400 body_invalid", async () => {
		const res = await app().request("/v1/x", json('{"a":1,"a":2}'));
		expect(res.status).toBe(400);
		expect(await errorOf(res)).toMatchObject({
			type: "invalid_request_error",
			code: "body_invalid",
		});
	});

	it("takes another party's JSON as sent on a lenient path", async () => {
		const res = await app({ lenientJson: ["/stripe/"] }).request(
			"/stripe/webhooks",
			json('{"a":1,"a":2}'),
		);
		expect(res.status).toBe(200);
	});

	it("leaves GET alone", async () => {
		expect((await app({ maxBytes: 1 }).request("/v1/x")).status).toBe(200);
	});
});

describe("authFailureLimit middleware", () => {
	/** A stand-in for apiKeyAuth: "Bearer good" authenticates, anything else is a 401. */
	function app() {
		const a = middlewareApp();
		a.use(
			authFailureLimit(async (c, next) => {
				if (c.req.header("Authorization") !== "Bearer good") {
					throw new ApiError("api_key_invalid", "Invalid API key provided.");
				}
				await next();
			}),
		);
		a.get("/", (c) => c.text("ok"));
		return a;
	}
	const from = (ip: string | undefined, key: string) => ({
		headers: { Authorization: `Bearer ${key}`, ...(ip ? { "CF-Connecting-IP": ip } : {}) },
	});

	it("answers 401 until the network's failures pass the limit, then 429 with Retry-After 60", async () => {
		const env = { AUTH_FAILURE_RATE_LIMITER: memoryRateLimiter(2) };
		for (let i = 0; i < 2; i++) {
			const res = await app().request("/", from("192.0.2.1", "bad"), env);
			expect(res.status).toBe(401);
			expect(await errorOf(res)).toMatchObject({
				type: "authentication_error",
				code: "api_key_invalid",
			});
		}
		const refused = await app().request("/", from("192.0.2.1", "bad"), env);
		expect(refused.status).toBe(429);
		expect(refused.headers.get("Retry-After")).toBe("60");
		expect(await errorOf(refused)).toMatchObject({
			type: "rate_limit_error",
			code: "rate_limited",
		});
		expect((await app().request("/", from("192.0.2.2", "bad"), env)).status).toBe(401);
	});

	it("never counts a request that authenticates", async () => {
		const limiter = memoryRateLimiter(0);
		const res = await app().request("/", from("192.0.2.1", "good"), {
			AUTH_FAILURE_RATE_LIMITER: limiter,
		});
		expect(res.status).toBe(200);
		expect(limiter.keys).toEqual([]);
	});

	it("cannot count without a client IP (not through Cloudflare's edge)", async () => {
		const limiter = memoryRateLimiter(0);
		const res = await app().request("/", from(undefined, "bad"), {
			AUTH_FAILURE_RATE_LIMITER: limiter,
		});
		expect(res.status).toBe(401);
		expect(limiter.keys).toEqual([]);
	});
});

describe("htmlSecurityHeaders middleware", () => {
	function app() {
		const a = middlewareApp();
		a.use(htmlSecurityHeaders());
		a.get("/page", (c) => c.html("<p>hi</p>"));
		a.get("/own", (c) => {
			c.header("Content-Security-Policy", "default-src 'self'");
			return c.html("<p>own</p>");
		});
		a.get(
			"/built",
			() => new Response("<p>built</p>", { headers: { "Content-Type": "text/html" } }),
		);
		a.get("/json", (c) => c.json({ ok: true }));
		return a;
	}
	const env = (base: string) => ({ PUBLIC_BASE_URL: base });

	it("gives a page without a policy the strictest one and the other page headers", async () => {
		const res = await app().request("/page", {}, env("https://pay.example"));
		expect(res.headers.get("Content-Security-Policy")).toBe(
			"default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
		);
		expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
		expect(res.headers.get("Referrer-Policy")).toBe("no-referrer");
		expect(res.headers.get("X-Frame-Options")).toBe("DENY");
		expect(res.headers.get("Strict-Transport-Security")).toBe(
			"max-age=63072000; includeSubDomains",
		);
	});

	it("keeps a page's own policy, sets headers on a Response built by the handler, and no HSTS over http", async () => {
		const own = await app().request("/own", {}, env("http://localhost:8787"));
		expect(own.headers.get("Content-Security-Policy")).toBe("default-src 'self'");
		expect(own.headers.get("Strict-Transport-Security")).toBeNull();
		const built = await app().request("/built", {}, env("http://localhost:8787"));
		expect(built.headers.get("X-Frame-Options")).toBe("DENY");
		expect(await built.text()).toBe("<p>built</p>");
	});

	it("leaves other responses alone", async () => {
		const res = await app().request("/json", {}, env("https://pay.example"));
		expect(res.headers.get("Content-Security-Policy")).toBeNull();
		expect(res.headers.get("X-Frame-Options")).toBeNull();
	});
});
