import { describe, expect, it } from "vitest";
import { ApiError } from "../../src/lib/errors";
import { errorOf, middlewareApp } from "./helpers/middleware-app";

describe("requestId middleware", () => {
	it("gives each request its own req_ id, in the Request-Id header and to the handler", async () => {
		const app = middlewareApp();
		app.get("/", (c) => c.text(c.get("requestId")));
		const first = await app.request("/");
		const second = await app.request("/");
		const id = first.headers.get("Request-Id");
		expect(id).toMatch(/^req_/);
		expect(await first.text()).toBe(id);
		expect(second.headers.get("Request-Id")).not.toBe(id);
	});

	it("keeps the header on a Response the handler built itself", async () => {
		const app = middlewareApp();
		app.get("/", () => new Response("built", { headers: { "Content-Type": "text/plain" } }));
		const res = await app.request("/");
		expect(res.headers.get("Request-Id")).toMatch(/^req_/);
		expect(await res.text()).toBe("built");
	});

	it("puts the same id in the error body", async () => {
		const app = middlewareApp();
		app.get("/", () => {
			throw new ApiError("resource_missing", "No such thing: 'x'", "id");
		});
		const res = await app.request("/");
		expect(res.status).toBe(404);
		expect(await errorOf(res)).toEqual({
			type: "invalid_request_error",
			code: "resource_missing",
			message: "No such thing: 'x'",
			param: "id",
			request_id: res.headers.get("Request-Id"),
		});
	});
});
