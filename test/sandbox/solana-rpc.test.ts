import type { Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readSolanaConfig } from "../../sandbox/config.js";
import { listen, MAX_BODY_BYTES } from "../../sandbox/http.js";
import { type Sandbox, startSandbox } from "../../sandbox/server.js";
import {
	createDefaultMethods,
	createSolanaRpcServer,
	FEATURE_SET,
	handleJsonRpcBody,
	JsonRpcError,
} from "../../sandbox/solana/rpc-server.js";
import { rpc } from "./helpers.js";

const INVALID = { jsonrpc: "2.0", error: { code: -32600, message: "Invalid request" }, id: null };

describe("Solana JSON-RPC over HTTP", () => {
	let sandbox: Sandbox;
	let url: string;

	beforeAll(async () => {
		sandbox = await startSandbox({ solanaPort: 0, stripePort: 0, controlPort: 0 });
		url = sandbox.urls.solana;
	});
	afterAll(() => sandbox.close());

	it("answers getHealth", async () => {
		const res = await rpc(url, { jsonrpc: "2.0", id: 1, method: "getHealth" });
		expect(res).toEqual({ status: 200, json: { jsonrpc: "2.0", result: "ok", id: 1 } });
	});

	it("answers getVersion with a core version and numeric feature set", async () => {
		const res = await rpc(url, { jsonrpc: "2.0", id: "v", method: "getVersion", params: [] });
		expect(res).toEqual({
			status: 200,
			json: {
				jsonrpc: "2.0",
				result: { "solana-core": "2.2.0", "feature-set": FEATURE_SET },
				id: "v",
			},
		});
		expect(Number.isInteger(FEATURE_SET)).toBe(true);
	});

	it("answers batches in request order, skipping notifications", async () => {
		const res = await rpc(url, [
			{ jsonrpc: "2.0", id: 1, method: "getVersion" },
			{ jsonrpc: "2.0", method: "getHealth" },
			{ jsonrpc: "2.0", id: 2, method: "getBlockProduction", params: [] },
			{ jsonrpc: "2.0", id: 3, method: "getHealth" },
			42,
		]);
		expect(res).toEqual({
			status: 200,
			json: [
				{
					jsonrpc: "2.0",
					result: { "solana-core": "2.2.0", "feature-set": FEATURE_SET },
					id: 1,
				},
				{ jsonrpc: "2.0", error: { code: -32601, message: "Method not found" }, id: 2 },
				{ jsonrpc: "2.0", result: "ok", id: 3 },
				INVALID,
			],
		});
	});

	it("reports unknown methods as -32601", async () => {
		const res = await rpc(url, { jsonrpc: "2.0", id: 7, method: "getSlotLeaders" });
		expect(res.json).toEqual({
			jsonrpc: "2.0",
			error: { code: -32601, message: "Method not found" },
			id: 7,
		});
	});

	it("reports malformed JSON as -32700 with a null id", async () => {
		const res = await rpc(url, '{"jsonrpc": "2.0", "id": 1,');
		expect(res).toEqual({
			status: 200,
			json: { jsonrpc: "2.0", error: { code: -32700, message: "Parse error" }, id: null },
		});
	});

	it.each([
		["a JSON string", '"hello"', null],
		["an empty batch", [], null],
		["a missing jsonrpc version", { id: 1, method: "getHealth" }, 1],
		["a wrong jsonrpc version", { jsonrpc: "1.0", id: 1, method: "getHealth" }, 1],
		["a non-string method", { jsonrpc: "2.0", id: 1, method: 5 }, 1],
		["scalar params", { jsonrpc: "2.0", id: 1, method: "getHealth", params: 3 }, 1],
	])("reports %s as -32600", async (_name, body, id) => {
		const res = await rpc(url, body);
		expect(res).toEqual({ status: 200, json: { ...INVALID, id } });
	});

	it("treats an object id as invalid and answers with a null id", async () => {
		const res = await rpc(url, { jsonrpc: "2.0", id: { x: 1 }, method: "getHealth" });
		expect(res.json).toEqual(INVALID);
	});

	it("answers a lone notification with 204 and no body", async () => {
		const res = await rpc(url, { jsonrpc: "2.0", method: "getHealth" });
		expect(res).toEqual({ status: 204, json: undefined });
	});

	it("only accepts POST at /", async () => {
		const res = await fetch(url);
		expect(res.status).toBe(405);
		expect(res.headers.get("allow")).toBe("POST");
		await res.body?.cancel();
		const other = await fetch(`${url}/rpc`, { method: "POST", body: "{}" });
		expect(other.status).toBe(404);
		await other.body?.cancel();
	});

	it("refuses bodies over the size limit with 413", async () => {
		const res = await fetch(url, { method: "POST", body: "x".repeat(MAX_BODY_BYTES + 1) });
		expect(res.status).toBe(413);
		await res.body?.cancel();
	});
});

describe("method registry", () => {
	it("lets handlers be added and raise typed or internal errors", async () => {
		const methods = createDefaultMethods();
		const logged: string[] = [];
		methods.set("echo", (params) => params);
		methods.set("getAccountInfo", () => {
			throw new JsonRpcError(-32602, "Invalid param: WrongSize", { detail: 1 });
		});
		methods.set("boom", () => {
			throw new Error("kaput");
		});
		const body = JSON.stringify([
			{ jsonrpc: "2.0", id: 1, method: "echo", params: { a: [1, 2] } },
			{ jsonrpc: "2.0", id: 2, method: "getAccountInfo", params: ["bad"] },
			{ jsonrpc: "2.0", id: 3, method: "boom" },
		]);
		expect(await handleJsonRpcBody(body, methods, (line) => logged.push(line))).toEqual([
			{ jsonrpc: "2.0", result: { a: [1, 2] }, id: 1 },
			{
				jsonrpc: "2.0",
				error: { code: -32602, message: "Invalid param: WrongSize", data: { detail: 1 } },
				id: 2,
			},
			{ jsonrpc: "2.0", error: { code: -32603, message: "Internal error" }, id: 3 },
		]);
		expect(logged).toEqual(["solana rpc: boom failed: kaput"]);
	});

	it("serves a custom registry over HTTP", async () => {
		const methods = new Map([["getSlot", () => 42]]);
		const server: Server = createSolanaRpcServer({ methods });
		const port = await listen(server, 0, "127.0.0.1");
		try {
			const res = await rpc(`http://127.0.0.1:${port}`, [
				{ jsonrpc: "2.0", id: 1, method: "getSlot" },
				{ jsonrpc: "2.0", id: 2, method: "getHealth" },
			]);
			expect(res.json).toEqual([
				{ jsonrpc: "2.0", result: 42, id: 1 },
				{ jsonrpc: "2.0", error: { code: -32601, message: "Method not found" }, id: 2 },
			]);
		} finally {
			server.closeAllConnections();
			await new Promise((resolve) => server.close(resolve));
		}
	});
});

describe("readSolanaConfig", () => {
	it("reads only the Solana variables that are set", () => {
		expect(readSolanaConfig({})).toEqual({});
		expect(
			readSolanaConfig({
				SOLANA_SLOT_MS: "0",
				SOLANA_CONFIRMED_LAG: " 2 ",
				SOLANA_FINALIZED_LAG: "8",
				SOLANA_FAULT_SEED: "99",
			}),
		).toEqual({ slotMs: 0, confirmedLag: 2, finalizedLag: 8, faultSeed: 99 });
	});

	it("rejects non-integers", () => {
		expect(() => readSolanaConfig({ SOLANA_SLOT_MS: "fast" })).toThrow(
			'SOLANA_SLOT_MS must be a non-negative integer, got "fast"',
		);
	});
});
