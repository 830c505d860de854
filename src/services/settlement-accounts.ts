import { address } from "@solana/kit";
import { findAssociatedTokenPda } from "@solana-program/token";
import { getConfig } from "../config";
import type { Env } from "../env";
import { type SolanaToken, tokenCatalog } from "./tokens";

/**
 * The accounts crypto payments are paid into: the settlement wallet itself for SOL, and its
 * associated token account for each configured mint. One SettlementWatcher watches each.
 */
export interface SettlementAccount {
	/** The ledger's name for the token: its mint, or "sol". */
	currency: string;
	token: SolanaToken;
	/** The address whose balance holds the funds (the wallet, or its associated token account). */
	address: string;
	/** The settlement wallet (the token account's owner). */
	owner: string;
}

/** Chain funds are live money on mainnet and test money on every other cluster. */
export function chainLivemode(env: Env): boolean {
	return getConfig(env).SOLANA_CLUSTER === "mainnet-beta";
}

export function currencyOfToken(token: { mint: string | null }): string {
	return token.mint ?? "sol";
}

export async function settlementAccountFor(
	env: Env,
	token: SolanaToken,
): Promise<SettlementAccount> {
	const owner = env.SOLANA_SETTLEMENT_WALLET;
	if (!token.mint || !token.program) {
		return { currency: "sol", token, address: owner, owner };
	}
	const [ata] = await findAssociatedTokenPda({
		owner: address(owner),
		mint: address(token.mint),
		tokenProgram: address(token.program),
	});
	return { currency: token.mint, token, address: ata, owner };
}

export async function settlementAccounts(env: Env): Promise<SettlementAccount[]> {
	return Promise.all(tokenCatalog(env).map((t) => settlementAccountFor(env, t)));
}

/** The SettlementWatcher of one settlement account, named by its currency ("sol" or the mint). */
export function settlementWatcher(env: Env, currency: string) {
	return env.SETTLEMENT_WATCHERS.get(env.SETTLEMENT_WATCHERS.idFromName(currency));
}
