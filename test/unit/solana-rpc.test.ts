import { describe, expect, it } from "vitest";
import { SolanaRpc, SolanaRpcError } from "../../src/processors/solana/rpc";

type Reply = Response | "timeout" | "refused";

/** A fetch that answers per URL from a script, recording which URLs were called. */
function scripted(replies: Record<string, Reply[]>) {
	const calls: string[] = [];
	const fetcher = (async (input: RequestInfo | URL) => {
		const url = String(input);
		calls.push(url);
		const reply = replies[url]?.shift();
		if (reply === "timeout") throw new DOMException("The operation timed out.", "TimeoutError");
		if (reply === "refused" || reply === undefined) throw new TypeError("fetch failed");
		return reply;
	}) as typeof fetch;
	return { calls, fetcher };
}

const ok = (result: unknown) => Response.json({ jsonrpc: "2.0", id: 1, result });
const rpcError = (code: number, message: string) =>
	Response.json({ jsonrpc: "2.0", id: 1, error: { code, message } });

describe("Solana RPC client", () => {
	it("fails over to the next endpoint on 429, 5xx, timeouts and unreachable hosts", async () => {
		for (const first of [
			new Response("slow down", { status: 429 }),
			new Response("", { status: 503 }),
			"timeout",
			"refused",
		] as Reply[]) {
			const { calls, fetcher } = scripted({
				"https://a.test/": [first],
				"https://b.test/": [ok(42)],
			});
			const rpc = new SolanaRpc({ urls: ["https://a.test/", "https://b.test/"], fetch: fetcher });
			expect(await rpc.call("getSlot", [])).toBe(42);
			expect(calls).toEqual(["https://a.test/", "https://b.test/"]);
			expect(rpc.calls).toBe(2);
		}
	});

	it("fails over on a lagging node's error but not on invalid params", async () => {
		const lag = scripted({
			"https://a.test/": [rpcError(-32005, "Node is unhealthy")],
			"https://b.test/": [ok("x")],
		});
		expect(
			await new SolanaRpc({
				urls: ["https://a.test/", "https://b.test/"],
				fetch: lag.fetcher,
			}).call("m", []),
		).toBe("x");
		const bad = scripted({
			"https://a.test/": [rpcError(-32602, "Invalid params")],
			"https://b.test/": [ok("x")],
		});
		const rpc = new SolanaRpc({ urls: ["https://a.test/", "https://b.test/"], fetch: bad.fetcher });
		await expect(rpc.call("m", [])).rejects.toMatchObject({ retryable: false, code: -32602 });
		expect(bad.calls).toEqual(["https://a.test/"]);
	});

	it("reports a retryable error when every endpoint is down", async () => {
		const { fetcher } = scripted({
			"https://a.test/": ["timeout"],
			"https://b.test/": [new Response("", { status: 429 })],
		});
		const error = await new SolanaRpc({
			urls: ["https://a.test/", "https://b.test/"],
			fetch: fetcher,
		})
			.call("getSignaturesForAddress", [])
			.catch((e: unknown) => e);
		expect(error).toBeInstanceOf(SolanaRpcError);
		expect(error).toMatchObject({
			retryable: true,
			message: "getSignaturesForAddress: HTTP 429 from b.test",
		});
	});

	it("needs at least one endpoint", () => {
		expect(() => new SolanaRpc({ urls: [] })).toThrow("At least one Solana RPC URL is required");
	});
});

describe("Solana RPC results", () => {
	it("treats a missing or mis-shaped result as the node's retryable fault and fails over", async () => {
		for (const bad of [
			Response.json({ jsonrpc: "2.0", id: 1 }),
			ok(null),
			ok("garbage"),
			ok({ value: { blockhash: 42 } }),
		]) {
			const { calls, fetcher } = scripted({
				"http://a": [bad],
				"http://b": [
					ok({ context: { slot: 1 }, value: { blockhash: "h", lastValidBlockHeight: 9 } }),
				],
			});
			const rpc = new SolanaRpc({ urls: ["http://a", "http://b"], fetch: fetcher });
			const result = await rpc.call<{ value: { blockhash: string } }>("getLatestBlockhash", []);
			expect(result.value.blockhash).toBe("h");
			expect(calls).toEqual(["http://a", "http://b"]);
		}
	});

	it("says which method and node answered wrongly when no endpoint answers well", async () => {
		const { fetcher } = scripted({ "http://a": [ok([{ nope: true }])] });
		const rpc = new SolanaRpc({ urls: ["http://a"], fetch: fetcher });
		const error = await rpc.call("getSignaturesForAddress", []).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(SolanaRpcError);
		expect(error).toMatchObject({
			retryable: true,
			message: "getSignaturesForAddress: unexpected result from a",
		});
		// getTransaction may answer null (not found): that is a valid answer.
		const { fetcher: nullFetch } = scripted({ "http://a": [ok(null)] });
		expect(
			await new SolanaRpc({ urls: ["http://a"], fetch: nullFetch }).call("getTransaction", []),
		).toBeNull();
	});
});

describe("Solana RPC integers", () => {
	/** A 200 answer with `body` as written, so integer literals reach the client unrounded. */
	const raw = (body: string) =>
		new Response(body, { headers: { "content-type": "application/json" } });
	const callWith = (body: string, method = "m") => {
		const { fetcher } = scripted({ "http://a": [raw(body)] });
		return new SolanaRpc({ urls: ["http://a"], fetch: fetcher }).call<unknown>(method, []);
	};

	it("reads u64 values past 2^53 as exact bigints", async () => {
		expect(
			await callWith(
				'{"jsonrpc":"2.0","id":1,"result":{"context":{"slot":5},"value":18446744073709551615}}',
			),
		).toEqual({ context: { slot: 5 }, value: 18_446_744_073_709_551_615n });
	});

	it("keeps pre and post balances exact, safe ones as numbers, so BigInt() of any is right", async () => {
		const tx = await callWith(
			`{"jsonrpc":"2.0","id":1,"result":{"slot":7,"transaction":{"signatures":["s"]},"meta":{"err":null,"fee":5000,"preBalances":[9007199254740993,0,1],"postBalances":[9007199254740993,9007199254740992,1]}}}`,
			"getTransaction",
		);
		expect(tx).toMatchObject({
			slot: 7,
			meta: {
				fee: 5000,
				preBalances: [9_007_199_254_740_993n, 0, 1],
				postBalances: [9_007_199_254_740_993n, 9_007_199_254_740_992n, 1],
			},
		});
	});

	it("calls an answer that is JSON but not an object malformed, and fails over", async () => {
		const { calls, fetcher } = scripted({
			"http://a": [raw("null")],
			"http://b": [raw("12345678901234567890")],
			"http://c": [raw('{"jsonrpc":"2.0","id":1,"result":1}')],
		});
		const rpc = new SolanaRpc({ urls: ["http://a", "http://b", "http://c"], fetch: fetcher });
		expect(await rpc.call("m", [])).toBe(1);
		expect(calls).toEqual(["http://a", "http://b", "http://c"]);
	});
});
