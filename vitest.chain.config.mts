import { workersSuite } from "./vitest.config.mjs";

// Chain-money suite: the Worker suite's setup, but with a settlement wallet of its own that no
// other suite pays into or refunds from, so the ledger can be compared with the chain to the unit.
// Its files run one after another for the same reason.
export default workersSuite({
	include: ["test/chain/**/*.test.ts"],
	globalSetup: "./test/chain/global-setup.ts",
	fileParallelism: false,
	bindings: {
		SOLANA_SETTLEMENT_WALLET: "ETfXgxxBzuFNptH8u5CGRk8NE4jkUvjVgVQ4mh4A7xXp",
		SETTLEMENT_WALLET_KEY:
			"5wyrH2N98pThcLQLnvB7cRhj2Zhi9U8TsEi8GiuuPvUMwjz9uvs5JT2jkR8DHTt33bhbwzHvknsuABLmxV6SHitN",
		// Small pages, so a few dozen signatures already take several pages to read.
		SOLANA_SIGNATURE_PAGE_SIZE: "20",
	},
});
