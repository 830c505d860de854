import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

// Worker suite: runs inside workerd with real D1, Durable Objects and (later) Queues and R2.
export default defineConfig({
	plugins: [
		cloudflareTest(async () => {
			const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
			return {
				main: "./src/index.ts",
				wrangler: { configPath: "./wrangler.toml" },
				miniflare: {
					bindings: {
						TEST_MIGRATIONS: migrations,
						ADMIN_TOKEN: "test-admin-token",
						ENVIRONMENT: "test",
					},
				},
			};
		}),
	],
	test: {
		include: ["test/worker/**/*.test.ts"],
		setupFiles: ["./test/worker/setup.ts"],
	},
});
