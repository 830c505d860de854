import { CLIENT_ASSETS } from "../generated/client-assets";
import { DOCS_ASSETS, SWAGGER_UI_VERSION } from "../generated/docs-assets";
import { ApiError } from "../lib/errors";
import { setPageSecurityHeaders } from "../lib/html";
import type { App } from "../types";

export const API_VERSION = "2026-11-01";

/**
 * OpenAPI 3.1 generated from the same zod schemas that validate requests, and interactive docs:
 * Swagger UI from the pinned swagger-ui-dist, bundled at build time (scripts/build-client.ts)
 * and served from this origin, so /docs works offline.
 */
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
	app.get("/docs", (c) => {
		// Everything from this origin: the page works offline and names no third party.
		setPageSecurityHeaders(c, [
			"default-src 'none'",
			"script-src 'self'",
			// Swagger UI sets style attributes on its elements.
			"style-src 'self' 'unsafe-inline'",
			"img-src 'self' data:",
			"font-src 'self' data:",
			"connect-src 'self'",
			"base-uri 'none'",
			"form-action 'none'",
			"frame-ancestors 'none'",
		]);
		c.header("Cache-Control", "no-cache");
		return c.html(DOCS_PAGE);
	});

	// Content-hashed names: a new swagger-ui-dist or page script changes the name.
	app.get("/docs/assets/:file", (c) => {
		const asset = DOCS_FILES.get(c.req.param("file"));
		if (!asset)
			throw new ApiError("route_not_found", `No docs asset named '${c.req.param("file")}'.`);
		c.header("Content-Type", asset.type);
		c.header("Cache-Control", "public, max-age=31536000, immutable");
		c.header("X-Content-Type-Options", "nosniff");
		return c.body(asset.code);
	});
}

const asset = (source: Record<string, { code: string; hash: string }>, name: string) =>
	source[name] ?? { code: "", hash: "missing" };
const bundle = asset(DOCS_ASSETS, "swagger-ui-bundle.js");
const css = asset(DOCS_ASSETS, "swagger-ui.css");
const init = asset(CLIENT_ASSETS, "docs.js");
const JS = "text/javascript; charset=utf-8";
/** Served file name → its text and type. */
const DOCS_FILES = new Map([
	[`swagger-ui-bundle.${bundle.hash}.js`, { code: bundle.code, type: JS }],
	[`swagger-ui.${css.hash}.css`, { code: css.code, type: "text/css; charset=utf-8" }],
	[`docs.${init.hash}.js`, { code: init.code, type: JS }],
]);
const [bundlePath, cssPath, initPath] = [...DOCS_FILES.keys()].map((f) => `/docs/assets/${f}`);

// Standards mode: without a doctype, browsers lay the page out in quirks mode.
const DOCS_PAGE = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="Swagger UI ${SWAGGER_UI_VERSION}">
<title>StreamPayments API</title>
<link rel="icon" href="/favicon.svg">
<link rel="stylesheet" href="${cssPath}">
</head>
<body>
<div id="swagger-ui" data-spec-url="/v1/openapi.json"></div>
<script src="${bundlePath}"></script>
<script src="${initPath}"></script>
</body>
</html>
`;
