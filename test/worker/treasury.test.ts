import {
	createExecutionContext,
	createScheduledController,
	waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { type Address, address, generateKeyPairSigner, type KeyPairSigner } from "@solana/kit";
import { getCreateAccountInstruction } from "@solana-program/system";
import {
	findAssociatedTokenPda,
	getCreateAssociatedTokenIdempotentInstruction,
	getInitializeAccount3Instruction,
	getInitializeMint2Instruction,
	getMintToInstruction,
} from "@solana-program/token";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ScanSummary } from "../../durable-objects/settlement-watcher";
import { latestTreasuryChecks, recordTreasuryChecks } from "../../src/db/treasury";
import type { Env } from "../../src/env";
import worker from "../../src/index";
import type { TreasuryJson } from "../../src/routes/admin/treasury";
import { checkTreasury } from "../../src/services/treasury";
import { ADMIN_TOKEN, expectApiError } from "./helpers/api";
import {
	advanceSlots,
	fundedPayer,
	rpc,
	sendInstructions,
	sendTransfer,
	TOKEN_PROGRAM,
} from "./helpers/solana";

// The treasury check proves the ledger against the chain. A scripted watcher (the
// SETTLEMENT_WATCHERS binding replaced) books nothing, so the chain's balance is the difference;
// the real watcher books what the account held when it began and every inflow after, so the
// difference is zero. Each test checks at a later `now` than the one before, so its checks are
// the latest.

const USDC_FEED = "eaa020c61cc479712813461ce153894a96a6c00b21ed0cfc2798d1f9a9e9c94a";
let clock = 2_000_000_000;
const tick = () => (clock += 60);

afterEach(() => {
	vi.restoreAllMocks();
});

async function get(path: string, e: Env, token: string | null = ADMIN_TOKEN) {
	const ctx = createExecutionContext();
	const res = await worker.fetch(
		new Request(`http://gateway.test${path}`, {
			headers: token ? { Authorization: `Bearer ${token}` } : {},
		}),
		e,
		ctx,
	);
	await waitOnExecutionContext(ctx);
	return res;
}

/** A watcher binding whose scans answer from a script per currency (the last answer repeats). */
function scriptedWatchers(script: Record<string, Partial<ScanSummary>[]>) {
	const scans = new Map<string, number>();
	const namespace = {
		idFromName: (name: string) => name,
		get: (currency: string) => ({
			scan: async (): Promise<ScanSummary> => {
				const n = scans.get(currency) ?? 0;
				scans.set(currency, n + 1);
				const answers = script[currency] ?? [{}];
				const answer = answers[Math.min(n, answers.length - 1)];
				return { caughtUp: true, processed: 0, slot: 0, ...answer };
			},
		}),
	};
	return {
		binding: namespace as unknown as typeof env.SETTLEMENT_WATCHERS,
		scans: (currency: string) => scans.get(currency) ?? 0,
	};
}

/** A new mint (6 decimals) whose authority is `payer`: no ledger has ever seen it. */
async function createMint(payer: KeyPairSigner): Promise<Address> {
	const mint = await generateKeyPairSigner();
	const lamports = await rpc<number>("getMinimumBalanceForRentExemption", [82]);
	await sendInstructions(payer, [
		getCreateAccountInstruction({
			payer,
			newAccount: mint,
			lamports,
			space: 82,
			programAddress: address(TOKEN_PROGRAM),
		}),
		getInitializeMint2Instruction({
			mint: mint.address,
			decimals: 6,
			mintAuthority: payer.address,
		}),
	]);
	await advanceSlots(2);
	return mint.address;
}

/** Mints into `owner`'s associated token account, and into a second, non-associated one. */
async function fundTokenAccounts(
	payer: KeyPairSigner,
	mint: Address,
	owner: Address,
	associated: bigint,
	other: bigint,
): Promise<Address> {
	const [ata] = await findAssociatedTokenPda({
		owner,
		mint,
		tokenProgram: address(TOKEN_PROGRAM),
	});
	const account = await generateKeyPairSigner();
	const lamports = await rpc<number>("getMinimumBalanceForRentExemption", [165]);
	await sendInstructions(payer, [
		getCreateAssociatedTokenIdempotentInstruction({ payer, ata, owner, mint }),
		getCreateAccountInstruction({
			payer,
			newAccount: account,
			lamports,
			space: 165,
			programAddress: address(TOKEN_PROGRAM),
		}),
		getInitializeAccount3Instruction({ account: account.address, mint, owner }),
		getMintToInstruction({ mint, token: ata, mintAuthority: payer, amount: associated }),
		getMintToInstruction({ mint, token: account.address, mintAuthority: payer, amount: other }),
	]);
	await advanceSlots(2);
	return ata;
}

/**
 * A settlement wallet of its own holding 3 SOL, and a token of its own ("NEW", a fresh mint) with
 * 5 in the wallet's associated token account and 2 in another token account the wallet owns.
 */
async function walletWithNewToken(script: Record<string, Partial<ScanSummary>[]> = {}) {
	const payer = await fundedPayer();
	const wallet = (await generateKeyPairSigner()).address;
	await rpc("requestAirdrop", [wallet, 3_000_000_000]);
	const mint = await createMint(payer);
	const ata = await fundTokenAccounts(payer, mint, wallet, 5_000_000n, 2_000_000n);
	const watchers = scriptedWatchers(script);
	const e = {
		...env,
		SOLANA_SETTLEMENT_WALLET: wallet,
		SOLANA_EXTRA_TOKENS: JSON.stringify([
			{ symbol: "NEW", mint, decimals: 6, program: TOKEN_PROGRAM, usd_feed_id: USDC_FEED },
		]),
		SETTLEMENT_WATCHERS: watchers.binding,
	};
	return { env: e, wallet, mint, ata, scans: watchers.scans };
}

describe("GET /admin/v1/treasury: access", () => {
	it("needs the admin token (401), and does not exist without ADMIN_TOKEN (404)", async () => {
		await expectApiError(await get("/admin/v1/treasury", env, null), "api_key_missing");
		await expectApiError(
			await get("/admin/v1/treasury", env, "sk_test_notthetoken"),
			"api_key_invalid",
		);
		await expectApiError(
			await get("/admin/v1/treasury", { ...env, ADMIN_TOKEN: undefined }),
			"route_not_found",
		);
	});
});

describe("treasury check", () => {
	it("finds the chain's balance as the difference when the watcher books nothing, counting every token account the wallet owns", async () => {
		const t = await walletWithNewToken();
		const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
		const now = tick();
		const checks = await checkTreasury(t.env, now);
		expect(checks.map((c) => c.currency)).toEqual([
			"sol",
			"EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v",
			t.mint,
		]);
		const fresh = checks.find((c) => c.currency === t.mint);
		expect(fresh).toEqual({
			currency: t.mint,
			address: t.ata,
			chainBalance: 7_000_000n,
			// The 2 in the non-associated account are booked by the check itself (held for their
			// sender); the 5 the scripted watcher never books are the difference.
			ledgerBalance: -2_000_000n,
			difference: 5_000_000n,
			caughtUp: true,
			slot: expect.any(Number),
			checkedAt: now,
		});
		expect(checks.find((c) => c.currency === "sol")?.chainBalance).toBe(3_000_000_000n);
		expect(await latestTreasuryChecks(env.DB, [t.mint])).toEqual([fresh]);
		const logged = errors.mock.calls.map(
			(c) => JSON.parse(String(c[0])) as Record<string, unknown>,
		);
		expect(logged).toContainEqual({
			level: "error",
			message: "treasury difference",
			currency: t.mint,
			address: t.ata,
			chain_balance: "7000000",
			ledger_balance: "-2000000",
			difference: "5000000",
			slot: fresh?.slot,
		});
	});

	it("reads the chain again while the watcher is still booking, and records a check it could not settle as not caught up", async () => {
		const booking = await walletWithNewToken();
		const settles = await walletWithNewToken();
		const settling = scriptedWatchers({ [settles.mint]: [{}, { processed: 2 }, {}] });
		const busy = scriptedWatchers({ [booking.mint]: [{}, { processed: 1 }] });
		const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);

		const settled = await checkTreasury(
			{ ...settles.env, SETTLEMENT_WATCHERS: settling.binding },
			tick(),
		);
		// One scan before, one after each of two chain reads.
		expect(settling.scans(settles.mint)).toBe(3);
		expect(settled.find((c) => c.currency === settles.mint)?.caughtUp).toBe(true);

		const unsettled = await checkTreasury(
			{ ...booking.env, SETTLEMENT_WATCHERS: busy.binding },
			tick(),
		);
		expect(busy.scans(booking.mint)).toBe(4);
		expect(unsettled.find((c) => c.currency === booking.mint)).toMatchObject({
			caughtUp: false,
			difference: 5_000_000n,
		});
		// A difference on a check that is not caught up proves nothing: no error for it.
		const logged = errors.mock.calls.map((c) => JSON.parse(String(c[0])) as { currency?: string });
		expect(logged.filter((l) => l.currency === booking.mint)).toEqual([]);
	});

	it("leaves an account whose watcher cannot scan to the next run, and checks the others", async () => {
		const t = await walletWithNewToken();
		const failing = scriptedWatchers({
			[t.mint]: [{ caughtUp: false, error: "getSignaturesForAddress: 127.0.0.1 timed out" }],
		});
		const warned = vi.spyOn(console, "warn").mockImplementation(() => undefined);
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		const checks = await checkTreasury({ ...t.env, SETTLEMENT_WATCHERS: failing.binding }, tick());
		expect(checks.map((c) => c.currency)).not.toContain(t.mint);
		expect(checks).toHaveLength(2);
		expect(await latestTreasuryChecks(env.DB, [t.mint])).toEqual([]);
		const logged = warned.mock.calls.map(
			(c) => JSON.parse(String(c[0])) as Record<string, unknown>,
		);
		expect(logged).toContainEqual(
			expect.objectContaining({
				message: "treasury check failed; the next run retries",
				currency: t.mint,
				error: "the watcher could not scan: getSignaturesForAddress: 127.0.0.1 timed out",
			}),
		);
	});

	it("with the real watcher the ledger agrees with the chain: the opening balance is the float, an unknown inflow is unattributed", async () => {
		await rpc("requestAirdrop", [env.SOLANA_SETTLEMENT_WALLET, 2_000_000_000]);
		await advanceSlots(2);
		const first = await checkTreasury(env, tick());
		expect(first).toHaveLength(3);
		for (const check of first) expect(check).toMatchObject({ difference: 0n, caughtUp: true });

		await sendTransfer({
			payer: await fundedPayer(),
			recipient: env.SOLANA_SETTLEMENT_WALLET,
			amount: 250_000_000n,
		});
		await advanceSlots(2);
		const now = tick();
		const second = await checkTreasury(env, now);
		const sol = second.find((c) => c.currency === "sol");
		expect(sol).toMatchObject({ difference: 0n, caughtUp: true, checkedAt: now });

		const res = await get("/admin/v1/treasury", env);
		expect(res.status).toBe(200);
		const body = (await res.json()) as TreasuryJson;
		expect(body.object).toBe("treasury");
		expect(body.chain_livemode).toBe(false);
		const view = body.data.find((d) => d.currency === "sol");
		expect(view).toMatchObject({
			token: "SOL",
			address: env.SOLANA_SETTLEMENT_WALLET,
			chain_balance: sol?.chainBalance.toString(),
			ledger_balance: sol?.ledgerBalance.toString(),
			difference: "0",
			caught_up: true,
			checked_at: now,
		});
		const [test, live] = view?.modes ?? [];
		expect(live).toEqual({
			livemode: true,
			settlement: "0",
			unattributed: "0",
			held: "0",
			owed_to_merchants: "0",
			fees: "0",
			float: "0",
		});
		expect(test?.livemode).toBe(false);
		// At least the transfer above (others' tests may pay the same wallet meanwhile).
		expect(BigInt(test?.unattributed ?? "0")).toBeGreaterThanOrEqual(250_000_000n);
		expect(BigInt(test?.float ?? "0")).toBeGreaterThanOrEqual(2_000_000_000n);
		// Everything the settlement account holds belongs to someone.
		expect(
			BigInt(test?.settlement ?? "0") +
				BigInt(test?.unattributed ?? "0") +
				BigInt(test?.float ?? "0") +
				BigInt(test?.held ?? "0") +
				BigInt(test?.owed_to_merchants ?? "0") +
				BigInt(test?.fees ?? "0"),
		).toBe(0n);
	});

	it("runs from the minute cron", async () => {
		const scheduledTime = tick() * 1000;
		const ctx = createExecutionContext();
		await worker.scheduled(
			createScheduledController({ cron: "* * * * *", scheduledTime }),
			env,
			ctx,
		);
		await waitOnExecutionContext(ctx);
		const checks = await latestTreasuryChecks(env.DB, ["sol"]);
		expect(checks[0]?.checkedAt).toBe(scheduledTime / 1000);
	});
});

describe("GET /admin/v1/treasury", () => {
	it("lists every settlement account, with nulls before its first check and zeros for an empty ledger", async () => {
		const t = await walletWithNewToken();
		const res = await get("/admin/v1/treasury", t.env);
		expect(res.status).toBe(200);
		const body = (await res.json()) as TreasuryJson;
		expect(body.data.map((d) => d.token)).toEqual(["SOL", "USDC", "NEW"]);
		const zeros = {
			settlement: "0",
			unattributed: "0",
			held: "0",
			owed_to_merchants: "0",
			fees: "0",
			float: "0",
		};
		expect(body.data.find((d) => d.token === "NEW")).toEqual({
			currency: t.mint,
			token: "NEW",
			address: t.ata,
			chain_balance: null,
			ledger_balance: null,
			difference: null,
			caught_up: null,
			slot: null,
			checked_at: null,
			modes: [
				{ livemode: false, ...zeros },
				{ livemode: true, ...zeros },
			],
		});
	});
});

describe("/health and the treasury", () => {
	it("answers 503 with the currency and the difference of the latest caught-up check", async () => {
		const t = await walletWithNewToken();
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		const now = tick();
		await checkTreasury(t.env, now);
		const res = await get("/health", t.env, null);
		expect(res.status).toBe(503);
		const body = (await res.json()) as {
			status: string;
			treasury: { token: string; currency: string; difference: string }[];
			problems: string[];
		};
		expect(body.status).toBe("degraded");
		expect(body.treasury).toContainEqual({
			token: "NEW",
			currency: t.mint,
			difference: "5000000",
			caught_up: true,
			checked_at: now,
		});
		expect(body.problems).toContain(
			`The ledger and the chain disagree on NEW (${t.mint}): difference 5000000 base units (chain balance + ledger balance) at the check of ${new Date(now * 1000).toISOString()}; see GET /admin/v1/treasury.`,
		);
	});

	it("does not count a difference the watcher was still booking through", async () => {
		const t = await walletWithNewToken();
		const now = tick();
		await recordTreasuryChecks(
			env.DB,
			[
				{
					currency: t.mint,
					address: t.ata,
					chainBalance: 7_000_000n,
					ledgerBalance: 0n,
					difference: 7_000_000n,
					caughtUp: false,
					slot: 1,
					checkedAt: now,
				},
			],
			now - 86_400,
		);
		const body = (await (await get("/health", t.env, null)).json()) as {
			treasury: { currency: string; caught_up: boolean }[];
			problems: string[];
		};
		expect(body.treasury).toContainEqual(
			expect.objectContaining({ currency: t.mint, caught_up: false }),
		);
		expect(body.problems.filter((p) => p.includes(t.mint) && p.includes("disagree"))).toEqual([]);
	});
});
