import { Keypair, SystemProgram, Transaction } from "@solana/web3.js";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { type Sandbox, startSandbox } from "../../sandbox/server.js";
import { mulberry32 } from "../../sandbox/solana/faults.js";
import { SolanaSimulator } from "../../sandbox/solana/simulator.js";
import { USDC } from "../../sandbox/solana/tokens.js";
import { rpc } from "./helpers.js";

// Fault knobs (over JSON-RPC and on the Sandbox object), slot control and the slot clock.

const SEED = 42;

describe("Solana fault injection", () => {
	let sandbox: Sandbox;
	let url: string;

	beforeAll(async () => {
		sandbox = await startSandbox({
			solanaPort: 0,
			stripePort: 0,
			controlPort: 0,
			solana: { slotMs: 0, finalizedLag: 2, faultSeed: SEED },
		});
		url = sandbox.urls.solana;
	});
	afterAll(() => sandbox.close());
	afterEach(() => sandbox.solana.clearFaults());

	const getSlot = (id = 1) => rpc(url, { jsonrpc: "2.0", id, method: "getSlot" });
	/** HTTP status of a getSlot call, for answers that are not JSON (503). */
	const slotStatus = async () => {
		const res = await fetch(url, {
			method: "POST",
			headers: { "content-type": "application/json" },
			body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "getSlot" }),
		});
		await res.text();
		return res.status;
	};
	const control = async (method: string, params: unknown[] = []) =>
		(await rpc(url, { jsonrpc: "2.0", id: 1, method, params })).json as {
			result?: unknown;
			error?: { code: number; message: string };
		};

	it("sets and reads faults over JSON-RPC, unspecified knobs off", async () => {
		expect(await control("simulator_setFaults", [{ latencyMs: 5, errorRate: 0.25 }])).toEqual({
			jsonrpc: "2.0",
			result: {
				latencyMs: 5,
				errorRate: 0.25,
				errorKind: "mixed",
				outage: false,
				dropTransactions: 0,
				seed: SEED,
			},
			id: 1,
		});
		expect((await control("simulator_getFaults")).result).toEqual(sandbox.solana.getFaults());
		expect(await control("simulator_setFaults", [{ errorRate: 2 }])).toMatchObject({
			error: {
				code: -32602,
				message: "Invalid params: invalid faults: errorRate must be between 0 and 1.",
			},
		});
		expect(await control("simulator_setFaults", [{ bogus: true }])).toMatchObject({
			error: { code: -32602, message: "Invalid params: invalid faults: unknown field bogus." },
		});
		expect(() => sandbox.solana.setFaults({ latencyMs: -1 })).toThrow(RangeError);
	});

	it("delays responses by latencyMs, but not simulator_ calls", async () => {
		sandbox.solana.setFaults({ latencyMs: 120 });
		let started = performance.now();
		expect((await getSlot()).status).toBe(200);
		expect(performance.now() - started).toBeGreaterThanOrEqual(115);
		started = performance.now();
		await control("simulator_getFaults");
		expect(performance.now() - started).toBeLessThan(100);
	});

	it("answers HTTP 429 for every request at errorRate 1 with http429", async () => {
		sandbox.solana.setFaults({ errorRate: 1, errorKind: "http429" });
		expect(await getSlot()).toEqual({
			status: 429,
			json: {
				jsonrpc: "2.0",
				error: { code: 429, message: "Too many requests for a specific RPC call" },
				id: null,
			},
		});
	});

	it("answers -32005 node unhealthy for each request of a batch", async () => {
		sandbox.solana.setFaults({ errorRate: 1, errorKind: "nodeUnhealthy" });
		const unhealthy = {
			code: -32005,
			message: "Node is unhealthy",
			data: { numSlotsBehind: null },
		};
		expect(
			await rpc(url, [
				{ jsonrpc: "2.0", id: 1, method: "getSlot" },
				{ jsonrpc: "2.0", id: 2, method: "getHealth" },
			]),
		).toEqual({
			status: 200,
			json: [
				{ jsonrpc: "2.0", error: unhealthy, id: 1 },
				{ jsonrpc: "2.0", error: unhealthy, id: 2 },
			],
		});
	});

	it("picks failures from the seeded PRNG, identically on every run", async () => {
		// The same draws the injector makes: one for fail/pass, one more for the kind.
		const random = mulberry32(7);
		const expected: string[] = [];
		for (let i = 0; i < 20; i++) {
			if (random() >= 0.5) expected.push("ok");
			else expected.push(random() < 0.5 ? "429" : "-32005");
		}
		const observe = async () => {
			sandbox.solana.setFaults({ errorRate: 0.5, seed: 7 });
			const seen: string[] = [];
			for (let i = 0; i < 20; i++) {
				const res = await getSlot();
				const error = (res.json as { error?: { code: number } }).error;
				seen.push(res.status === 429 ? "429" : error?.code === -32005 ? "-32005" : "ok");
			}
			return seen;
		};
		const first = await observe();
		expect(first).toEqual(expected);
		expect(new Set(first)).toEqual(new Set(["ok", "429", "-32005"]));
		expect(await observe()).toEqual(first);
	});

	it("answers 503 during an outage, for the whole node or a slot window", async () => {
		sandbox.solana.setFaults({ outage: true });
		expect(await slotStatus()).toBe(503);
		const health = await fetch(`${url}/health`);
		expect(health.status).toBe(503);
		expect(await health.text()).toBe("Service Unavailable");
		// Control methods still work, so the outage can be lifted.
		expect((await control("simulator_setFaults", [{}])).result).toMatchObject({ outage: false });
		expect(await slotStatus()).toBe(200);

		const now = sandbox.solana.slot;
		sandbox.solana.setFaults({ outage: { fromSlot: now + 2, toSlot: now + 3 } });
		expect(await slotStatus()).toBe(200);
		expect(await control("simulator_advanceSlots", [2])).toEqual({
			jsonrpc: "2.0",
			result: now + 2,
			id: 1,
		});
		expect(await slotStatus()).toBe(503);
		sandbox.solana.advanceSlots(1);
		expect(await slotStatus()).toBe(503);
		sandbox.solana.advanceSlots(1);
		expect(await slotStatus()).toBe(200);
	});

	it("drops transactions: a signature comes back, nothing ever executes", async () => {
		const payer = Keypair.generate();
		sandbox.solana.confirm(sandbox.solana.airdrop(payer.publicKey.toBase58(), 1_000_000_000));
		const to = Keypair.generate().publicKey;
		const send = async (lamports: number) => {
			const blockhash = sandbox.solana.chain.latestBlockhash();
			const tx = new Transaction({ feePayer: payer.publicKey, recentBlockhash: blockhash }).add(
				SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: to, lamports }),
			);
			tx.sign(payer);
			const res = await control("sendTransaction", [
				tx.serialize().toString("base64"),
				{ encoding: "base64" },
			]);
			return res.result as string;
		};
		sandbox.solana.setFaults({ dropTransactions: 1 });
		const dropped = await send(1_000_000);
		expect(dropped).toMatch(/^[1-9A-HJ-NP-Za-km-z]{87,88}$/);
		sandbox.solana.advanceSlots(3);
		expect(
			await control("getSignatureStatuses", [[dropped], { searchTransactionHistory: true }]),
		).toMatchObject({
			result: { value: [null] },
		});
		expect(
			(await control("getTransaction", [dropped, { commitment: "confirmed" }])).result,
		).toBeNull();
		expect(
			(await control("getBalance", [to.toBase58(), { commitment: "processed" }])).result,
		).toMatchObject({ value: 0 });

		// At 0.5 the seeded stream decides which of several sends land.
		const random = mulberry32(SEED ^ 0x5bd1e995);
		sandbox.solana.setFaults({ dropTransactions: 0.5 });
		const landed: boolean[] = [];
		const expected: boolean[] = [];
		for (let i = 0; i < 8; i++) {
			const signature = await send(1_000_000 + i);
			landed.push(sandbox.solana.chain.ledger.get(signature) !== undefined);
			expected.push(random() >= 0.5);
		}
		expect(landed).toEqual(expected);
		expect(landed).toContain(true);
		expect(landed).toContain(false);
	});

	it("resets to a fresh chain with the genesis tokens", async () => {
		const owner = Keypair.generate().publicKey.toBase58();
		sandbox.solana.confirm(sandbox.solana.mintTokens(owner, USDC.mint, 10));
		sandbox.solana.setFaults({ latencyMs: 1 });
		expect(await control("simulator_reset")).toEqual({ jsonrpc: "2.0", result: 2, id: 1 });
		expect(sandbox.solana.getFaults().latencyMs).toBe(0);
		expect(
			(
				await control("getTokenAccountsByOwner", [
					owner,
					{ mint: USDC.mint },
					{ commitment: "processed" },
				])
			).result,
		).toMatchObject({ value: [] });
		expect(
			(await control("getAccountInfo", [USDC.mint, { encoding: "base64" }])).result,
		).toMatchObject({
			value: { owner: USDC.programId, space: 82 },
		});
		expect(await control("simulator_advanceSlots", [-1])).toMatchObject({
			error: { code: -32602 },
		});
	});
});

describe("slot clock", () => {
	afterEach(() => vi.useRealTimers());

	it("produces one slot per slotMs once started, and none after stop", () => {
		vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
		const simulator = new SolanaSimulator({ slotMs: 400, finalizedLag: 32 });
		const genesis = simulator.slot;
		simulator.start();
		vi.advanceTimersByTime(2000);
		expect(simulator.slot).toBe(genesis + 5);
		const blockhash = simulator.chain.latestBlockhash();
		vi.advanceTimersByTime(400);
		expect(simulator.chain.latestBlockhash()).not.toBe(blockhash);
		simulator.stop();
		vi.advanceTimersByTime(4000);
		expect(simulator.slot).toBe(genesis + 6);
	});

	it("stays put with slotMs 0", () => {
		vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
		const simulator = new SolanaSimulator({ slotMs: 0 });
		const genesis = simulator.slot;
		simulator.start();
		vi.advanceTimersByTime(10_000);
		expect(simulator.slot).toBe(genesis);
		expect(simulator.advanceSlots(3)).toBe(genesis + 3);
	});

	it("validates its options", () => {
		expect(() => new SolanaSimulator({ confirmedLag: 5, finalizedLag: 2 })).toThrow(
			"finalizedLag must be at least confirmedLag",
		);
		expect(() => new SolanaSimulator({ slotMs: -1 })).toThrow(RangeError);
	});
});
