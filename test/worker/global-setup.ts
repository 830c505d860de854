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

/**
 * The Worker suite pays real transactions on the sandbox's local Solana network and real card
 * payments through its Stripe emulator: one sandbox per run, on free loopback ports, with slots
 * advanced by the tests (no clock, no sleeps).
 */
export default async function setup(project: TestProject) {
	const sandbox = await startSandbox({
		solanaPort: 0,
		stripePort: 0,
		controlPort: 0,
		solana: { slotMs: 0, confirmedLag: 1, finalizedLag: 4 },
	});
	// As `npm run dev` does: the settlement wallet holds SOL for network fees (health checks it).
	const call = (method: string, params: unknown[]) =>
		fetch(sandbox.urls.solana, {
			method: "POST",
			headers: { "Content-Type": "application/json" },
			body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
		});
	await call("requestAirdrop", ["8xAUZPtVV9sgijsar6Jkg5v7zmUEwD758hwPWTptWJze", 100_000_000_000]);
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
