/**
 * The parts of a transaction, as RPC returns it with `encoding: "jsonParsed"`, that the gateway
 * reads: account keys, pre/post balances (u64: a number, or a bigint past 2^53) and token
 * balances, and memos. Pure types and readers; solana-inflow.ts turns them into inflows.
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

/** What `owner` holds of `mint` across the balances listed (all its token accounts). */
export function tokenTotal(
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
