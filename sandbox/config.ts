// Sandbox addresses, shared by sandbox/main.ts and scripts/dev.ts so both agree on ports.

export interface SandboxConfig {
	host: string;
	solanaPort: number;
	stripePort: number;
	controlPort: number;
}

export const SANDBOX_DEFAULTS: Readonly<SandboxConfig> = Object.freeze({
	host: "127.0.0.1",
	// The ports a local validator and stripe-mock use, so tools pointed at them just work.
	solanaPort: 8899,
	stripePort: 12111,
	controlPort: 8890,
});

/**
 * wrangler.toml's SOLANA_SETTLEMENT_WALLET for local networks: the wallet whose token accounts
 * the sandbox opens at start unless told of others.
 */
export const DEV_SETTLEMENT_WALLET = "8xAUZPtVV9sgijsar6Jkg5v7zmUEwD758hwPWTptWJze";

const BASE58_ADDRESS = /^[1-9A-HJ-NP-Za-km-z]{32,44}$/;

export function parsePort(name: string, value: string | undefined, fallback: number): number {
	if (value === undefined || value.trim() === "") return fallback;
	const trimmed = value.trim();
	const port = Number(trimmed);
	if (!/^\d+$/.test(trimmed) || port > 65535) {
		throw new Error(`${name} must be a port number between 0 and 65535, got "${value}"`);
	}
	return port;
}

/** Reads SANDBOX_HOST, SOLANA_RPC_PORT, STRIPE_PORT and SANDBOX_CONTROL_PORT; throws on bad values. */
export function readSandboxConfig(env: NodeJS.ProcessEnv): SandboxConfig {
	const host = env.SANDBOX_HOST?.trim();
	return {
		host: host ? host : SANDBOX_DEFAULTS.host,
		solanaPort: parsePort("SOLANA_RPC_PORT", env.SOLANA_RPC_PORT, SANDBOX_DEFAULTS.solanaPort),
		stripePort: parsePort("STRIPE_PORT", env.STRIPE_PORT, SANDBOX_DEFAULTS.stripePort),
		controlPort: parsePort(
			"SANDBOX_CONTROL_PORT",
			env.SANDBOX_CONTROL_PORT,
			SANDBOX_DEFAULTS.controlPort,
		),
	};
}

/**
 * Solana simulator knobs from SOLANA_SLOT_MS, SOLANA_CONFIRMED_LAG, SOLANA_FINALIZED_LAG and
 * SOLANA_FAULT_SEED; only variables that are set appear, so defaults stay in one place.
 */
export function readSolanaConfig(env: NodeJS.ProcessEnv): {
	slotMs?: number;
	confirmedLag?: number;
	finalizedLag?: number;
	faultSeed?: number;
} {
	const read = (name: string): number | undefined => {
		const value = env[name]?.trim();
		if (value === undefined || value === "") return undefined;
		if (!/^\d+$/.test(value)) {
			throw new Error(`${name} must be a non-negative integer, got "${value}"`);
		}
		return Number(value);
	};
	const config: ReturnType<typeof readSolanaConfig> = {};
	const slotMs = read("SOLANA_SLOT_MS");
	const confirmedLag = read("SOLANA_CONFIRMED_LAG");
	const finalizedLag = read("SOLANA_FINALIZED_LAG");
	const faultSeed = read("SOLANA_FAULT_SEED");
	if (slotMs !== undefined) config.slotMs = slotMs;
	if (confirmedLag !== undefined) config.confirmedLag = confirmedLag;
	if (finalizedLag !== undefined) config.finalizedLag = finalizedLag;
	if (faultSeed !== undefined) config.faultSeed = faultSeed;
	return config;
}

/**
 * SOLANA_SETTLEMENT_WALLETS: comma-separated addresses whose token accounts the sandbox opens at
 * start. Undefined when unset or empty, so startSandbox's default (DEV_SETTLEMENT_WALLET) holds.
 */
export function readSettlementWallets(env: NodeJS.ProcessEnv): string[] | undefined {
	const value = env.SOLANA_SETTLEMENT_WALLETS;
	if (value === undefined || value.trim() === "") return undefined;
	const wallets = value.split(",").map((part) => part.trim());
	const bad = wallets.find((wallet) => !BASE58_ADDRESS.test(wallet));
	if (bad !== undefined) {
		throw new Error(
			`SOLANA_SETTLEMENT_WALLETS must be comma-separated base58 addresses, got "${bad}"`,
		);
	}
	return wallets;
}
