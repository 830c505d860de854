import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

// The Sandbox Wallet is offered only when SANDBOX_WALLET_URL is set, and only `npm run dev` sets
// it (a --var on wrangler dev): no deployed environment may carry it in wrangler.toml.

describe("SANDBOX_WALLET_URL", () => {
	it("is in no environment of wrangler.toml, production's included", () => {
		const toml = readFileSync(new URL("../../wrangler.toml", import.meta.url), "utf8");
		expect(toml).toContain("[env.production.vars]");
		expect(toml).not.toMatch(/^\s*SANDBOX_WALLET_URL\s*=/m);
	});

	it("is set by scripts/dev.ts for wrangler dev", () => {
		const dev = readFileSync(new URL("../../scripts/dev.ts", import.meta.url), "utf8");
		expect(dev).toContain("SANDBOX_WALLET_URL");
	});
});
