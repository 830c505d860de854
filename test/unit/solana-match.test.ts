import { describe, expect, it } from "vitest";
import {
	matchPayment,
	type ParsedTransaction,
	type TokenBalance,
} from "../../src/domain/solana-match";

const PAYER = "Payer111111111111111111111111111111111111111";
const WALLET = "Sett1emen111111111111111111111111111111111111";
const REF = "Ref1111111111111111111111111111111111111111111";
const USDC = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v";
const FAKE = "FakeUSDC11111111111111111111111111111111111";
const MEMO_PROGRAM = "MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr";

function tx(overrides: {
	keys?: string[];
	pre?: number[];
	post?: number[];
	preTokens?: TokenBalance[];
	postTokens?: TokenBalance[];
	err?: unknown;
	memo?: string;
}): ParsedTransaction {
	const keys = overrides.keys ?? [PAYER, WALLET, REF, "11111111111111111111111111111111"];
	const instructions = [
		{ programId: "ComputeBudget111111111111111111111111111111", parsed: undefined },
		{
			program: "system",
			programId: "11111111111111111111111111111111",
			parsed: { type: "transfer" },
		},
	];
	if (overrides.memo !== undefined) {
		instructions.push({
			program: "spl-memo",
			programId: MEMO_PROGRAM,
			parsed: overrides.memo as never,
		});
	}
	return {
		slot: 10,
		blockTime: 1_795_000_000,
		meta: {
			err: overrides.err ?? null,
			fee: 5000,
			preBalances: overrides.pre ?? [2_000_000_000, 0, 0, 1],
			postBalances: overrides.post ?? [1_833_328_333, 166_666_667, 0, 1],
			preTokenBalances: overrides.preTokens ?? [],
			postTokenBalances: overrides.postTokens ?? [],
		},
		transaction: {
			signatures: ["Sig1"],
			message: {
				accountKeys: keys.map((pubkey, i) => ({ pubkey, signer: i === 0, writable: i < 2 })),
				instructions,
			},
		},
	};
}

const sol = { recipient: WALLET, mint: null, references: [REF], memo: null };
const tokenBalance = (
	accountIndex: number,
	owner: string,
	mint: string,
	amount: string,
): TokenBalance => ({
	accountIndex,
	mint,
	owner,
	programId: "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA",
	uiTokenAmount: { amount, decimals: 6 },
});

describe("matching a SOL payment", () => {
	it("reads the amount from the settlement wallet's balance change, tolerating extra instructions", () => {
		expect(matchPayment(tx({}), sol)).toEqual({
			ok: true,
			signature: "Sig1",
			amount: 166_666_667n,
			payer: PAYER,
			slot: 10,
			blockTime: 1_795_000_000,
		});
	});

	it("rejects a failed transaction", () => {
		expect(matchPayment(tx({ err: { InstructionError: [1, "Custom"] } }), sol)).toMatchObject({
			ok: false,
			reason: "transaction_failed",
		});
	});

	it("rejects a transaction without the reference key", () => {
		const result = matchPayment(
			tx({ keys: [PAYER, WALLET, "Other111111111111111111111111111111111111111"] }),
			sol,
		);
		expect(result).toMatchObject({ ok: false, reason: "reference_missing" });
	});

	it("rejects money sent elsewhere", () => {
		const result = matchPayment(
			tx({ keys: [PAYER, "Else1111111111111111111111111111111111111111", REF] }),
			sol,
		);
		expect(result).toMatchObject({ ok: false, reason: "wrong_recipient" });
	});

	it("requires the memo when one was set", () => {
		expect(matchPayment(tx({}), { ...sol, memo: "pay_1" })).toMatchObject({
			reason: "memo_mismatch",
		});
		expect(matchPayment(tx({ memo: "pay_1" }), { ...sol, memo: "pay_1" })).toMatchObject({
			ok: true,
		});
	});
});

describe("matching a token payment", () => {
	const usdc = { recipient: WALLET, mint: USDC, references: [REF], memo: null };

	it("sums the settlement wallet's token balance change of the quoted mint, as bigint", () => {
		const result = matchPayment(
			tx({
				pre: [1, 1, 0, 1],
				post: [1, 1, 0, 1],
				preTokens: [tokenBalance(4, PAYER, USDC, "30000000"), tokenBalance(5, WALLET, USDC, "1")],
				postTokens: [
					tokenBalance(4, PAYER, USDC, "5000000"),
					tokenBalance(5, WALLET, USDC, "25000001"),
				],
			}),
			usdc,
		);
		expect(result).toMatchObject({ ok: true, amount: 25_000_000n, payer: PAYER });
	});

	it("counts a newly created associated token account from zero", () => {
		const result = matchPayment(
			tx({
				preTokens: [tokenBalance(4, PAYER, USDC, "30000000")],
				postTokens: [
					tokenBalance(4, PAYER, USDC, "5000000"),
					tokenBalance(5, WALLET, USDC, "25000000"),
				],
			}),
			usdc,
		);
		expect(result).toMatchObject({ ok: true, amount: 25_000_000n });
	});

	it("rejects a look-alike mint", () => {
		const result = matchPayment(
			tx({
				preTokens: [tokenBalance(4, PAYER, FAKE, "30000000")],
				postTokens: [
					tokenBalance(4, PAYER, FAKE, "5000000"),
					tokenBalance(5, WALLET, FAKE, "25000000"),
				],
			}),
			usdc,
		);
		expect(result).toMatchObject({ ok: false, reason: "wrong_mint" });
	});

	it("rejects tokens sent to another owner", () => {
		const result = matchPayment(
			tx({
				preTokens: [tokenBalance(4, PAYER, USDC, "30000000")],
				postTokens: [
					tokenBalance(4, PAYER, USDC, "5000000"),
					tokenBalance(5, "Else", USDC, "25000000"),
				],
			}),
			usdc,
		);
		expect(result).toMatchObject({ ok: false, reason: "wrong_recipient" });
	});
});
