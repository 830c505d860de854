import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../types";

// Two probes: `/health/live` says the Worker runs and answers (no I/O at all, so a load balancer
// or uptime check never costs a D1 read, and benchmarks use it as the floor of the request path);
// `/health` also reads D1 and answers 503 when it cannot.

const live = createRoute({
	method: "get",
	path: "/health/live",
	tags: ["Operations"],
	summary: "Liveness: the Worker answers (no D1 or other I/O)",
	responses: {
		200: {
			description: "Alive",
			content: { "application/json": { schema: z.object({ status: z.literal("ok") }) } },
		},
	},
});

const health = createRoute({
	method: "get",
	path: "/health",
	tags: ["Operations"],
	summary: "Liveness and D1 reachability",
	responses: {
		200: {
			description: "Healthy",
			content: {
				"application/json": {
					schema: z.object({ status: z.literal("ok"), environment: z.string() }),
				},
			},
		},
		503: {
			description: "D1 unreachable",
			content: {
				"application/json": {
					schema: z.object({ status: z.literal("degraded"), environment: z.string() }),
				},
			},
		},
	},
});

export function registerHealth(app: App): void {
	app.openapi(live, (c) => c.json({ status: "ok" as const }, 200));
	app.openapi(health, async (c) => {
		try {
			await c.env.DB.prepare("SELECT 1").first();
			return c.json({ status: "ok" as const, environment: c.env.ENVIRONMENT }, 200);
		} catch {
			return c.json({ status: "degraded" as const, environment: c.env.ENVIRONMENT }, 503);
		}
	});
}
