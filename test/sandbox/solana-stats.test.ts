import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Sandbox, startSandbox } from "../../sandbox/server.js";
import { type RpcCallEvent, rpcKeys } from "../../sandbox/solana/simulator.js";
import { solanaTestRpc } from "../../sandbox/solana/testing.js";
import { SANDBOX_FAUCET, USDC } from "../../sandbox/solana/tokens.js";

// Per-method, per-key accounting of the JSON-RPC calls the sandbox serves (rpcStats, "rpc").

const REFERENCE = "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin";
const SIGNATURE =
	"5VERv8NMvzbJMEkV8xnrLkEaWRtSz9CosKDYjCJjBRnbJLgp8uirBgmQpjKhoR4tjF3ZpRzrFmBV6UjKdiSZkQUW";

describe("Solana RPC call accounting", () => {
	let sandbox: Sandbox;
	let call: ReturnType<typeof solanaTestRpc>["call"];

	beforeAll(async () => {
		sandbox = await startSandbox({
			solanaPort: 0,
			stripePort: 0,
			controlPort: 0,
			solana: { slotMs: 0, confirmedLag: 1, finalizedLag: 3 },
		});
		({ call } = solanaTestRpc(sandbox.urls.solana));
	});
	afterAll(() => sandbox.close());

	it("counts served calls per method and per address or signature", async () => {
		sandbox.solana.resetRpcStats();
		const seen: RpcCallEvent[] = [];
		const listener = (event: RpcCallEvent) => seen.push(event);
		sandbox.solana.events.on("rpc", listener);
		try {
			const before = Date.now();
			await call("getSignaturesForAddress", [REFERENCE, { commitment: "confirmed" }]);
			await call("getSignaturesForAddress", [REFERENCE, { commitment: "confirmed" }]);
			await call("getSignaturesForAddress", [SANDBOX_FAUCET]);
			await call("getTransaction", [SIGNATURE, { encoding: "jsonParsed" }]);
			const airdrop = sandbox.solana.airdrop(REFERENCE, 1_000_000);
			await call("getSignatureStatuses", [[SIGNATURE, airdrop]]);
			await call("getLatestBlockhash", [{ commitment: "confirmed" }]);
			await call("getSlot");

			const stats = sandbox.solana.rpcStats();
			expect(stats.total).toBe(7);
			expect(stats.methods.getSignaturesForAddress).toEqual({
				calls: 3,
				byKey: { [REFERENCE]: 2, [SANDBOX_FAUCET]: 1 },
			});
			expect(stats.methods.getTransaction).toEqual({ calls: 1, byKey: { [SIGNATURE]: 1 } });
			expect(stats.methods.getSignatureStatuses).toEqual({
				calls: 1,
				byKey: { [SIGNATURE]: 1, [airdrop]: 1 },
			});
			expect(stats.methods.getLatestBlockhash).toEqual({ calls: 1, byKey: {} });
			expect(stats.methods.getSlot).toEqual({ calls: 1, byKey: {} });

			expect(seen.map((e) => e.method)).toEqual([
				"getSignaturesForAddress",
				"getSignaturesForAddress",
				"getSignaturesForAddress",
				"getTransaction",
				"getSignatureStatuses",
				"getLatestBlockhash",
				"getSlot",
			]);
			expect(seen[0]?.keys).toEqual([REFERENCE]);
			for (const event of seen) {
				expect(event.at).toBeGreaterThanOrEqual(before);
				expect(event.at).toBeLessThanOrEqual(Date.now());
			}
		} finally {
			sandbox.solana.events.off("rpc", listener);
		}
	});

	it("counts each request of a batch, not unknown methods or refused requests", async () => {
		sandbox.solana.resetRpcStats();
		const res = await fetch(sandbox.urls.solana, {
			method: "POST",
			headers: { "content-type": "application/json" },
			body: JSON.stringify([
				{ jsonrpc: "2.0", id: 1, method: "getBalance", params: [SANDBOX_FAUCET] },
				{ jsonrpc: "2.0", id: 2, method: "getBalance", params: [SANDBOX_FAUCET] },
				{ jsonrpc: "2.0", id: 3, method: "noSuchMethod", params: [] },
			]),
		});
		expect(res.status).toBe(200);
		await res.text();
		sandbox.solana.setFaults({ outage: true });
		try {
			const refused = await fetch(sandbox.urls.solana, {
				method: "POST",
				headers: { "content-type": "application/json" },
				body: JSON.stringify({ jsonrpc: "2.0", id: 4, method: "getSlot" }),
			});
			expect(refused.status).toBe(503);
			await refused.text();
		} finally {
			sandbox.solana.clearFaults();
		}
		const stats = sandbox.solana.rpcStats();
		expect(stats.total).toBe(2);
		expect(stats.methods).toEqual({ getBalance: { calls: 2, byKey: { [SANDBOX_FAUCET]: 2 } } });
	});

	it("returns a snapshot, and starts again from zero after resetRpcStats", async () => {
		sandbox.solana.resetRpcStats();
		await call("getTokenSupply", [USDC.mint]);
		const snapshot = sandbox.solana.rpcStats();
		await call("getTokenSupply", [USDC.mint]);
		expect(snapshot.methods.getTokenSupply?.calls).toBe(1);
		expect(sandbox.solana.rpcStats().methods.getTokenSupply?.calls).toBe(2);
		sandbox.solana.resetRpcStats();
		expect(sandbox.solana.rpcStats()).toEqual({ total: 0, methods: {} });
	});

	it("keys a call by an address or signature first parameter only", () => {
		expect(rpcKeys([REFERENCE, { limit: 1 }])).toEqual([REFERENCE]);
		expect(rpcKeys([[SIGNATURE, 42, REFERENCE]])).toEqual([SIGNATURE, REFERENCE]);
		expect(rpcKeys([{ commitment: "confirmed" }])).toEqual([]);
		expect(rpcKeys(["AQAB+/=="])).toEqual([]);
		expect(rpcKeys(["A".repeat(200)])).toEqual([]);
		expect(rpcKeys(undefined)).toEqual([]);
		expect(rpcKeys({ address: REFERENCE })).toEqual([]);
	});
});
