import { TextDecoder } from "node:util";
import { readU32, readU64, toBase58 } from "./encoding.js";
import {
	ASSOCIATED_TOKEN_PROGRAM,
	isMemoProgram,
	isTokenProgram,
	SYSTEM_PROGRAM,
	tokenProgramLabel,
} from "./programs.js";
import { uiTokenAmount } from "./token-state.js";

// jsonParsed instruction decoding for the programs a payment touches: System, SPL Token /
// Token-2022, Associated Token Account and Memo. Anything else (or malformed) stays raw.

export interface ParsedInstruction {
	program: string;
	programId: string;
	parsed: unknown;
	stackHeight: number | null;
}

type Info = Record<string, unknown>;
type Parsed = { type: string; info: Info } | undefined;

function u64At(data: Uint8Array, offset: number): bigint | undefined {
	return data.length >= offset + 8 ? readU64(data, offset) : undefined;
}

function parseSystem(data: Uint8Array, accounts: string[]): Parsed {
	if (data.length < 4) return undefined;
	const [a0, a1] = accounts;
	switch (readU32(data, 0)) {
		case 0: {
			const lamports = u64At(data, 4);
			const space = u64At(data, 12);
			if (!a0 || !a1 || lamports === undefined || space === undefined || data.length < 52) return;
			const owner = toBase58(data.subarray(20, 52));
			return {
				type: "createAccount",
				info: {
					source: a0,
					newAccount: a1,
					lamports,
					space,
					owner,
				},
			};
		}
		case 1:
			if (!a0 || data.length < 36) return;
			return { type: "assign", info: { account: a0, owner: toBase58(data.subarray(4, 36)) } };
		case 2: {
			const lamports = u64At(data, 4);
			if (!a0 || !a1 || lamports === undefined) return;
			return {
				type: "transfer",
				info: { source: a0, destination: a1, lamports },
			};
		}
		case 8: {
			const space = u64At(data, 4);
			if (!a0 || space === undefined) return;
			return { type: "allocate", info: { account: a0, space } };
		}
		default:
			return undefined;
	}
}

const EXTENSION_NAMES: Record<number, string> = { 7: "immutableOwner", 8: "memoTransfer" };

function parseToken(data: Uint8Array, accounts: string[]): Parsed {
	const [a0, a1, a2, a3] = accounts;
	const amount = u64At(data, 1);
	switch (data[0]) {
		case 1:
			if (!a0 || !a1 || !a2 || !a3) return;
			return {
				type: "initializeAccount",
				info: { account: a0, mint: a1, owner: a2, rentSysvar: a3 },
			};
		case 16:
		case 18: {
			if (!a0 || !a1 || data.length < 33) return;
			const owner = toBase58(data.subarray(1, 33));
			if (data[0] === 18)
				return { type: "initializeAccount3", info: { account: a0, mint: a1, owner } };
			if (!a2) return;
			return { type: "initializeAccount2", info: { account: a0, mint: a1, owner, rentSysvar: a2 } };
		}
		case 3:
			if (!a0 || !a1 || !a2 || amount === undefined) return;
			return {
				type: "transfer",
				info: { source: a0, destination: a1, authority: a2, amount: amount.toString() },
			};
		case 7:
			if (!a0 || !a1 || !a2 || amount === undefined) return;
			return {
				type: "mintTo",
				info: { mint: a0, account: a1, mintAuthority: a2, amount: amount.toString() },
			};
		case 8:
			if (!a0 || !a1 || !a2 || amount === undefined) return;
			return {
				type: "burn",
				info: { account: a0, mint: a1, authority: a2, amount: amount.toString() },
			};
		case 9:
			if (!a0 || !a1 || !a2) return;
			return { type: "closeAccount", info: { account: a0, destination: a1, owner: a2 } };
		case 12: {
			const decimals = data[9];
			if (!a0 || !a1 || !a2 || !a3 || amount === undefined || decimals === undefined) return;
			return {
				type: "transferChecked",
				info: {
					source: a0,
					mint: a1,
					destination: a2,
					authority: a3,
					tokenAmount: uiTokenAmount(amount, decimals),
				},
			};
		}
		case 14: {
			const decimals = data[9];
			if (!a0 || !a1 || !a2 || amount === undefined || decimals === undefined) return;
			return {
				type: "mintToChecked",
				info: {
					mint: a0,
					account: a1,
					mintAuthority: a2,
					tokenAmount: uiTokenAmount(amount, decimals),
				},
			};
		}
		case 21: {
			if (!a0) return;
			const types: string[] = [];
			for (let at = 1; at + 2 <= data.length; at += 2) {
				const type = (data[at] ?? 0) | ((data[at + 1] ?? 0) << 8);
				types.push(EXTENSION_NAMES[type] ?? "unparseableExtension");
			}
			const info: Info = { mint: a0 };
			if (types.length > 0) info.extensionTypes = types;
			return { type: "getAccountDataSize", info };
		}
		case 22:
			if (!a0) return;
			return { type: "initializeImmutableOwner", info: { account: a0 } };
		default:
			return undefined;
	}
}

function parseAssociatedToken(data: Uint8Array, accounts: string[]): Parsed {
	const [source, account, wallet, mint, systemProgram, tokenProgram] = accounts;
	if (!source || !account || !wallet || !mint || !systemProgram || !tokenProgram) return;
	const info = { source, account, wallet, mint, systemProgram, tokenProgram };
	if (data.length === 0 || data[0] === 0) return { type: "create", info };
	if (data.length === 1 && data[0] === 1) return { type: "createIdempotent", info };
	return undefined;
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });

export function parseInstruction(
	programId: string,
	accounts: string[],
	data: Uint8Array,
	stackHeight: number | null,
): ParsedInstruction | undefined {
	if (isMemoProgram(programId)) {
		try {
			return { program: "spl-memo", programId, parsed: UTF8.decode(data), stackHeight };
		} catch {
			return undefined;
		}
	}
	let program: string;
	let parsed: Parsed;
	if (programId === SYSTEM_PROGRAM) {
		program = "system";
		parsed = parseSystem(data, accounts);
	} else if (isTokenProgram(programId)) {
		program = tokenProgramLabel(programId);
		parsed = parseToken(data, accounts);
	} else if (programId === ASSOCIATED_TOKEN_PROGRAM) {
		program = "spl-associated-token-account";
		parsed = parseAssociatedToken(data, accounts);
	} else {
		return undefined;
	}
	return parsed ? { program, programId, parsed, stackHeight } : undefined;
}
