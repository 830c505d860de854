import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { gatewayVars, readDevConfig } from "../../scripts/lib/dev-config";

// The Sandbox Wallet is offered only when SANDBOX_WALLET_URL is set, and only `npm run dev` sets
// it (a --var on wrangler dev): no deployed environment may carry it in wrangler.toml.

describe("SANDBOX_WALLET_URL", () => {
	it("is in no environment of wrangler.toml, production's included", () => {
		const toml = readFileSync(new URL("../../wrangler.toml", import.meta.url), "utf8");
		expect(toml).toContain("[env.production.vars]");
		expect(toml).not.toMatch(/^\s*SANDBOX_WALLET_URL\s*=/m);
	});

	it("is set by npm run dev for wrangler dev, at the sandbox of the run", () => {
		const config = readDevConfig({ SANDBOX_CONTROL_PORT: "18890" });
		const vars = gatewayVars(config, {
			solana: "http://127.0.0.1:8899",
			stripe: "http://127.0.0.1:12111",
			control: "http://127.0.0.1:18890",
		});
		expect(vars.SANDBOX_WALLET_URL).toBe("http://127.0.0.1:18890");
	});
});
