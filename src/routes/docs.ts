import { swaggerUI } from "@hono/swagger-ui";
import type { App } from "../types";

export const API_VERSION = "2026-11-01";

/** OpenAPI 3.1 generated from the same zod schemas that validate requests, and interactive docs. */
export function registerDocs(app: App): void {
	app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
		type: "http",
		scheme: "bearer",
		description: "A secret API key: `sk_test_…` for test mode, `sk_live_…` for live mode.",
	});
	app.openAPIRegistry.registerComponent("securitySchemes", "adminAuth", {
		type: "http",
		scheme: "bearer",
		description: "The operator's ADMIN_TOKEN secret.",
	});
	app.doc31("/v1/openapi.json", (c) => ({
		openapi: "3.1.0",
		info: {
			title: "StreamPayments API",
			version: API_VERSION,
			description:
				"Accept SOL, USDC and other SPL tokens through Solana Pay, and cards through Stripe, with one API. Amounts are integer minor units; every POST accepts an Idempotency-Key.",
		},
		servers: [{ url: new URL(c.req.url).origin }],
	}));
	app.get("/docs", swaggerUI({ url: "/v1/openapi.json", title: "StreamPayments API" }));
}
