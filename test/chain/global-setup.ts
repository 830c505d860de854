import type { TestProject } from "vitest/node";
import { startSandbox } from "../../sandbox/server";
import { WebhookReceiver } from "../../scripts/lib/webhook-receiver";

/** This suite's settlement wallet (vitest.chain.config.mts): no other suite touches it. */
const CHAIN_WALLET = "ETfXgxxBzuFNptH8u5CGRk8NE4jkUvjVgVQ4mh4A7xXp";

/**
 * A sandbox of the suite's own, whose settlement wallet has its token accounts from the start and
 * SOL for the network fees of refunds; slots advance only when a test says so.
 */
export default async function setup(project: TestProject) {
	const sandbox = await startSandbox({
		solanaPort: 0,
		stripePort: 0,
		controlPort: 0,
		solana: { slotMs: 0, confirmedLag: 1, finalizedLag: 4 },
		settlementWallets: [CHAIN_WALLET],
	});
	const call = (method: string, params: unknown[]) =>
		fetch(sandbox.urls.solana, {
			method: "POST",
			headers: { "Content-Type": "application/json" },
			body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
		});
	await call("requestAirdrop", [CHAIN_WALLET, 10_000_000_000]);
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
