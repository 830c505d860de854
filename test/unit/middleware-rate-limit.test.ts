import { describe, expect, it } from "vitest";
import { ipRateLimit, rateLimit } from "../../src/middleware/rate-limit";
import { errorOf, memoryRateLimiter, middlewareApp } from "./helpers/middleware-app";

/** rateLimit() behind a stand-in for apiKeyAuth: the key id comes from the X-Key header. */
function apiApp() {
	const app = middlewareApp();
	app.use(async (c, next) => {
		const keyId = c.req.header("X-Key");
		if (keyId) c.set("auth", { merchantId: "mch_1", livemode: false, keyId, keyType: "secret" });
		await next();
	});
	app.use(rateLimit());
	app.get("/", (c) => c.text("ok"));
	return app;
}

describe("rateLimit middleware (per API key)", () => {
	it("answers 429 rate_limited with Retry-After 10 once a key is over its limit; other keys go on", async () => {
		const limiter = memoryRateLimiter(2);
		const env = { API_RATE_LIMITER: limiter };
		const call = (key: string) => apiApp().request("/", { headers: { "X-Key": key } }, env);
		expect((await call("key_a")).status).toBe(200);
		expect((await call("key_a")).status).toBe(200);
		const refused = await call("key_a");
		expect(refused.status).toBe(429);
		expect(refused.headers.get("Retry-After")).toBe("10");
		expect(await errorOf(refused)).toMatchObject({
			type: "rate_limit_error",
			code: "rate_limited",
		});
		expect((await call("key_b")).status).toBe(200);
		expect(limiter.keys).toEqual(["key_a", "key_a", "key_a", "key_b"]);
	});

	it("lets requests through without the binding, or before a key is known", async () => {
		expect((await apiApp().request("/", { headers: { "X-Key": "key_a" } }, {})).status).toBe(200);
		const limiter = memoryRateLimiter(0);
		expect((await apiApp().request("/", {}, { API_RATE_LIMITER: limiter })).status).toBe(200);
		expect(limiter.keys).toEqual([]);
	});
});

describe("ipRateLimit middleware (per client IP)", () => {
	function ipApp() {
		const app = middlewareApp();
		app.use(ipRateLimit("CHECKOUT_RATE_LIMITER"));
		app.get("/", (c) => c.text("ok"));
		return app;
	}

	it("counts by CF-Connecting-IP and answers 429 with Retry-After 60 past the limit", async () => {
		const limiter = memoryRateLimiter(1);
		const env = { CHECKOUT_RATE_LIMITER: limiter };
		const from = (ip: string) => ipApp().request("/", { headers: { "CF-Connecting-IP": ip } }, env);
		expect((await from("192.0.2.1")).status).toBe(200);
		const refused = await from("192.0.2.1");
		expect(refused.status).toBe(429);
		expect(refused.headers.get("Retry-After")).toBe("60");
		expect(await errorOf(refused)).toMatchObject({
			type: "rate_limit_error",
			code: "rate_limited",
		});
		expect((await from("192.0.2.2")).status).toBe(200);
	});

	it("counts requests without the header under one 'unknown' key", async () => {
		const limiter = memoryRateLimiter(5);
		await ipApp().request("/", {}, { CHECKOUT_RATE_LIMITER: limiter });
		expect(limiter.keys).toEqual(["unknown"]);
	});

	it("uses the binding it was given, not another", async () => {
		const other = memoryRateLimiter(0);
		const res = await ipApp().request("/", {}, { LINK_RATE_LIMITER: other });
		expect(res.status).toBe(200);
		expect(other.keys).toEqual([]);
	});
});
