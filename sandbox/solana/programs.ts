// Program ids the sandbox recognises when parsing accounts and instructions.

export const SYSTEM_PROGRAM = "11111111111111111111111111111111";
export const TOKEN_PROGRAM = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA";
export const TOKEN_2022_PROGRAM = "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb";
export const ASSOCIATED_TOKEN_PROGRAM = "ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL";
export const MEMO_PROGRAM = "MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr";
export const MEMO_V1_PROGRAM = "Memo1UhkJRfHyvLMcVucJwxXeuD728EqVDDwQDxFMNo";
/** Memo v4, the default of @solana-program/memo >= 0.15; LiteSVM does not ship it. */
export const MEMO_V4_PROGRAM = "Memo4c2pN8afCj432Lb7RMVKi9PbQnnW7ewFFaV3oAH";
export const BPF_LOADER_2 = "BPFLoader2111111111111111111111111111111111";
export const COMPUTE_BUDGET_PROGRAM = "ComputeBudget111111111111111111111111111111";
export const ADDRESS_LOOKUP_TABLE_PROGRAM = "AddressLookupTab1e1111111111111111111111111";

/** Programs a sandbox chain must have loaded; checked at startup so a LiteSVM change shows. */
export const REQUIRED_PROGRAMS = [
	SYSTEM_PROGRAM,
	TOKEN_PROGRAM,
	TOKEN_2022_PROGRAM,
	ASSOCIATED_TOKEN_PROGRAM,
	MEMO_PROGRAM,
	MEMO_V1_PROGRAM,
	COMPUTE_BUDGET_PROGRAM,
] as const;

export function isTokenProgram(id: string): boolean {
	return id === TOKEN_PROGRAM || id === TOKEN_2022_PROGRAM;
}

export function isMemoProgram(id: string): boolean {
	return id === MEMO_PROGRAM || id === MEMO_V1_PROGRAM || id === MEMO_V4_PROGRAM;
}

/** The `program` label jsonParsed uses for each token program. */
export function tokenProgramLabel(id: string): "spl-token" | "spl-token-2022" {
	return id === TOKEN_2022_PROGRAM ? "spl-token-2022" : "spl-token";
}
