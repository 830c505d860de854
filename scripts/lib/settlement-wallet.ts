import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseDevVars } from "./dev-vars.js";
import { DEV_VARS_EXAMPLE_FILE } from "./paths.js";

/**
 * The development settlement wallet: its address (wrangler.toml's SOLANA_SETTLEMENT_WALLET) and
 * its key (.dev.vars.example's SETTLEMENT_WALLET_KEY), a pair made for local networks only.
 */
export async function devSettlementWallet(
	root: string,
): Promise<{ address: string; secretKey: string } | null> {
	const toml = await readFile(join(root, "wrangler.toml"), "utf8");
	const address = /^SOLANA_SETTLEMENT_WALLET\s*=\s*"([^"]+)"/m.exec(toml)?.[1];
	const example = parseDevVars(await readFile(join(root, DEV_VARS_EXAMPLE_FILE), "utf8"));
	const secretKey = example.SETTLEMENT_WALLET_KEY;
	return address && secretKey ? { address, secretKey } : null;
}

/** SOL from the local network's faucet, for the settlement wallet's refund network fees. */
export async function airdrop(
	rpcUrl: string,
	address: string,
	lamports: number,
	signal?: AbortSignal,
): Promise<void> {
	const res = await fetch(rpcUrl, {
		method: "POST",
		headers: { "Content-Type": "application/json" },
		body: JSON.stringify({
			jsonrpc: "2.0",
			id: 1,
			method: "requestAirdrop",
			params: [address, lamports],
		}),
		...(signal ? { signal } : {}),
	});
	const body = (await res.json().catch(() => ({}))) as { error?: { message?: string } };
	if (!res.ok || body.error) {
		throw new Error(`airdrop to ${address} failed: ${body.error?.message ?? `HTTP ${res.status}`}`);
	}
}
