import { defineConfig } from "vitest/config";
import { onConsoleLog, quietSourceMaps, reporters } from "./vitest.output.mjs";

// The local sandbox (Solana RPC, Stripe emulator, price feeds) as a Node module.
export default defineConfig({
	plugins: [quietSourceMaps()],
	test: { onConsoleLog, reporters, include: ["test/sandbox/**/*.test.ts"], testTimeout: 30_000 },
});
