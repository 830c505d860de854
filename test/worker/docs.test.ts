import { describe, expect, it } from "vitest";
import pkg from "../../package.json";
import { SWAGGER_UI_VERSION } from "../../src/generated/docs-assets";
import { call } from "./helpers/api";

// /docs is served whole by the Worker: Swagger UI from the pinned swagger-ui-dist package,
// bundled at build time, so the page works offline and names no third party.

function assetPaths(html: string): string[] {
	return [...html.matchAll(/(?:src|href)="(\/docs\/assets\/[^"]+)"/g)].map((m) => m[1] ?? "");
}

describe("/docs", () => {
	it("is built from the exact swagger-ui-dist version package.json pins", () => {
		const pinned = pkg.dependencies["swagger-ui-dist" as keyof typeof pkg.dependencies];
		expect(pinned).toMatch(/^\d+\.\d+\.\d+$/);
		expect(SWAGGER_UI_VERSION).toBe(pinned);
	});

	it("references only its own content-hashed assets, each served with its type and cached for good", async () => {
		const res = await call("GET", "/docs");
		expect(res.status).toBe(200);
		const html = await res.text();
		expect(html).not.toMatch(/https?:\/\//);
		const paths = assetPaths(html);
		expect(paths.map((p) => p.replace(/\.[0-9a-f]{12}\./, ".HASH."))).toEqual([
			"/docs/assets/swagger-ui.HASH.css",
			"/docs/assets/swagger-ui-bundle.HASH.js",
			"/docs/assets/docs.HASH.js",
		]);
		for (const path of paths) {
			const asset = await call("GET", path);
			expect(asset.status).toBe(200);
			expect(asset.headers.get("Content-Type")).toMatch(
				path.endsWith(".css") ? /^text\/css/ : /^text\/javascript/,
			);
			expect(asset.headers.get("Cache-Control")).toBe("public, max-age=31536000, immutable");
			const body = await asset.text();
			expect(body.length).toBeGreaterThan(50);
			// No source map is served, so none may be referenced.
			expect(body).not.toMatch(/sourceMappingURL/);
		}
		const bundle = await (await call("GET", paths[1] ?? "")).text();
		expect(bundle).toContain("SwaggerUIBundle");
	});

	it("answers an unknown asset with the house 404", async () => {
		const res = await call("GET", "/docs/assets/swagger-ui-bundle.000000000000.js");
		expect(res.status).toBe(404);
		expect(((await res.json()) as { error: { code: string } }).error.code).toBe("route_not_found");
	});
});
