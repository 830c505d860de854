/** The tokens the gateway prices and receives, from the built-in table and configuration. */
import { type ExtraToken, getConfig } from "../config";
import type { Env } from "../env";
import { ApiError } from "../lib/errors";
import { DEFAULT_FEEDS, type TokenInfo } from "../processors/prices/feeds";

const TOKEN_PROGRAM = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA";

export interface SolanaToken extends TokenInfo {
	/** The SPL program that owns the mint (Token or Token-2022); null for SOL. */
	readonly program: string | null;
}

/**
 * The tokens the gateway can quote: SOL and USDC, plus any configured in `SOLANA_EXTRA_TOKENS`
 * (JSON: [{symbol, mint, decimals, program, usd_feed_id}]), such as Token-2022 mints.
 */
export function tokenCatalog(env: Env): SolanaToken[] {
	return tokenCatalogOf(getConfig(env).SOLANA_EXTRA_TOKENS);
}

/** The built-in tokens and `extra` (SOLANA_EXTRA_TOKENS, parsed by src/config.ts). */
export function tokenCatalogOf(extra: readonly ExtraToken[]): SolanaToken[] {
	const base: SolanaToken[] = Object.values(DEFAULT_FEEDS.tokens).map((t) => ({
		...t,
		program: t.mint ? TOKEN_PROGRAM : null,
	}));
	if (extra.length === 0) return base;
	return [
		...base,
		...extra.map((t) => ({
			symbol: t.symbol,
			mint: t.mint,
			decimals: t.decimals,
			program: t.program,
			usdFeed: { name: `${t.symbol}/USD`, id: t.usd_feed_id },
		})),
	];
}

/**
 * Finds a token by symbol ("SOL", "USDC") or by mint address, among the configured tokens the
 * merchant accepts (all of them unless the merchant's settings name some).
 */
export function resolveToken(env: Env, token: string, accepted?: string[]): SolanaToken {
	const matches = (t: SolanaToken, name: string) =>
		t.symbol === name || (t.mint !== null && t.mint === name);
	const found = tokenCatalog(env).find(
		(t) =>
			matches(t, token) && (accepted === undefined || accepted.some((name) => matches(t, name))),
	);
	if (!found) {
		throw new ApiError(
			"parameter_invalid",
			`Token '${token}' is not accepted here. Use one of: ${(accepted ?? tokenCatalog(env).map((t) => t.symbol)).join(", ")}.`,
			"solana[token]",
		);
	}
	return found;
}
