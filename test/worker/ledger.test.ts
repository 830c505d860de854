import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { balancesByPrefix, ledgerTotals, postTransfer } from "../../src/db/ledger";
import {
	LedgerError,
	type Posting,
	type Transfer,
	validateTransfer,
} from "../../src/domain/ledger";
import { call, createMerchant, createPayment, json } from "./helpers/api";
import { markSucceeded } from "./helpers/objects";

const CURRENCIES = ["usd", "jpy", "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"] as const;
const MAX = 2n ** 62n;

async function postingCount(): Promise<number> {
	return (
		(await env.DB.prepare("SELECT COUNT(*) AS n FROM ledger_postings").first<{ n: number }>())?.n ??
		0
	);
}

/** A balanced transfer over a run's own accounts: legs per currency with a balancing leg. */
function transferArb(run: number) {
	const leg = fc.record({
		account: fc.integer({ min: 0, max: 4 }),
		currency: fc.constantFrom(...CURRENCIES),
		amount: fc.bigInt({ min: 1n, max: MAX / 8n }),
		sign: fc.boolean(),
	});
	return fc.array(leg, { minLength: 1, maxLength: 4 }).map((legs) => {
		const postings: Posting[] = [];
		for (const l of legs) {
			const amount = l.sign ? l.amount : -l.amount;
			postings.push({
				account: `test:run${run}:acct${l.account}:${l.currency}`,
				currency: l.currency,
				amount,
			});
			postings.push({
				account: `test:run${run}:clearing:${l.currency}`,
				currency: l.currency,
				amount: -amount,
			});
		}
		return postings;
	});
}

type Op =
	| { kind: "post"; postings: Posting[] }
	| { kind: "replay"; pick: number }
	| { kind: "conflict"; pick: number };

let runCounter = 0;

describe("ledger", () => {
	it("balances in every currency and ignores replayed transfer ids, for any sequence of operations", async () => {
		await fc.assert(
			fc.asyncProperty(
				fc.integer({ min: 0, max: 1 }).chain(() => {
					const run = ++runCounter;
					const op: fc.Arbitrary<Op> = fc.oneof(
						{
							weight: 3,
							arbitrary: transferArb(run).map((postings) => ({ kind: "post" as const, postings })),
						},
						{ weight: 1, arbitrary: fc.nat().map((pick) => ({ kind: "replay" as const, pick })) },
						{ weight: 1, arbitrary: fc.nat().map((pick) => ({ kind: "conflict" as const, pick })) },
					);
					return fc.tuple(fc.constant(run), fc.array(op, { minLength: 1, maxLength: 12 }));
				}),
				async ([run, ops]) => {
					const posted: Transfer[] = [];
					const model = new Map<string, bigint>();
					for (const [i, op] of ops.entries()) {
						if (op.kind === "post") {
							const t: Transfer = {
								id: `tr_run${run}_${i}`,
								kind: "adjustment",
								reference: `run${run}`,
								livemode: false,
								created: 1_700_000_000 + i,
								postings: op.postings,
							};
							expect(await postTransfer(env.DB, t)).toBe("posted");
							posted.push(t);
							for (const p of t.postings)
								model.set(p.account, (model.get(p.account) ?? 0n) + p.amount);
						} else if (posted.length > 0) {
							const original = posted[op.pick % posted.length] as Transfer;
							const before = await postingCount();
							if (op.kind === "replay") {
								expect(await postTransfer(env.DB, original)).toBe("replayed");
							} else {
								const changed: Transfer = {
									...original,
									postings: original.postings.map((p) => ({ ...p, amount: p.amount * 2n })),
								};
								await expect(postTransfer(env.DB, changed)).rejects.toThrow(LedgerError);
							}
							expect(await postingCount()).toBe(before);
						}
					}
					for (const total of (await ledgerTotals(env.DB)).values()) expect(total).toBe(0n);
					const stored = await balancesByPrefix(env.DB, `test:run${run}:`);
					expect(new Map(stored.map((b) => [b.account, b.balance]))).toEqual(model);
				},
			),
			{ numRuns: 40 },
		);
	});

	it("rejects unbalanced, one-legged, zero and cross-mode transfers before touching D1", () => {
		const base = {
			id: "tr_x",
			kind: "adjustment" as const,
			reference: "x",
			livemode: false,
			created: 0,
		};
		const leg = (account: string, amount: bigint, currency = "usd") => ({
			account,
			currency,
			amount,
		});
		expect(() =>
			validateTransfer({ ...base, postings: [leg("test:a", 5n), leg("test:b", -4n)] }),
		).toThrow("unbalanced in usd by 1");
		expect(() =>
			validateTransfer({ ...base, postings: [leg("test:a", 0n), leg("test:b", 0n)] }),
		).toThrow("Zero");
		expect(() => validateTransfer({ ...base, postings: [leg("test:a", 5n)] })).toThrow(
			"at least two",
		);
		expect(() =>
			validateTransfer({ ...base, postings: [leg("live:a", 5n), leg("test:b", -5n)] }),
		).toThrow("not a test account");
		expect(() =>
			validateTransfer({
				...base,
				postings: [leg("test:a", 5n, "usd"), leg("test:b", -5n, "eur")],
			}),
		).toThrow("unbalanced");
	});

	it("keeps amounts beyond 2^53 exact", async () => {
		const big = 2n ** 62n + 12345n;
		await postTransfer(env.DB, {
			id: "tr_big",
			kind: "adjustment",
			reference: "big",
			livemode: true,
			created: 0,
			postings: [
				{ account: "live:big:a", currency: "lamports", amount: big },
				{ account: "live:big:b", currency: "lamports", amount: -big },
			],
		});
		expect(await balancesByPrefix(env.DB, "live:big:")).toEqual([
			{ account: "live:big:a", currency: "lamports", balance: big },
			{ account: "live:big:b", currency: "lamports", balance: -big },
		]);
	});

	it("refuses to update or delete postings", async () => {
		await expect(env.DB.prepare("UPDATE ledger_postings SET amount = 0").run()).rejects.toThrow(
			"immutable",
		);
		await expect(env.DB.prepare("DELETE FROM ledger_postings").run()).rejects.toThrow("immutable");
	});
});

describe("GET /v1/balances", () => {
	it("reports the merchant's available balance per currency from the ledger, per mode", async () => {
		const m = await createMerchant();
		const usd = await createPayment(m.sk, { amount: 2500 });
		const jpy = await createPayment(m.sk, { amount: 900, currency: "jpy" });
		const live = await createPayment(m.skLive, { amount: 700 });
		for (const [p, amount] of [
			[usd, 2500],
			[jpy, 900],
			[live, 700],
		] as const) {
			await markSucceeded(p.id, {
				amountReceived: amount,
				processor: "solana",
				balance: "available",
			});
		}
		const card = await createPayment(m.sk, { amount: 300 });
		await markSucceeded(card.id, {
			amountReceived: 300,
			processor: "stripe",
			balance: "pending",
		});

		const res = await call("GET", "/v1/balances", { key: m.sk });
		expect(res.status).toBe(200);
		expect(await json(res)).toEqual({
			object: "balance",
			livemode: false,
			available: [
				{ amount: 900, currency: "jpy" },
				{ amount: 2500, currency: "usd" },
			],
			pending: [{ amount: 300, currency: "usd" }],
		});
		expect(await json(await call("GET", "/v1/balances", { key: m.skLive }))).toEqual({
			object: "balance",
			livemode: true,
			available: [{ amount: 700, currency: "usd" }],
			pending: [],
		});
	});

	it("is empty for a new merchant", async () => {
		const m = await createMerchant();
		expect(await json(await call("GET", "/v1/balances", { key: m.sk }))).toEqual({
			object: "balance",
			livemode: false,
			available: [],
			pending: [],
		});
	});
});
