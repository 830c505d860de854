import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../types";

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
	app.openapi(health, async (c) => {
		try {
			await c.env.DB.prepare("SELECT 1").first();
			return c.json({ status: "ok" as const, environment: c.env.ENVIRONMENT }, 200);
		} catch {
			return c.json({ status: "degraded" as const, environment: c.env.ENVIRONMENT }, 503);
		}
	});
}
