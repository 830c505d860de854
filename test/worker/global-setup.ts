import type { TestProject } from "vitest/node";
import { startSandbox } from "../../sandbox/server";
import { WebhookReceiver } from "../../scripts/lib/webhook-receiver";

declare module "vitest" {
	export interface ProvidedContext {
		solanaRpcUrl: string;
		sandboxControlUrl: string;
		stripeApiUrl: string;
		/** A local webhook receiver (scripts/lib/webhook-receiver.ts) the gateway delivers to. */
		webhookReceiverUrl: string;
	}
}

/** The dev settlement wallet (wrangler.toml's SOLANA_SETTLEMENT_WALLET). */
const DEV_WALLET = "8xAUZPtVV9sgijsar6Jkg5v7zmUEwD758hwPWTptWJze";

/**
 * Starts the suite's sandbox with `wallet` as its settlement wallet (token accounts created at
 * start) holding SOL for network fees, as `npm run dev` has it, and provides its URLs.
 */
export async function startSuiteSandbox(project: TestProject, wallet: string) {
	const sandbox = await startSandbox({
		solanaPort: 0,
		stripePort: 0,
		controlPort: 0,
		solana: { slotMs: 0, confirmedLag: 1, finalizedLag: 4 },
		settlementWallets: [wallet],
	});
	const call = (method: string, params: unknown[]) =>
		fetch(sandbox.urls.solana, {
			method: "POST",
			headers: { "Content-Type": "application/json" },
			body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
		});
	await call("requestAirdrop", [wallet, 100_000_000_000]);
	await call("simulator_advanceSlots", [2]);
	project.provide("solanaRpcUrl", sandbox.urls.solana);
	project.provide("sandboxControlUrl", sandbox.urls.control);
	project.provide("stripeApiUrl", sandbox.urls.stripe);
	const webhookReceiver = await WebhookReceiver.start();
	project.provide("webhookReceiverUrl", webhookReceiver.url);
	return async () => {
		await sandbox.close();
		await webhookReceiver.close();
	};
}

/**
 * The Worker suite pays real transactions on the sandbox's local Solana network and real card
 * payments through its Stripe emulator: one sandbox per run, on free loopback ports, with slots
 * advanced by the tests (no clock, no sleeps).
 */
export default function setup(project: TestProject) {
	return startSuiteSandbox(project, DEV_WALLET);
}
