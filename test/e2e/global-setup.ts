import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { LocalStack } from "../../scripts/lib/local-stack";
import { assertChromium } from "./helpers/chromium";
import { ARTIFACTS_DIR, QUOTE_TTL_SECONDS } from "./helpers/settings";

declare module "vitest" {
	export interface ProvidedContext {
		gatewayUrl: string;
		solanaRpcUrl: string;
		secretKey: string;
		publishableKey: string;
		stackLogPath: string;
		adminToken: string;
	}
}

/**
 * One gateway for the whole suite: the sandbox (fast slots) and `wrangler dev` on free loopback
 * ports with temp state, and one merchant. Chromium is checked first, so a machine without it
 * fails at once with the command that installs it.
 */
export default async function setup(project: TestProject) {
	assertChromium();
	const stack = new LocalStack({
		name: "e2e",
		// 100 ms slots: a payment is `confirmed` within a few hundred ms, like a fast cluster.
		solana: { slotMs: 100, confirmedLag: 1, finalizedLag: 8 },
		vars: { SOLANA_QUOTE_TTL_SECONDS: String(QUOTE_TTL_SECONDS) },
		logFile: join(ARTIFACTS_DIR, "local-stack.log"),
		readyTimeoutMs: 90_000,
		say: (line) => process.stdout.write(`[e2e] ${line}\n`),
	});
	try {
		await stack.start();
		const merchant = await stack.createMerchant("Acme Coffee");
		project.provide("gatewayUrl", stack.gatewayUrl);
		project.provide("solanaRpcUrl", stack.sandbox.urls.solana);
		project.provide("secretKey", merchant.secretKey);
		project.provide("publishableKey", merchant.publishableKey);
		project.provide("stackLogPath", stack.logPath);
		project.provide("adminToken", stack.adminToken);
	} catch (error) {
		await stack.stop();
		throw error;
	}
	return async () => {
		await stack.stop();
	};
}
