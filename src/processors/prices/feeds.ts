/**
 * Which Pyth feeds price which token and which fiat currency. The ids are Pyth's mainnet feed
 * ids (the same on Hermes and in the local sandbox), lowercase hex without 0x.
 */
import type { FxPrice } from "../../domain/conversion";

export const PYTH_FEED_IDS = {
	"SOL/USD": "ef0d8b6fda2ceba41da15d4095d1da392a0d2f8ed0c6c7bc0f4cfac8c280b56d",
	"USDC/USD": "eaa020c61cc479712813461ce153894a96a6c00b21ed0cfc2798d1f9a9e9c94a",
	"EUR/USD": "a995d00bb36a63cef7fd2c287dc105fc8f3d93779f062f09551b0af3e81ec30b",
	"GBP/USD": "84c2dde9633d93d1bcad84e7dc41c9d56578b7ec52fabedc1f335d673df0a7c1",
	// Pyth prices the yen as dollars-in-yen; there is no JPY/USD feed.
	"USD/JPY": "ef2c98c804ba503c6a707e38be4dfbb16683775f195b091252bf24693042fd52",
} as const;

export interface TokenInfo {
	readonly symbol: string;
	/** Digits of the base unit: lamports for SOL, the mint's decimals for SPL tokens. */
	readonly decimals: number;
	/** SPL mint address; null for native SOL. */
	readonly mint: string | null;
	/** Feed pricing one whole token in US dollars. */
	readonly usdFeed: { readonly name: string; readonly id: string };
}

export interface FxFeed {
	readonly name: string;
	readonly id: string;
	/** See FxPrice: true for EUR/USD-style feeds, false for USD/JPY-style ones. */
	readonly usdIsQuote: FxPrice["usdIsQuote"];
}

export const TOKENS = {
	SOL: {
		symbol: "SOL",
		decimals: 9,
		mint: null,
		usdFeed: { name: "SOL/USD", id: PYTH_FEED_IDS["SOL/USD"] },
	},
	USDC: {
		symbol: "USDC",
		decimals: 6,
		mint: "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v",
		usdFeed: { name: "USDC/USD", id: PYTH_FEED_IDS["USDC/USD"] },
	},
} as const satisfies Record<string, TokenInfo>;

export type TokenSymbol = keyof typeof TOKENS;

/** Non-dollar price currencies with a feed, keyed by lowercase ISO 4217 code as on the wire. */
export const FX_FEEDS: Readonly<Record<string, FxFeed>> = Object.freeze({
	eur: { name: "EUR/USD", id: PYTH_FEED_IDS["EUR/USD"], usdIsQuote: true },
	gbp: { name: "GBP/USD", id: PYTH_FEED_IDS["GBP/USD"], usdIsQuote: true },
	jpy: { name: "USD/JPY", id: PYTH_FEED_IDS["USD/JPY"], usdIsQuote: false },
});

/**
 * Everything getTokenRate looks feeds up in; tests and future currencies pass their own. Ids
 * must be lowercase hex without 0x, the form prices come back keyed by.
 */
export interface FeedTable {
	readonly tokens: Readonly<Record<string, TokenInfo>>;
	readonly fx: Readonly<Record<string, FxFeed>>;
}

export const DEFAULT_FEEDS: FeedTable = Object.freeze({ tokens: TOKENS, fx: FX_FEEDS });

export function isTokenSymbol(value: string): value is TokenSymbol {
	return Object.hasOwn(TOKENS, value);
}

/** hasOwn rather than indexing: inherited names such as "constructor" are not entries. */
export function lookup<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
	return Object.hasOwn(table, key) ? table[key] : undefined;
}
