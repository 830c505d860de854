/**
 * Decides whether a transaction found on chain pays a payment, from the transaction as RPC
 * returns it with `encoding: "jsonParsed"`. Pure: the PaymentObject fetches, this judges.
 * Amounts come from pre/post balances as bigint, so extra instructions a wallet adds (compute
 * budget, priority fees) change nothing, and only the money that really moved counts.
 */

export interface ParsedAccountKey {
	pubkey: string;
	signer: boolean;
	writable: boolean;
}

export interface TokenBalance {
	accountIndex: number;
	mint: string;
	owner?: string;
	programId?: string;
	uiTokenAmount: { amount: string; decimals: number };
}

export interface ParsedInstruction {
	program?: string;
	programId: string;
	parsed?: unknown;
}

/** The subset of a jsonParsed `getTransaction` result this module reads. */
export interface ParsedTransaction {
	slot: number;
	blockTime: number | null;
	meta: {
		err: unknown;
		/** u64 lamports: a bigint past 2^53 (as the RPC client reads them), a number below. */
		fee: number | bigint;
		preBalances: (number | bigint)[];
		postBalances: (number | bigint)[];
		preTokenBalances?: TokenBalance[] | null;
		postTokenBalances?: TokenBalance[] | null;
	} | null;
	transaction: {
		signatures: string[];
		message: { accountKeys: ParsedAccountKey[]; instructions: ParsedInstruction[] };
	};
}

export interface PaymentExpectation {
	/** The settlement wallet: the owner that must receive the funds. */
	recipient: string;
	/** The token's mint, or null for native SOL. */
	mint: string | null;
	references: string[];
	memo: string | null;
}

export type MatchRejection =
	| "transaction_failed"
	| "reference_missing"
	| "memo_mismatch"
	| "wrong_mint"
	| "wrong_recipient";

export type MatchResult =
	| {
			ok: true;
			signature: string;
			amount: bigint;
			payer: string;
			slot: number;
			blockTime: number | null;
	  }
	| { ok: false; signature: string; reason: MatchRejection; detail: string };

/** SPL Memo v3, v1 and v4: wallets use any of them. */
const MEMO_PROGRAMS = new Set([
	"MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr",
	"Memo1UhkJRfHyvLMcVucJwxXeuD728EqVDDwQDxFMNo",
	"Memo4c2pN8afCj432Lb7RMVKi9PbQnnW7ewFFaV3oAH",
]);

export function memosOf(tx: ParsedTransaction): string[] {
	return tx.transaction.message.instructions
		.filter((ix) => MEMO_PROGRAMS.has(ix.programId) || ix.program === "spl-memo")
		.map((ix) => (typeof ix.parsed === "string" ? ix.parsed : ""));
}

function tokenTotal(
	balances: TokenBalance[] | null | undefined,
	owner: string,
	mint: string,
): bigint {
	let total = 0n;
	for (const b of balances ?? []) {
		if (b.owner === owner && b.mint === mint) total += BigInt(b.uiTokenAmount.amount);
	}
	return total;
}

export function matchPayment(tx: ParsedTransaction, expected: PaymentExpectation): MatchResult {
	const signature = tx.transaction.signatures[0] ?? "";
	const reject = (reason: MatchRejection, detail: string): MatchResult => ({
		ok: false,
		signature,
		reason,
		detail,
	});
	const keys = tx.transaction.message.accountKeys.map((k) => k.pubkey);
	const payer = keys[0] ?? "";
	if (!tx.meta) return reject("transaction_failed", "The transaction has no status metadata");
	if (tx.meta.err !== null && tx.meta.err !== undefined) {
		return reject("transaction_failed", `The transaction failed: ${JSON.stringify(tx.meta.err)}`);
	}
	const missing = expected.references.filter((r) => !keys.includes(r));
	if (missing.length > 0)
		return reject("reference_missing", `Reference ${missing[0]} is not in the transaction`);
	if (expected.memo !== null && !memosOf(tx).includes(expected.memo)) {
		return reject("memo_mismatch", "The transaction does not carry the payment's memo");
	}

	if (expected.mint === null) {
		const index = keys.indexOf(expected.recipient);
		const received =
			index < 0
				? 0n
				: BigInt(tx.meta.postBalances[index] ?? 0) - BigInt(tx.meta.preBalances[index] ?? 0);
		if (received <= 0n) return reject("wrong_recipient", "No SOL reached the settlement wallet");
		return { ok: true, signature, amount: received, payer, slot: tx.slot, blockTime: tx.blockTime };
	}

	const mint = expected.mint;
	const received =
		tokenTotal(tx.meta.postTokenBalances, expected.recipient, mint) -
		tokenTotal(tx.meta.preTokenBalances, expected.recipient, mint);
	if (received > 0n) {
		// The payer is the owner whose balance of this mint went down (the wallet), not a relayer.
		const source = (tx.meta.preTokenBalances ?? []).find(
			(pre) =>
				pre.mint === mint &&
				pre.owner !== undefined &&
				pre.owner !== expected.recipient &&
				tokenTotal(tx.meta?.postTokenBalances, pre.owner, mint) <
					tokenTotal(tx.meta?.preTokenBalances, pre.owner, mint),
		);
		return {
			ok: true,
			signature,
			amount: received,
			payer: source?.owner ?? payer,
			slot: tx.slot,
			blockTime: tx.blockTime,
		};
	}
	const otherMint = (tx.meta.postTokenBalances ?? []).some(
		(b) =>
			b.owner === expected.recipient &&
			b.mint !== mint &&
			tokenTotal(tx.meta?.postTokenBalances, expected.recipient, b.mint) >
				tokenTotal(tx.meta?.preTokenBalances, expected.recipient, b.mint),
	);
	if (otherMint)
		return reject("wrong_mint", "The settlement wallet received a different token than quoted");
	return reject("wrong_recipient", "No tokens of the quoted mint reached the settlement wallet");
}
