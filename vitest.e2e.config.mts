import { defineConfig } from "vitest/config";
import { onConsoleLog, quietSourceMaps, reporters } from "./vitest.output.mjs";

// Browser end-to-end tests of the checkout: Chromium (playwright-core) against wrangler dev and
// the sandbox, started once by the global setup. One process, one file at a time: the scenarios
// share one gateway and two cores.
export default defineConfig({
	plugins: [quietSourceMaps()],
	test: {
		onConsoleLog,
		reporters,
		include: ["test/e2e/**/*.test.ts"],
		environment: "node",
		globalSetup: ["./test/e2e/global-setup.ts"],
		pool: "forks",
		maxWorkers: 1,
		fileParallelism: false,
		testTimeout: 60_000,
		hookTimeout: 60_000,
		teardownTimeout: 30_000,
	},
});
