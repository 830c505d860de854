import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { nodeVersionProblem } from "../../scripts/check-node.mjs";
import { gatewayVars, readDevConfig, stripeWebhookUrl } from "../../scripts/lib/dev-config.js";
import { gatewayFilter, summariseMigrations } from "../../scripts/lib/dev-output.js";

describe("npm run dev's ports", () => {
	it("puts the gateway on 8787 and the sandbox on its usual ports by default", () => {
		const config = readDevConfig({});
		expect(config.gatewayUrl).toBe("http://127.0.0.1:8787");
		expect(config.sandbox).toMatchObject({
			solanaPort: 8899,
			stripePort: 12111,
			controlPort: 8890,
		});
	});

	it("moves the gateway with PORT and the sandbox with its variables, and the Worker's URLs follow", () => {
		const config = readDevConfig({
			PORT: "9787",
			SOLANA_RPC_PORT: "18899",
			STRIPE_PORT: "22111",
			SANDBOX_CONTROL_PORT: "18890",
		});
		expect(config.gatewayPort).toBe(9787);
		expect(config.sandbox).toMatchObject({
			solanaPort: 18899,
			stripePort: 22111,
			controlPort: 18890,
		});
		// The URLs the sandbox's /health reports for those ports.
		const vars = gatewayVars(config, {
			solana: "http://127.0.0.1:18899",
			stripe: "http://127.0.0.1:22111",
			control: "http://127.0.0.1:18890",
		});
		expect(vars).toEqual({
			PUBLIC_BASE_URL: "http://127.0.0.1:9787",
			SOLANA_RPC_URLS: "http://127.0.0.1:18899",
			PYTH_HERMES_URL: "http://127.0.0.1:18890/hermes",
			FX_REFERENCE_URL: "http://127.0.0.1:18890/fx",
			STRIPE_API_URL: "http://127.0.0.1:22111",
			STRIPE_JS_URL: "http://127.0.0.1:22111/js/v3/",
			SANDBOX_WALLET_URL: "http://127.0.0.1:18890",
		});
		expect(stripeWebhookUrl(config)).toBe("http://127.0.0.1:9787/webhooks/stripe");
	});

	it("refuses a PORT that is not a fixed port number, naming it", () => {
		expect(() => readDevConfig({ PORT: "eighty" })).toThrow(/PORT must be a port number/);
		expect(() => readDevConfig({ PORT: "70000" })).toThrow(/PORT must be a port number/);
		expect(() => readDevConfig({ PORT: "0" })).toThrow(/PORT must be a fixed port/);
		expect(() => readDevConfig({ SANDBOX_CONTROL_PORT: "0" })).toThrow(/SANDBOX_CONTROL_PORT/);
	});
});

describe("npm run dev's output", () => {
	it("keeps requests, warnings and the build's size line, and drops the bindings table and its own probes", () => {
		const filter = gatewayFilter();
		const lines = [
			"Using secrets defined in .dev.vars",
			"Your Worker has access to the following bindings:",
			"Binding                                   Resource          Mode",
			"env.PAYMENTS (PaymentObject)              Durable Object    local",
			'env.ENVIRONMENT ("development")           Environment Variable  local',
			"",
			"[custom build] > tsx scripts/build-client.ts",
			"[custom build] client assets: checkout.js 19.6 KB",
			"[wrangler:info] Ready on http://127.0.0.1:8787",
			"[wrangler:info] GET /health 200 OK (12ms)",
			"[wrangler:info] GET /__scheduled 200 OK (220ms)",
			'{"cron":"* * * * *","level":"info","message":"scheduled run"}',
			'{"error":"timeout","level":"warn","message":"rates: Pyth did not answer"}',
			"[wrangler:info] POST /v1/payments 200 OK (645ms)",
			"▲ [WARNING] something real",
		];
		expect(lines.map(filter).filter((line) => line !== null)).toEqual([
			"[custom build] client assets: checkout.js 19.6 KB",
			"[wrangler:info] Ready on http://127.0.0.1:8787",
			'{"error":"timeout","level":"warn","message":"rates: Pyth did not answer"}',
			"[wrangler:info] POST /v1/payments 200 OK (645ms)",
			"▲ [WARNING] something real",
		]);
	});

	it("sums up the migrations in one line", () => {
		const table = [
			"Migrations to be applied:",
			"│ 0000_init.sql │",
			"│ 0001_ledger_triggers.sql │",
			"│ 0000_init.sql │ ✅ │",
			"│ 0001_ledger_triggers.sql │ ✅ │",
		];
		expect(summariseMigrations(table)).toBe(
			"D1 migrations: 2 applied (0000_init.sql … 0001_ledger_triggers.sql)",
		);
		expect(summariseMigrations(["✅ No migrations to apply!"])).toBe("D1 migrations: up to date");
	});
});

describe("the Node version check", () => {
	it("accepts Node 22.12 and later and names the fix for anything older", () => {
		for (const ok of ["22.12.0", "22.23.3", "24.1.0"])
			expect(nodeVersionProblem(ok)).toBeUndefined();
		for (const old of ["20.20.2", "22.11.0", "18.0.0"]) {
			const problem = nodeVersionProblem(old);
			expect(problem).toContain(`Node.js >= 22.12, this is v${old}`);
			expect(problem).toContain("npm i --prefix");
			expect(problem).not.toContain("\n");
		}
	});

	it("passes silently on the Node running the tests", async () => {
		const { stdout, stderr } = await promisify(execFile)(process.execPath, [
			"scripts/check-node.mjs",
		]);
		expect(stdout + stderr).toBe("");
	});
});
