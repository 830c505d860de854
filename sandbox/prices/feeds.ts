// The Pyth feeds the sandbox serves. Ids, symbols and exponents are Pyth's real mainnet ones, so
// the gateway's feed table works unchanged against the sandbox and against Hermes.

export interface SandboxFeed {
	/** Short name used by the admin knobs: "SOL/USD". */
	readonly name: string;
	/** Pyth's own symbol, also accepted by the knobs. */
	readonly pythSymbol: string;
	/** 32-byte feed id, lowercase hex without 0x (how Hermes prints it). */
	readonly id: string;
	/** Pyth prices are integer mantissas scaled by 10^expo. */
	readonly expo: number;
	/** Default price as a decimal string with at most -expo fractional digits. */
	readonly defaultPrice: string;
}

export const SANDBOX_FEEDS: readonly SandboxFeed[] = Object.freeze([
	{
		name: "SOL/USD",
		pythSymbol: "Crypto.SOL/USD",
		id: "ef0d8b6fda2ceba41da15d4095d1da392a0d2f8ed0c6c7bc0f4cfac8c280b56d",
		expo: -8,
		defaultPrice: "150.00",
	},
	{
		name: "USDC/USD",
		pythSymbol: "Crypto.USDC/USD",
		id: "eaa020c61cc479712813461ce153894a96a6c00b21ed0cfc2798d1f9a9e9c94a",
		expo: -8,
		defaultPrice: "1.0000",
	},
	{
		name: "EUR/USD",
		pythSymbol: "FX.EUR/USD",
		id: "a995d00bb36a63cef7fd2c287dc105fc8f3d93779f062f09551b0af3e81ec30b",
		expo: -5,
		defaultPrice: "1.08",
	},
	{
		name: "GBP/USD",
		pythSymbol: "FX.GBP/USD",
		id: "84c2dde9633d93d1bcad84e7dc41c9d56578b7ec52fabedc1f335d673df0a7c1",
		expo: -5,
		defaultPrice: "1.27",
	},
	{
		// Pyth quotes the yen as USD/JPY (yen per dollar); there is no JPY/USD feed.
		name: "USD/JPY",
		pythSymbol: "FX.USD/JPY",
		id: "ef2c98c804ba503c6a707e38be4dfbb16683775f195b091252bf24693042fd52",
		expo: -3,
		defaultPrice: "155.00",
	},
]);

const FEED_ID = /^(?:0x)?([0-9a-fA-F]{64})$/;

/** Lowercase hex without 0x, or undefined when `text` is not a 32-byte hex id. */
export function normalizeFeedId(text: string): string | undefined {
	return FEED_ID.exec(text)?.[1]?.toLowerCase();
}

/** Finds a feed by name ("SOL/USD", any case), Pyth symbol or hex id (with or without 0x). */
export function findFeed(
	key: string,
	feeds: readonly SandboxFeed[] = SANDBOX_FEEDS,
): SandboxFeed | undefined {
	const id = normalizeFeedId(key);
	const upper = key.toUpperCase();
	return feeds.find((f) =>
		id !== undefined ? f.id === id : f.name === upper || f.pythSymbol.toUpperCase() === upper,
	);
}

const DECIMAL = /^(-?)(0|[1-9][0-9]*)(?:\.([0-9]+))?$/;

/**
 * Parses a decimal string into a mantissa at `expo` ("150.00" at -8 is 15000000000n). More
 * fractional digits than the feed carries is an error, never a silent rounding.
 */
export function decimalToMantissa(text: string, expo: number): bigint {
	const match = DECIMAL.exec(text);
	if (match === null) {
		throw new RangeError(
			`price must be a plain decimal string such as "123.45", got ${quote(text)}`,
		);
	}
	const places = -expo;
	const fraction = match[3] ?? "";
	if (fraction.length > places) {
		throw new RangeError(
			`this feed carries at most ${places} decimal places, got ${fraction.length}`,
		);
	}
	const digits = BigInt((match[2] ?? "") + fraction.padEnd(places, "0"));
	return match[1] === "-" ? -digits : digits;
}

/** Inverse of decimalToMantissa, with every digit the exponent implies ("150.00000000"). */
export function mantissaToDecimal(mantissa: bigint, expo: number): string {
	const negative = mantissa < 0n;
	const digits = (negative ? -mantissa : mantissa).toString();
	const places = -expo;
	if (places <= 0) return (negative ? "-" : "") + digits + "0".repeat(-places);
	const padded = digits.padStart(places + 1, "0");
	return `${negative ? "-" : ""}${padded.slice(0, -places)}.${padded.slice(-places)}`;
}

function quote(value: unknown): string {
	const text = String(value);
	return JSON.stringify(text.length > 32 ? `${text.slice(0, 32)}…` : text);
}
