import { TOKEN_2022_PROGRAM, TOKEN_PROGRAM } from "./programs.js";

// Test tokens every sandbox chain starts with. Pure constants (no node imports) so gateway
// tests on any runtime can import them.

/** Signs mintTo for every sandbox token; derived from a fixed label (see keys.ts). */
export const SANDBOX_MINT_AUTHORITY = "9EtgEZUPC5JxEBT5DxxwYcsQumgBFA3ThQjYVMaZiefY";
/** Funds requestAirdrop and pays for simulator_mintTokens. */
export const SANDBOX_FAUCET = "CeDotLhGgGUdqRYgTq9mAWzi7ZHzQM5KuokgmccbRMHR";

export interface SandboxToken {
	symbol: string;
	mint: string;
	decimals: number;
	/** SPL Token or Token-2022: the program that owns the mint and its token accounts. */
	programId: string;
}

/** Mainnet USDC's mint address, so payment code can use production constants unchanged. */
export const USDC: SandboxToken = Object.freeze({
	symbol: "USDC",
	mint: "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v",
	decimals: 6,
	programId: TOKEN_PROGRAM,
});

/** A PYUSD-like stablecoin on Token-2022 (no extensions); sandbox-only address. */
export const PYUSD: SandboxToken = Object.freeze({
	symbol: "PYUSD",
	mint: "PYUSDSandboxMint111111111111111111111111111",
	decimals: 6,
	programId: TOKEN_2022_PROGRAM,
});

/** Same program and decimals as USDC at another address: a payment in it must be rejected. */
export const FAKE_USDC: SandboxToken = Object.freeze({
	symbol: "USDC",
	mint: "FakeUSDCSandboxMint111111111111111111111111",
	decimals: 6,
	programId: TOKEN_PROGRAM,
});

export const SANDBOX_TOKENS: readonly SandboxToken[] = Object.freeze([USDC, PYUSD, FAKE_USDC]);

/**
 * The tokens a settlement wallet is paid in, so the sandbox opens its token account for each:
 * every sandbox token but the look-alike, which a gateway never quotes.
 */
export const SETTLEMENT_TOKENS: readonly SandboxToken[] = Object.freeze(
	SANDBOX_TOKENS.filter((token) => token !== FAKE_USDC),
);

export const USDC_MINT = USDC.mint;
export const PYUSD_MINT = PYUSD.mint;
export const FAKE_USDC_MINT = FAKE_USDC.mint;
