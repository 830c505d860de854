import { defineConfig } from "vitest/config";

// The local sandbox (Solana RPC, Stripe emulator, price feeds) as a Node module.
export default defineConfig({
	test: { include: ["test/sandbox/**/*.test.ts"], testTimeout: 30_000 },
});
