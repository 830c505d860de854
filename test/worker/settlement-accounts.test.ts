import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { address, generateKeyPairSigner } from "@solana/kit";
import {
	findAssociatedTokenPda,
	getCreateAssociatedTokenIdempotentInstruction,
} from "@solana-program/token";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import {
	assertSettlementAccountExists,
	MISSING_TTL_MS,
	settlementAccountStatuses,
} from "../../src/services/settlement-readiness";
import { resolveToken } from "../../src/services/tokens";
import { createMerchant, createPayment, expectApiError } from "./helpers/api";
import {
	advanceSlots,
	fundedPayer,
	PYUSD_MINT,
	rpc,
	sendInstructions,
	TOKEN_2022_PROGRAM,
	TOKEN_PROGRAM,
	USDC_MINT,
} from "./helpers/solana";

// Quoting in a token needs the settlement wallet's token account for its mint: without it a
// payer's wallet would be asked to create the gateway's account, and the watcher has nothing to
// watch. Each test builds its own environment object, so the per-isolate cache starts empty.

const USDC_FEED = "eaa020c61cc479712813461ce153894a96a6c00b21ed0cfc2798d1f9a9e9c94a";

/** The suite's tokens plus NOACCT, a mint no settlement wallet has an account for. */
async function envWithUnsetupToken(overrides: Partial<typeof env> = {}) {
	const mint = (await generateKeyPairSigner()).address;
	const extra = [
		{
			symbol: "PYUSD",
			mint: PYUSD_MINT,
			decimals: 6,
			program: TOKEN_2022_PROGRAM,
			usd_feed_id: USDC_FEED,
		},
		{ symbol: "NOACCT", mint, decimals: 6, program: TOKEN_PROGRAM, usd_feed_id: USDC_FEED },
	];
	return { env: { ...env, SOLANA_EXTRA_TOKENS: JSON.stringify(extra), ...overrides }, mint };
}

async function send(
	e: typeof env,
	method: string,
	path: string,
	key: string,
	body: unknown,
): Promise<Response> {
	const ctx = createExecutionContext();
	const res = await worker.fetch(
		new Request(`http://gateway.test${path}`, {
			method,
			headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
			body: JSON.stringify(body),
		}),
		e,
		ctx,
	);
	await waitOnExecutionContext(ctx);
	return res;
}

/** The associated token account of `owner` for `mint`, created if missing by a funded payer. */
async function createTokenAccount(owner: string, mint: string, program: string): Promise<void> {
	const payer = await fundedPayer();
	const accounts = { owner: address(owner), mint: address(mint), tokenProgram: address(program) };
	const [ata] = await findAssociatedTokenPda(accounts);
	await sendInstructions(payer, [
		getCreateAssociatedTokenIdempotentInstruction({ payer, ata, ...accounts }),
	]);
	await advanceSlots(2);
}

/** Counts the gateway's getMultipleAccounts calls (it speaks JSON-RPC over the global fetch). */
function countAccountReads(): () => number {
	const original = globalThis.fetch;
	let reads = 0;
	vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
		if (typeof init?.body === "string" && init.body.includes('"getMultipleAccounts"')) reads++;
		return original(input, init);
	});
	return () => reads;
}

afterEach(() => {
	vi.restoreAllMocks();
});

describe("quoting needs the settlement token account", () => {
	it("refuses to create a payment in a token whose settlement account is missing, naming npm run solana:setup", async () => {
		const m = await createMerchant();
		const { env: e } = await envWithUnsetupToken();
		const res = await send(e, "POST", "/v1/payments", m.sk, {
			amount: 2500,
			currency: "usd",
			payment_method_types: ["solana"],
			solana: { token: "NOACCT" },
		});
		const error = await expectApiError(res, "service_unavailable");
		expect(error.message).toBe(
			"The settlement wallet has no NOACCT token account yet, so NOACCT payments cannot be received; the operator must run `npm run solana:setup`. Choose another token or retry later.",
		);
	});

	it("refuses a re-quote into that token, and still quotes USDC, whose account exists", async () => {
		const m = await createMerchant();
		const { env: e } = await envWithUnsetupToken();
		await createTokenAccount(env.SOLANA_SETTLEMENT_WALLET, USDC_MINT, TOKEN_PROGRAM);
		const p = await createPayment(m.sk, { payment_method_types: ["solana"] });
		await expectApiError(
			await send(e, "POST", `/v1/payments/${p.id}/quote`, m.sk, { token: "NOACCT" }),
			"service_unavailable",
		);
		const usdc = await send(e, "POST", `/v1/payments/${p.id}/quote`, m.sk, { token: "USDC" });
		expect(usdc.status).toBe(200);
		expect(await usdc.json()).toMatchObject({ solana: { token: "USDC", mint: USDC_MINT } });
	});

	it("reads a missing account again after 10 s, and keeps one that exists without reading it again", async () => {
		// A wallet of its own, so the test creates the account itself.
		const wallet = (await generateKeyPairSigner()).address;
		const e = { ...env, SOLANA_SETTLEMENT_WALLET: wallet };
		const usdc = resolveToken(e, "USDC");
		const reads = countAccountReads();
		const t0 = 1_000_000;

		await expect(assertSettlementAccountExists(e, usdc, t0)).rejects.toThrow(
			"no USDC token account yet",
		);
		await createTokenAccount(wallet, USDC_MINT, TOKEN_PROGRAM);
		// Still the cached answer.
		await expect(assertSettlementAccountExists(e, usdc, t0 + MISSING_TTL_MS - 1)).rejects.toThrow();
		expect(reads()).toBe(1);
		await assertSettlementAccountExists(e, usdc, t0 + MISSING_TTL_MS);
		expect(reads()).toBe(2);
		// An account that exists stays known: only its owner, the gateway, could close it.
		await assertSettlementAccountExists(e, usdc, t0 + 3_600_000);
		expect(reads()).toBe(2);
	});

	it("asks nothing of the chain for SOL, which needs no account of its own", async () => {
		const wallet = (await generateKeyPairSigner()).address;
		const e = { ...env, SOLANA_SETTLEMENT_WALLET: wallet };
		const reads = countAccountReads();
		await assertSettlementAccountExists(e, resolveToken(e, "SOL"));
		expect(reads()).toBe(0);
	});

	it("quotes anyway, and logs, when the Solana RPC cannot be reached", async () => {
		const { env: e } = await envWithUnsetupToken({ SOLANA_RPC_URLS: "http://127.0.0.1:9" });
		const warned = vi.spyOn(console, "warn").mockImplementation(() => undefined);
		await assertSettlementAccountExists(e, resolveToken(e, "NOACCT"));
		const lines = warned.mock.calls.map((c) => JSON.parse(String(c[0])) as Record<string, unknown>);
		expect(lines).toContainEqual(
			expect.objectContaining({
				level: "warn",
				message: "settlement account not checked: the Solana RPC could not be read",
				token: "NOACCT",
			}),
		);
	});
});

describe("settlement account statuses (/health)", () => {
	it("reads every account in one call, then answers from the cache for a minute", async () => {
		await rpc("requestAirdrop", [env.SOLANA_SETTLEMENT_WALLET, 1_000_000_000]);
		await createTokenAccount(env.SOLANA_SETTLEMENT_WALLET, USDC_MINT, TOKEN_PROGRAM);
		await createTokenAccount(env.SOLANA_SETTLEMENT_WALLET, PYUSD_MINT, TOKEN_2022_PROGRAM);
		const { env: e, mint } = await envWithUnsetupToken();
		const reads = countAccountReads();
		const t0 = 5_000_000;
		const first = await settlementAccountStatuses(e, t0);
		expect(first.map((a) => [a.token.symbol, a.currency])).toEqual([
			["SOL", "sol"],
			["USDC", USDC_MINT],
			["PYUSD", PYUSD_MINT],
			["NOACCT", mint],
		]);
		expect(first.map((a) => a.exists)).toEqual([true, true, true, false]);
		expect(reads()).toBe(1);

		// The missing one is read again after 10 s; the others after a minute.
		await settlementAccountStatuses(e, t0 + MISSING_TTL_MS - 1);
		expect(reads()).toBe(1);
		await settlementAccountStatuses(e, t0 + MISSING_TTL_MS);
		expect(reads()).toBe(2);
		await settlementAccountStatuses(e, t0 + 60_000);
		expect(reads()).toBe(3);
	});

	it("says unknown (null), not missing, when the Solana RPC cannot be reached", async () => {
		const { env: e } = await envWithUnsetupToken({ SOLANA_RPC_URLS: "http://127.0.0.1:9" });
		vi.spyOn(console, "warn").mockImplementation(() => undefined);
		const statuses = await settlementAccountStatuses(e);
		expect(statuses.map((a) => a.exists)).toEqual([null, null, null, null]);
	});
});
