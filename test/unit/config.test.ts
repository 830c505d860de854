import { describe, expect, it } from "vitest";
import { getConfig, parseExtraTokens } from "../../src/config";
import type { Env } from "../../src/env";

const base = {
	SESSION_SECRET: "s".repeat(32),
	ENVIRONMENT: "test",
	PUBLIC_BASE_URL: "http://127.0.0.1:8787",
	SOLANA_RPC_URLS: "http://127.0.0.1:8899, http://127.0.0.1:8900",
	SOLANA_SETTLEMENT_WALLET: "9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM",
	PYTH_HERMES_URL: "http://127.0.0.1:8890/hermes",
} as unknown as Env;

const TOKEN = {
	symbol: "PYUSD",
	mint: "PYUSDSandboxMint111111111111111111111111111",
	decimals: 6,
	program: "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb",
	usd_feed_id: "eaa020c61cc479712813461ce153894a96a6c00b21ed0cfc2798d1f9a9e9c94a",
};

describe("getConfig", () => {
	it("fills every default and parses numbers and lists", () => {
		const config = getConfig({ ...base });
		expect(config).toMatchObject({
			SOLANA_RPC_URLS: ["http://127.0.0.1:8899", "http://127.0.0.1:8900"],
			SOLANA_RPC_TIMEOUT_MS: 5000,
			SOLANA_CLUSTER: "mainnet-beta",
			SOLANA_UNDERPAYMENT_TOLERANCE_BPS: 0,
			SOLANA_FINALIZED_ABOVE: 10_000,
			SOLANA_WATCH_INTERVAL_MS: 400,
			SOLANA_SIGNATURE_PAGE_SIZE: 1000,
			SOLANA_QUOTE_TTL_SECONDS: 900,
			SOLANA_EXTRA_TOKENS: [],
			GATEWAY_FEE_BPS: 50n,
			PRICE_MAX_STALENESS_SECONDS: 120,
			FX_REFERENCE_CURRENCIES: ["eur", "gbp", "jpy"],
			FX_REFERENCE_MAX_AGE_SECONDS: 518_400,
			CONVERSION_SPREAD_BPS: 30,
			STRIPE_API_URL: "https://api.stripe.com",
			STRIPE_MAX_NETWORK_RETRIES: 2,
			STRIPE_JS_URL: "https://js.stripe.com/v3/",
			PAYOUT_DESTINATION_COOLING_OFF_SECONDS: 86_400,
		});
		expect(config.FX_REFERENCE_URL).toBeUndefined();
		// Secrets are validated, not kept.
		expect(config).not.toHaveProperty("SESSION_SECRET");
	});

	it("parses once per env object", () => {
		const env = { ...base };
		expect(getConfig(env)).toBe(getConfig(env));
		expect(getConfig({ ...env })).not.toBe(getConfig(env));
	});

	it("keeps today's fallbacks for values that fall back rather than fail", () => {
		const config = getConfig({
			...base,
			CONVERSION_SPREAD_BPS: "1001",
			PRICE_MAX_STALENESS_SECONDS: "-1",
			SOLANA_WATCH_INTERVAL_MS: "0",
			SOLANA_SIGNATURE_PAGE_SIZE: "2000",
			FX_REFERENCE_CURRENCIES: " EUR,Chf ",
		});
		expect(config.CONVERSION_SPREAD_BPS).toBe(30);
		expect(config.PRICE_MAX_STALENESS_SECONDS).toBe(120);
		expect(config.SOLANA_WATCH_INTERVAL_MS).toBe(400);
		expect(config.SOLANA_SIGNATURE_PAGE_SIZE).toBe(1000);
		expect(config.FX_REFERENCE_CURRENCIES).toEqual(["eur", "chf"]);
	});

	it("refuses a bad value with one error naming every problem", () => {
		expect(() =>
			getConfig({
				...base,
				SOLANA_QUOTE_TTL_SECONDS: "soon",
				GATEWAY_FEE_BPS: "0.5",
				SOLANA_CLUSTER: "mainnet",
			}),
		).toThrow(
			/^Invalid Worker configuration: .*SOLANA_CLUSTER: .*; SOLANA_QUOTE_TTL_SECONDS: must be a number; GATEWAY_FEE_BPS: must be a whole number of basis points$/,
		);
	});

	it("validates SOLANA_EXTRA_TOKENS once", () => {
		expect(
			getConfig({ ...base, SOLANA_EXTRA_TOKENS: JSON.stringify([TOKEN]) }).SOLANA_EXTRA_TOKENS,
		).toEqual([TOKEN]);
		expect(() => getConfig({ ...base, SOLANA_EXTRA_TOKENS: "[{" })).toThrow(
			/SOLANA_EXTRA_TOKENS: must be a JSON list of tokens/,
		);
		expect(() =>
			getConfig({ ...base, SOLANA_EXTRA_TOKENS: JSON.stringify([{ ...TOKEN, decimals: "6" }]) }),
		).toThrow(/SOLANA_EXTRA_TOKENS: 0\.decimals/);
		expect(parseExtraTokens(undefined)).toEqual([]);
		expect(() => parseExtraTokens("{}")).toThrow();
	});
});
