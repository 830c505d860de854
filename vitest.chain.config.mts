import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

// Chain-money suite: the Worker suite's setup, but with a settlement wallet of its own that no
// other suite pays into or refunds from, so the ledger can be compared with the chain to the unit.
// Its files run one after another for the same reason.
const CHAIN_WALLET = "ETfXgxxBzuFNptH8u5CGRk8NE4jkUvjVgVQ4mh4A7xXp";
const CHAIN_WALLET_KEY =
	"5wyrH2N98pThcLQLnvB7cRhj2Zhi9U8TsEi8GiuuPvUMwjz9uvs5JT2jkR8DHTt33bhbwzHvknsuABLmxV6SHitN";
export default defineConfig({
	plugins: [
		cloudflareTest(async ({ inject }) => {
			const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
			return {
				main: "./src/index.ts",
				wrangler: { configPath: "./wrangler.toml" },
				miniflare: {
					// Refund messages go to a queue nobody consumes: the tests hand them to the consumer
					// themselves (createMessageBatch), as they deliver Stripe's webhooks themselves.
					queueProducers: { REFUNDS_QUEUE: { queueName: "refunds-worker-suite" } },
					bindings: {
						TEST_MIGRATIONS: migrations,
						ADMIN_TOKEN: "test-admin-token",
						SESSION_SECRET: "test-session-secret-0123456789abcdef0123",
						ENVIRONMENT: "test",
						SOLANA_RPC_URLS: inject("solanaRpcUrl"),
						// Tests drive the settlement watchers themselves (detect, scanAll): no alarm races them.
						SOLANA_WATCH_INTERVAL_MS: "3600000",
						// Short, so the timeout test needs no long wait.
						SOLANA_RPC_TIMEOUT_MS: "500",
						PYTH_HERMES_URL: `${inject("sandboxControlUrl")}/hermes`,
						FX_REFERENCE_URL: `${inject("sandboxControlUrl")}/fx`,
						SANDBOX_CONTROL_URL: inject("sandboxControlUrl"),
						// Cards through the sandbox's Stripe emulator; tests deliver its webhooks themselves.
						STRIPE_API_URL: inject("stripeApiUrl"),
						STRIPE_JS_URL: `${inject("stripeApiUrl")}/js/v3/`,
						STRIPE_SECRET_KEY: "sk_test_workersuite000000000000000000",
						STRIPE_PUBLISHABLE_KEY: "pk_test_workersuite000000000000000000",
						STRIPE_WEBHOOK_SECRET: "whsec_workersuite000000000000000000",
						// The outage test counts failures; SDK retries would only slow it down.
						STRIPE_MAX_NETWORK_RETRIES: "0",
						// This suite's own settlement wallet and its key (crypto refunds).
						SETTLEMENT_WALLET_KEY: CHAIN_WALLET_KEY,
						SOLANA_SETTLEMENT_WALLET: CHAIN_WALLET,
						// Small pages, so a few dozen signatures already take several pages to read.
						SOLANA_SIGNATURE_PAGE_SIZE: "20",
						// Encrypts webhook signing secrets at rest (kid:base64 of 32 bytes).
						ENCRYPTION_KEYS: "test1:YYfujcFzlbS3xGkGkxSvQSrRwMn7MNKofJ9jHGbK0+U=",
						// The sandbox's Token-2022 stablecoin; a dollar stablecoin, priced on the USDC/USD feed here.
						SOLANA_EXTRA_TOKENS: JSON.stringify([
							{
								symbol: "PYUSD",
								mint: "PYUSDSandboxMint111111111111111111111111111",
								decimals: 6,
								program: "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb",
								usd_feed_id: "eaa020c61cc479712813461ce153894a96a6c00b21ed0cfc2798d1f9a9e9c94a",
							},
						]),
					},
				},
			};
		}),
	],
	test: {
		include: ["test/chain/**/*.test.ts"],
		setupFiles: ["./test/worker/setup.ts"],
		globalSetup: ["./test/chain/global-setup.ts"],
		fileParallelism: false,
	},
});
