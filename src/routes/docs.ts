import { swaggerUI } from "@hono/swagger-ui";
import { setPageSecurityHeaders } from "../lib/html";
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
	const ui = swaggerUI({ url: "/v1/openapi.json", title: "StreamPayments API" });
	let page: Promise<{ html: string; scriptHashes: string[] }> | undefined;
	app.get("/docs", async (c, next) => {
		page ??= (async () => {
			// The UI middleware only renders HTML; it needs nothing of this app's context types.
			const html = await (
				(await ui(c as unknown as Parameters<typeof ui>[0], next)) as Response
			).text();
			const inline = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1] ?? "");
			return { html, scriptHashes: await Promise.all(inline.map(cspHash)) };
		})();
		const { html, scriptHashes } = await page;
		// Swagger UI comes from jsDelivr; its one inline script is allowed by hash, nothing else runs.
		setPageSecurityHeaders(c, [
			"default-src 'none'",
			`script-src ${SWAGGER_CDN} ${scriptHashes.map((h) => `'${h}'`).join(" ")}`,
			`style-src ${SWAGGER_CDN} 'unsafe-inline'`,
			`img-src 'self' data: ${SWAGGER_CDN}`,
			`font-src ${SWAGGER_CDN} data:`,
			"connect-src 'self'",
			"base-uri 'none'",
			"form-action 'none'",
			"frame-ancestors 'none'",
		]);
		// Standards mode: without a doctype, browsers lay the page out in quirks mode.
		return c.html(/^<!doctype html>/i.test(html) ? html : `<!DOCTYPE html>${html}`);
	});
}

const SWAGGER_CDN = "https://cdn.jsdelivr.net";

async function cspHash(script: string): Promise<string> {
	const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(script));
	return `sha256-${btoa(String.fromCharCode(...new Uint8Array(digest)))}`;
}
