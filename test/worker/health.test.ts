import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";

/** D1 that fails every call, and counts the attempts. */
function unreachableDb(): { db: D1Database; calls: () => number } {
	let calls = 0;
	const db = new Proxy(env.DB, {
		get() {
			return () => {
				calls++;
				throw new Error("D1_ERROR: network connection lost");
			};
		},
	});
	return { db, calls: () => calls };
}

async function get(path: string, overrides: Partial<typeof env> = {}): Promise<Response> {
	const ctx = createExecutionContext();
	const res = await worker.fetch(
		new Request(`http://gateway.test${path}`),
		{ ...env, ...overrides },
		ctx,
	);
	await waitOnExecutionContext(ctx);
	return res;
}

describe("health probes", () => {
	it("GET /health/live answers 200 {status: ok} without touching D1, even when D1 is down", async () => {
		const { db, calls } = unreachableDb();
		const res = await get("/health/live", { DB: db });
		expect(res.status).toBe(200);
		expect(await res.json()).toEqual({ status: "ok" });
		expect(calls()).toBe(0);
	});

	it("GET /health reads D1 and answers 503 degraded when it cannot", async () => {
		const { db, calls } = unreachableDb();
		const res = await get("/health", { DB: db });
		expect(res.status).toBe(503);
		expect(await res.json()).toEqual({ status: "degraded", environment: "test" });
		expect(calls()).toBe(1);
	});

	it("lists both probes in the OpenAPI document", async () => {
		const res = await get("/v1/openapi.json");
		const doc = (await res.json()) as { paths: Record<string, unknown> };
		expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/health", "/health/live"]));
	});
});
