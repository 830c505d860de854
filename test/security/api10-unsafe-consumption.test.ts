import {
	createExecutionContext,
	runInDurableObject,
	waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { createMerchant, createPayment } from "../worker/helpers/api";
import { paymentObject } from "../worker/helpers/objects";
import { detect, fundedPayer } from "../worker/helpers/solana";
import { sink } from "../worker/helpers/webhooks";
import { expectHouseShape } from "./helpers/house";
import type { Merchant } from "./helpers/objects";

// OWASP API10:2023 Unsafe Consumption of APIs. The gateway trusts neither Stripe nor the Solana
// RPC: an upstream that is down, rate-limits, errors or answers garbage yields a house error
// (502 processor_error), leaves the payment as it was, and never a crash or a 500.
//
// The faulty upstream is a local receiver that answers each request with a scripted status and a
// text body (not JSON, not JSON-RPC), or a closed port. The gateway (and the payment's object)
// are pointed at it through their environment, so no shared sandbox knob is flipped under the
// other test files running alongside.

type Upstream = { name: string; url: () => Promise<string> };

/** Upstreams that fail in every way a network can: HTTP errors with garbage bodies, garbage 200s. */
function faultyUpstreams(): Upstream[] {
	const scripted = (status: number) => async () => {
		const s = sink();
		await s.script(Array.from({ length: 10 }, () => ({ status })));
		return s.url;
	};
	return [
		{ name: "a 200 with a text body", url: scripted(200) },
		{ name: "HTTP 500", url: scripted(500) },
		{ name: "HTTP 503", url: scripted(503) },
		{ name: "HTTP 429", url: scripted(429) },
		{ name: "HTTP 404", url: scripted(404) },
		{ name: "a closed port", url: async () => "http://127.0.0.1:9" },
	];
}

async function callWith(
	overrides: Partial<typeof env>,
	method: string,
	path: string,
	body?: unknown,
	key?: string,
): Promise<Response> {
	const ctx = createExecutionContext();
	const headers: Record<string, string> = {
		"Content-Type": "application/json",
		"CF-Connecting-IP": "198.51.100.10",
	};
	if (key) headers.Authorization = `Bearer ${key}`;
	const res = await worker.fetch(
		new Request(`http://gateway.test${path}`, {
			method,
			headers,
			body: body === undefined ? undefined : JSON.stringify(body),
		}),
		{ ...env, ...overrides },
		ctx,
	);
	await waitOnExecutionContext(ctx);
	return res;
}

async function statusOf(m: Merchant, id: string): Promise<{ status: string; version?: number }> {
	const res = await callWith({}, "GET", `/v1/payments/${id}`, undefined, m.sk);
	expect(res.status).toBe(200);
	return (await res.json()) as { status: string };
}

async function expectProcessorError(res: Response, context: string): Promise<void> {
	const text = await res.text();
	expect(res.status, `${context}: ${text}`).toBe(502);
	expect(expectHouseShape(res, text, context)).toBe("processor_error");
	// Nothing of the upstream's answer or address reaches the client.
	expect(text, context).not.toMatch(/127\.0\.0\.1|ok"|Stripe\w*Error|SolanaRpcError/);
}

let m: Merchant;
beforeAll(async () => {
	m = await createMerchant();
	// The warnings these failures log are expected; keep the run's output readable.
	vi.spyOn(console, "warn").mockImplementation(() => undefined);
	vi.spyOn(console, "log").mockImplementation(() => undefined);
});

describe("API10 a faulty Stripe", () => {
	it.each(faultyUpstreams().map((u) => [u.name, u] as [string, Upstream]))(
		"opening a card payment against %s is a 502 processor_error and leaves the payment unpaid",
		async (name, upstream) => {
			const p = await createPayment(m.sk, { payment_method_types: ["card"] });
			const res = await callWith(
				{ STRIPE_API_URL: new URL(await upstream.url()).origin },
				"POST",
				`/checkout/${p.id}/card`,
				{},
			);
			await expectProcessorError(res, `card with Stripe giving ${name}`);
			expect((await statusOf(m, p.id)).status).toBe("requires_payment");
		},
	);
});

describe("API10 a faulty Solana RPC", () => {
	let payer: string;
	beforeAll(async () => {
		payer = (await fundedPayer()).address;
	});

	async function solanaPayment() {
		return createPayment(m.sk, { payment_method_types: ["solana"], solana: { token: "SOL" } });
	}

	it.each(faultyUpstreams().map((u) => [u.name, u] as [string, Upstream]))(
		"a transaction request against %s is a 502 processor_error and leaves the payment unpaid",
		async (name, upstream) => {
			const p = await solanaPayment();
			const res = await callWith(
				{ SOLANA_RPC_URLS: await upstream.url() },
				"POST",
				`/solana-pay/${p.id}`,
				{ account: payer },
			);
			await expectProcessorError(res, `transaction request with the RPC giving ${name}`);
			expect((await statusOf(m, p.id)).status).toBe("requires_payment");
		},
	);

	it.each(faultyUpstreams().map((u) => [u.name, u] as [string, Upstream]))(
		"the payment's poll against %s changes nothing and keeps the object serving",
		async (_name, upstream) => {
			const p = await solanaPayment();
			const before = await statusOf(m, p.id);
			const url = await upstream.url();
			const stub = paymentObject(p.id);
			await runInDurableObject(stub, (instance) => {
				// `env` is protected on DurableObject; the test points this one object at the bad RPC.
				(instance as unknown as { env: typeof env }).env = { ...env, SOLANA_RPC_URLS: url };
			});
			try {
				await detect(p.id);
				await detect(p.id);
			} finally {
				await runInDurableObject(stub, (instance) => {
					(instance as unknown as { env: typeof env }).env = env;
				});
			}
			const after = await statusOf(m, p.id);
			expect(after).toStrictEqual(before);
		},
	);

	it("builds the transaction again once the RPC answers properly (the failure left no state)", async () => {
		const p = await solanaPayment();
		const bad = await callWith(
			{ SOLANA_RPC_URLS: "http://127.0.0.1:9" },
			"POST",
			`/solana-pay/${p.id}`,
			{
				account: payer,
			},
		);
		expect(bad.status).toBe(502);
		const good = await callWith({}, "POST", `/solana-pay/${p.id}`, { account: payer });
		expect(good.status, await good.clone().text()).toBe(200);
		expect(((await good.json()) as { transaction: string }).transaction).toMatch(
			/^[A-Za-z0-9+/=]+$/,
		);
	});

	/** Answers JSON-RPC calls to the configured RPC with `answer`; everything else goes through. */
	function rpcAnswering(answer: unknown) {
		const real = globalThis.fetch;
		return vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
			const url = input instanceof Request ? input.url : String(input);
			if (url.startsWith(env.SOLANA_RPC_URLS))
				return new Response(JSON.stringify(answer), {
					headers: { "Content-Type": "application/json" },
				});
			return real(input, init);
		});
	}

	// Well-formed JSON-RPC of the wrong shape: SolanaRpc checks each result's shape before anything
	// reads it, so the node's mistake is a processor error, not a TypeError.
	it.each([
		["no result", { jsonrpc: "2.0", id: 1 }],
		["a null result", { jsonrpc: "2.0", id: 1, result: null }],
		["a result of the wrong type", { jsonrpc: "2.0", id: 1, result: "garbage" }],
	])("a transaction request against an RPC answering %s is a 502", async (_n, answer) => {
		const p = await solanaPayment();
		const spy = rpcAnswering(answer);
		try {
			const res = await callWith({}, "POST", `/solana-pay/${p.id}`, { account: payer });
			await expectProcessorError(res, "transaction request with a mis-shaped RPC result");
		} finally {
			spy.mockRestore();
		}
	});

	it("a transaction request against an RPC answering a mis-shaped result is never a 2xx and leaves the payment unpaid", async () => {
		for (const answer of [
			{ jsonrpc: "2.0", id: 1 },
			{ jsonrpc: "2.0", id: 1, result: { value: 7 } },
		]) {
			const p = await solanaPayment();
			const spy = rpcAnswering(answer);
			let res: Response;
			try {
				res = await callWith({}, "POST", `/solana-pay/${p.id}`, { account: payer });
			} finally {
				spy.mockRestore();
			}
			const text = await res.text();
			expect(res.status, text).toBeGreaterThanOrEqual(500);
			expectHouseShape(res, text, "mis-shaped RPC result");
			expect(text).not.toMatch(/TypeError|undefined/);
			expect((await statusOf(m, p.id)).status).toBe("requires_payment");
		}
	});
});
