import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { onConsoleLog, quietSourceMaps, reporters, VERBOSE } from "./vitest.output.mjs";

// wrangler, reading wrangler.toml for each test file, would say "Using secrets defined in
// .dev.vars" each time; its warnings and errors still print.
if (!VERBOSE) process.env.WRANGLER_LOG ??= "warn";

/** What a suite run in workerd changes of the Worker suite's setup. */
export interface WorkersSuite {
	include: string[];
	globalSetup: string;
	/** Bindings added to (or replacing) the suite's own. */
	bindings?: Record<string, string>;
	fileParallelism?: boolean;
}

/** A suite that runs inside workerd with real D1, Durable Objects, Queues and R2. */
export function workersSuite(suite: WorkersSuite) {
	return defineConfig({
		plugins: [
			quietSourceMaps(),
			cloudflareTest(async ({ inject }) => {
				const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
				return {
					main: "./src/index.ts",
					// workerd's own traces (every refused connection a fault test makes, reported as an
					// "uncaught exception" even when the gateway catches it) only with VERBOSE=1.
					verbose: VERBOSE,
					wrangler: { configPath: "./wrangler.toml" },
					miniflare: {
						// Refund and payout messages go to queues nobody consumes: the tests hand them to the
						// consumer themselves (createMessageBatch), as they deliver Stripe's webhooks themselves.
						queueProducers: {
							REFUNDS_QUEUE: { queueName: "refunds-worker-suite" },
							PAYOUTS_QUEUE: { queueName: "payouts-worker-suite" },
						},
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
							// The dev settlement wallet's key (wrangler.toml's SOLANA_SETTLEMENT_WALLET): crypto refunds.
							SETTLEMENT_WALLET_KEY:
								"476HdmZZCxdVZa1iSGtWeoqwqqWPe1K3KJkxugpAQVKkmNu4XgtnojJzfs92GGa5bdBajkU9buXcVtfV56jwdAHg",
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
							...suite.bindings,
						},
					},
				};
			}),
		],
		test: {
			// One workerd for the files one after another, not one each: a runtime of its own cost a
			// file ~5 s of start-up and module loading, 80 files over six minutes. The setup gives each
			// file what a runtime of its own did (test/worker/helpers/fresh-runtime.ts).
			isolate: false,
			// Tests pay on the sandbox's chain and Stripe emulator for real; on a busy two-core machine
			// the longest (fault scans, payout races, a 5 MiB report) pass 5 s, and a fault test cut off
			// mid-way leaves its faults switched on for the tests after it.
			testTimeout: 20_000,
			include: suite.include,
			onConsoleLog,
			reporters,
			setupFiles: ["./test/worker/setup.ts"],
			globalSetup: [suite.globalSetup],
			...(suite.fileParallelism === undefined ? {} : { fileParallelism: suite.fileParallelism }),
		},
	});
}

// Worker suite: the gateway's routes, objects, queues and cron inside workerd, against the
// sandbox's local chain and Stripe emulator.
export default workersSuite({
	include: ["test/worker/**/*.test.ts", "test/security/**/*.test.ts"],
	globalSetup: "./test/worker/global-setup.ts",
});
