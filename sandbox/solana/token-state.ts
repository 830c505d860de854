import { decodeKey, readU32, readU64, toBase58, writeU64 } from "./encoding.js";
import { isTokenProgram, tokenProgramLabel } from "./programs.js";

// SPL Token and Token-2022 account layouts: parse mints and token accounts for jsonParsed,
// token balances and getTokenAccountsByOwner, and build the genesis mints.

export const MINT_SIZE = 82;
export const TOKEN_ACCOUNT_SIZE = 165;
const ACCOUNT_TYPE_MINT = 1;
const ACCOUNT_TYPE_ACCOUNT = 2;

export interface UiTokenAmount {
	amount: string;
	decimals: number;
	uiAmount: number | null;
	uiAmountString: string;
}

export interface MintState {
	mintAuthority: string | null;
	supply: bigint;
	decimals: number;
	isInitialized: boolean;
	freezeAuthority: string | null;
	extensions: Record<string, unknown>[];
}

export interface TokenAccountState {
	mint: string;
	owner: string;
	amount: bigint;
	delegate: string | null;
	state: "uninitialized" | "initialized" | "frozen";
	isNative: bigint | null;
	delegatedAmount: bigint;
	closeAuthority: string | null;
	extensions: Record<string, unknown>[];
}

/** "1.5" for 1500000 at 6 decimals; trailing zeros trimmed like the cluster. */
export function formatUiAmount(amount: bigint, decimals: number): string {
	if (decimals === 0) return amount.toString();
	const digits = amount.toString().padStart(decimals + 1, "0");
	const whole = digits.slice(0, -decimals);
	const fraction = digits.slice(-decimals).replace(/0+$/, "");
	return fraction ? `${whole}.${fraction}` : whole;
}

/**
 * `zeroAsNull`: transaction token balances store uiAmount as null for a zero balance, while
 * account reads (getTokenAccountBalance, jsonParsed) report 0.
 */
export function uiTokenAmount(amount: bigint, decimals: number, zeroAsNull = false): UiTokenAmount {
	const uiAmountString = formatUiAmount(amount, decimals);
	return {
		amount: amount.toString(),
		decimals,
		uiAmount: zeroAsNull && amount === 0n ? null : Number(uiAmountString),
		uiAmountString,
	};
}

function readOptionKey(data: Uint8Array, offset: number): string | null {
	return readU32(data, offset) === 1 ? toBase58(data.subarray(offset + 4, offset + 36)) : null;
}

function readExtensions(data: Uint8Array, forMint: boolean): Record<string, unknown>[] {
	const extensions: Record<string, unknown>[] = [];
	let offset = TOKEN_ACCOUNT_SIZE + 1;
	while (offset + 4 <= data.length) {
		const view = new DataView(data.buffer, data.byteOffset + offset, 4);
		const type = view.getUint16(0, true);
		const length = view.getUint16(2, true);
		const value = data.subarray(offset + 4, offset + 4 + length);
		offset += 4 + length;
		if (type === 0) break;
		extensions.push(describeExtension(type, value, forMint));
	}
	return extensions;
}

function describeExtension(type: number, value: Uint8Array, forMint: boolean) {
	const key = (at: number) => {
		const bytes = value.subarray(at, at + 32);
		return bytes.length === 32 && bytes.some((b) => b !== 0) ? toBase58(bytes) : null;
	};
	if (!forMint && type === 7) return { extension: "immutableOwner" };
	if (!forMint && type === 8) {
		return { extension: "memoTransfer", state: { requireIncomingTransferMemos: value[0] === 1 } };
	}
	if (!forMint && type === 2 && value.length >= 8) {
		return { extension: "transferFeeAmount", state: { withheldAmount: readU64(value, 0) } };
	}
	if (forMint && type === 3)
		return { extension: "mintCloseAuthority", state: { closeAuthority: key(0) } };
	if (forMint && type === 18) {
		return { extension: "metadataPointer", state: { authority: key(0), metadataAddress: key(32) } };
	}
	return { extension: "unparseableExtension" };
}

export function parseMint(owner: string, data: Uint8Array): MintState | undefined {
	if (!isTokenProgram(owner)) return undefined;
	const extended =
		data.length > TOKEN_ACCOUNT_SIZE && data[TOKEN_ACCOUNT_SIZE] === ACCOUNT_TYPE_MINT;
	if (data.length !== MINT_SIZE && !extended) return undefined;
	if (data[45] !== 1) return undefined;
	return {
		mintAuthority: readOptionKey(data, 0),
		supply: readU64(data, 36),
		decimals: data[44] ?? 0,
		isInitialized: true,
		freezeAuthority: readOptionKey(data, 46),
		extensions: extended ? readExtensions(data, true) : [],
	};
}

export function parseTokenAccount(owner: string, data: Uint8Array): TokenAccountState | undefined {
	if (!isTokenProgram(owner)) return undefined;
	const extended =
		data.length > TOKEN_ACCOUNT_SIZE && data[TOKEN_ACCOUNT_SIZE] === ACCOUNT_TYPE_ACCOUNT;
	if (data.length !== TOKEN_ACCOUNT_SIZE && !extended) return undefined;
	const stateByte = data[108];
	if (stateByte !== 1 && stateByte !== 2) return undefined;
	return {
		mint: toBase58(data.subarray(0, 32)),
		owner: toBase58(data.subarray(32, 64)),
		amount: readU64(data, 64),
		delegate: readOptionKey(data, 72),
		state: stateByte === 2 ? "frozen" : "initialized",
		isNative: readU32(data, 109) === 1 ? readU64(data, 113) : null,
		delegatedAmount: readU64(data, 121),
		closeAuthority: readOptionKey(data, 129),
		extensions: extended ? readExtensions(data, false) : [],
	};
}

/** The `{program, parsed, space}` form getAccountInfo returns for jsonParsed token accounts. */
export function jsonParsedTokenData(
	owner: string,
	data: Uint8Array,
	decimalsOf: (mint: string) => number | undefined,
): { program: string; parsed: unknown; space: number } | undefined {
	const program = tokenProgramLabel(owner);
	const mint = parseMint(owner, data);
	if (mint) {
		const info: Record<string, unknown> = {
			decimals: mint.decimals,
			freezeAuthority: mint.freezeAuthority,
			isInitialized: mint.isInitialized,
			mintAuthority: mint.mintAuthority,
			supply: mint.supply.toString(),
		};
		if (mint.extensions.length > 0) info.extensions = mint.extensions;
		return { program, parsed: { type: "mint", info }, space: data.length };
	}
	const account = parseTokenAccount(owner, data);
	const decimals = account ? decimalsOf(account.mint) : undefined;
	if (!account || decimals === undefined) return undefined;
	const info: Record<string, unknown> = {
		isNative: account.isNative !== null,
		mint: account.mint,
		owner: account.owner,
		state: account.state,
		tokenAmount: uiTokenAmount(account.amount, decimals),
	};
	if (account.delegate) {
		info.delegate = account.delegate;
		info.delegatedAmount = uiTokenAmount(account.delegatedAmount, decimals);
	}
	if (account.isNative !== null) info.rentExemptReserve = uiTokenAmount(account.isNative, 9);
	if (account.closeAuthority) info.closeAuthority = account.closeAuthority;
	if (account.extensions.length > 0) info.extensions = account.extensions;
	return { program, parsed: { type: "account", info }, space: data.length };
}

export interface MintInit {
	mintAuthority: string | null;
	freezeAuthority: string | null;
	decimals: number;
	supply?: bigint;
}

export function encodeMint(init: MintInit): Uint8Array {
	const data = new Uint8Array(MINT_SIZE);
	const view = new DataView(data.buffer);
	const putKey = (offset: number, key: string | null) => {
		if (key === null) return;
		const bytes = decodeKey(key);
		if (!bytes) throw new Error(`not a public key: ${key}`);
		view.setUint32(offset, 1, true);
		data.set(bytes, offset + 4);
	};
	putKey(0, init.mintAuthority);
	writeU64(data, 36, init.supply ?? 0n);
	data[44] = init.decimals;
	data[45] = 1;
	putKey(46, init.freezeAuthority);
	return data;
}
