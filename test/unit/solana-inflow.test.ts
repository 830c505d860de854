import { describe, expect, it } from "vitest";
import { inflowOf, type WatchedAccount } from "../../src/domain/solana-inflow";
import type { ParsedTransaction, TokenBalance } from "../../src/domain/solana-match";

const PAYER = "Payer111111111111111111111111111111111111111";
const WALLET = "Sett1emen111111111111111111111111111111111111";
const REF = "Ref1111111111111111111111111111111111111111111";
const USDC = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v";
const FAKE = "FakeUSDC11111111111111111111111111111111111";
const ATA = "Ata11111111111111111111111111111111111111111";
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

const sol: WatchedAccount = { address: WALLET, currency: "sol", mint: null, owner: WALLET };
const usdc: WatchedAccount = { address: ATA, currency: USDC, mint: USDC, owner: WALLET };
const tokenKeys = [PAYER, "PayerAta1111111111111111111111111111111111111", ATA, REF];
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

describe("a SOL inflow into the settlement wallet", () => {
	it("is the wallet's balance change, whatever other instructions ran, with every key and memo", () => {
		expect(inflowOf(tx({ memo: "pay_1" }), sol)).toEqual({
			id: "Sig1:sol",
			signature: "Sig1",
			currency: "sol",
			account: WALLET,
			amount: 166_666_667n,
			sender: PAYER,
			slot: 10,
			blockTime: 1_795_000_000,
			keys: [PAYER, WALLET, REF, "11111111111111111111111111111111"],
			memos: ["pay_1"],
		});
	});

	it("reads u64 balances past 2^53 exactly", () => {
		const big = 2n ** 53n + 3n;
		const t = tx({});
		(t.meta as { preBalances: (number | bigint)[] }).preBalances = [big * 2n, 0n, 0, 1];
		(t.meta as { postBalances: (number | bigint)[] }).postBalances = [big - 5000n, big, 0, 1];
		expect(inflowOf(t, sol)?.amount).toBe(big);
	});

	it("is nothing for a failed transaction, an outflow, or a transaction that does not touch the wallet", () => {
		expect(inflowOf(tx({ err: { InstructionError: [1, "Custom"] } }), sol)).toBeNull();
		expect(inflowOf(tx({ pre: [0, 10_000, 0, 1], post: [5_000, 0, 0, 1] }), sol)).toBeNull();
		expect(
			inflowOf(tx({ keys: [PAYER, "Else1111111111111111111111111111111111111111", REF] }), sol),
		).toBeNull();
	});
});

describe("a token inflow into the settlement wallet's associated account", () => {
	it("is the account's balance change of the mint, as bigint, sent by the owner whose balance fell", () => {
		const inflow = inflowOf(
			tx({
				keys: tokenKeys,
				pre: [1, 1, 1, 1],
				post: [1, 1, 1, 1],
				preTokens: [tokenBalance(1, PAYER, USDC, "30000000"), tokenBalance(2, WALLET, USDC, "1")],
				postTokens: [
					tokenBalance(1, PAYER, USDC, "5000000"),
					tokenBalance(2, WALLET, USDC, "25000001"),
				],
			}),
			usdc,
		);
		expect(inflow).toMatchObject({ id: `Sig1:${USDC}`, amount: 25_000_000n, sender: PAYER });
	});

	it("counts an account created in the same transaction from zero", () => {
		const inflow = inflowOf(
			tx({
				keys: tokenKeys,
				preTokens: [tokenBalance(1, PAYER, USDC, "30000000")],
				postTokens: [
					tokenBalance(1, PAYER, USDC, "5000000"),
					tokenBalance(2, WALLET, USDC, "25000000"),
				],
			}),
			usdc,
		);
		expect(inflow?.amount).toBe(25_000_000n);
	});

	it("is nothing when another account of the wallet or another mint's account received the tokens", () => {
		const elsewhere = tx({
			keys: [...tokenKeys, "Other111111111111111111111111111111111111111"],
			preTokens: [tokenBalance(1, PAYER, FAKE, "30000000")],
			postTokens: [
				tokenBalance(1, PAYER, FAKE, "5000000"),
				tokenBalance(4, WALLET, FAKE, "25000000"),
			],
		});
		expect(inflowOf(elsewhere, usdc)).toBeNull();
	});
});
