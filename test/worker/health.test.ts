import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { address, generateKeyPairSigner } from "@solana/kit";
import {
	findAssociatedTokenPda,
	getCreateAssociatedTokenIdempotentInstruction,
} from "@solana-program/token";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
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

interface HealthBody {
	status: "ok" | "degraded";
	environment: string;
	settlement_accounts: {
		token: string;
		currency: string;
		address: string;
		exists: boolean | null;
	}[];
	problems: string[];
}

/** D1 that fails every call, and counts the attempts. */
function unreachableDb(): { db: D1Database; calls: () => number } {
	let calls = 0;
	const db = new Proxy(env.DB, {
		get() {
			return () => {
				calls++;
				throw new Error("D1_ERROR: network connection lost");
			};
		},
	});
	return { db, calls: () => calls };
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

async function get(path: string, overrides: Partial<typeof env> = {}): Promise<Response> {
	const ctx = createExecutionContext();
	const res = await worker.fetch(
		new Request(`http://gateway.test${path}`),
		{ ...env, ...overrides },
		ctx,
	);
	await waitOnExecutionContext(ctx);
	return res;
}

describe("health probes", () => {
	it("GET /health/live answers 200 {status: ok} without touching D1, even when D1 is down", async () => {
		const { db, calls } = unreachableDb();
		const res = await get("/health/live", { DB: db });
		expect(res.status).toBe(200);
		expect(await res.json()).toEqual({ status: "ok" });
		expect(calls()).toBe(0);
	});

	it("GET /health reads D1 and answers 503 degraded when it cannot", async () => {
		const { db, calls } = unreachableDb();
		const res = await get("/health", { DB: db });
		expect(res.status).toBe(503);
		const body = (await res.json()) as HealthBody;
		expect(body).toMatchObject({ status: "degraded", environment: "test" });
		expect(body.problems).toContain("D1 is unreachable.");
		expect(calls()).toBe(1);
	});

	it("GET /health lists the settlement wallet and its token accounts, and answers 200 when each exists", async () => {
		// The wallet exists once it holds SOL; its token accounts once created (idempotently here).
		await rpc("requestAirdrop", [env.SOLANA_SETTLEMENT_WALLET, 1_000_000_000]);
		await createTokenAccount(env.SOLANA_SETTLEMENT_WALLET, USDC_MINT, TOKEN_PROGRAM);
		await createTokenAccount(env.SOLANA_SETTLEMENT_WALLET, PYUSD_MINT, TOKEN_2022_PROGRAM);
		const res = await get("/health");
		const body = (await res.json()) as HealthBody;
		expect(body).toEqual({
			status: "ok",
			environment: "test",
			settlement_accounts: [
				{ token: "SOL", currency: "sol", address: env.SOLANA_SETTLEMENT_WALLET, exists: true },
				{ token: "USDC", currency: USDC_MINT, address: expect.any(String), exists: true },
				{ token: "PYUSD", currency: PYUSD_MINT, address: expect.any(String), exists: true },
			],
			// No treasury check has run yet (test/worker/treasury.test.ts covers them).
			treasury: [],
			problems: [],
		});
		expect(res.status).toBe(200);
	});

	it("GET /health answers 503 and names a settlement token account missing on chain", async () => {
		await rpc("requestAirdrop", [env.SOLANA_SETTLEMENT_WALLET, 1_000_000_000]);
		await advanceSlots(2);
		const mint = (await generateKeyPairSigner()).address;
		const extra = JSON.parse(env.SOLANA_EXTRA_TOKENS ?? "[]") as unknown[];
		const res = await get("/health", {
			SOLANA_EXTRA_TOKENS: JSON.stringify([
				...extra,
				{ symbol: "NOACCT", mint, decimals: 6, program: TOKEN_PROGRAM, usd_feed_id: "00" },
			]),
		});
		expect(res.status).toBe(503);
		const body = (await res.json()) as HealthBody;
		const missing = body.settlement_accounts.find((a) => a.token === "NOACCT");
		expect(missing).toMatchObject({ currency: mint, exists: false });
		expect(body.problems).toEqual([
			`The settlement wallet has no NOACCT token account (${missing?.address}, mint ${mint}): run \`npm run solana:setup\`; NOACCT is not quoted until then.`,
		]);
	});

	it("GET /health reports accounts as unknown, not missing, when the Solana RPC cannot be reached", async () => {
		const res = await get("/health", { SOLANA_RPC_URLS: "http://127.0.0.1:9" });
		const body = (await res.json()) as HealthBody;
		expect(body.settlement_accounts.map((a) => a.exists)).toEqual([null, null, null]);
		expect(body.status).toBe("ok");
		expect(res.status).toBe(200);
	});

	it("lists both probes in the OpenAPI document", async () => {
		const res = await get("/v1/openapi.json");
		const doc = (await res.json()) as { paths: Record<string, unknown> };
		expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/health", "/health/live"]));
	});
});
