import type { AccountView, SolanaChain } from "../chain.js";
import { toBase58, toBase64 } from "../encoding.js";
import { invalidParams } from "../errors.js";
import {
	type Config,
	commitmentOf,
	configParam,
	positional,
	pubkeyParam,
	wrongType,
} from "../params.js";
import { isTokenProgram } from "../programs.js";
import type { RpcMethods } from "../rpc-server.js";
import {
	jsonParsedTokenData,
	parseMint,
	parseTokenAccount,
	uiTokenAmount,
} from "../token-state.js";
import { type MethodContext, readSlot, withContext } from "./context.js";

// Account reads, each at the bank its commitment selects.

export type AccountEncoding = "binary" | "base58" | "base64" | "base64+zstd" | "jsonParsed";
const ACCOUNT_ENCODINGS: readonly AccountEncoding[] = [
	"binary",
	"base58",
	"base64",
	"jsonParsed",
	"base64+zstd",
];
/** Accounts have been rent-exempt since rent collection ended: u64::MAX, as validators report. */
const RENT_EXEMPT_EPOCH = 18_446_744_073_709_551_615n;
const MAX_BASE58_BYTES = 128;
const MAX_MULTIPLE_ACCOUNTS = 100;

export function accountEncodingOf(config: Config, fallback: AccountEncoding): AccountEncoding {
	const value = config.encoding ?? fallback;
	if (typeof value === "string" && (ACCOUNT_ENCODINGS as string[]).includes(value)) {
		if (value === "base64+zstd") {
			throw invalidParams("base64+zstd encoding is not supported by the sandbox; use base64");
		}
		return value as AccountEncoding;
	}
	throw invalidParams(
		`Invalid params: unknown variant \`${String(value)}\`, expected one of \`binary\`, \`base58\`, \`base64\`, \`jsonParsed\`, \`base64+zstd\`.`,
	);
}

function sliceOf(config: Config): { offset: number; length: number } | undefined {
	const slice = config.dataSlice;
	if (slice === undefined || slice === null) return undefined;
	if (typeof slice !== "object" || Array.isArray(slice))
		throw wrongType(slice, "struct UiDataSliceConfig");
	const { offset, length } = slice as Record<string, unknown>;
	if (!Number.isInteger(offset) || !Number.isInteger(length)) {
		throw invalidParams("Invalid params: missing field `offset` or `length`.");
	}
	return { offset: offset as number, length: length as number };
}

/** One account in the RPC's UiAccount form. */
export function encodeAccount(
	chain: SolanaChain,
	account: AccountView,
	encoding: AccountEncoding,
	config: Config = {},
): Record<string, unknown> {
	const slice = sliceOf(config);
	const data = slice
		? account.data.subarray(slice.offset, slice.offset + slice.length)
		: account.data;
	let encoded: unknown;
	const parsed =
		encoding === "jsonParsed"
			? jsonParsedTokenData(account.owner, account.data, (mint) => chain.decimalsOf(mint))
			: undefined;
	if (parsed) {
		encoded = parsed;
	} else if (encoding === "binary" || encoding === "base58") {
		if (data.length > MAX_BASE58_BYTES) {
			throw invalidParams(
				"Encoded binary (base 58) data should be less than 128 bytes, please use Base64 encoding.",
			);
		}
		encoded = encoding === "binary" ? toBase58(data) : [toBase58(data), "base58"];
	} else {
		encoded = [toBase64(data), "base64"];
	}
	return {
		data: encoded,
		executable: account.executable,
		lamports: account.lamports,
		owner: account.owner,
		rentEpoch: RENT_EXEMPT_EPOCH,
		space: account.data.length,
	};
}

function tokenAccountAt(
	chain: SolanaChain,
	address: string,
	slotCommitment: Parameters<SolanaChain["account"]>[1],
) {
	const account = chain.account(address, slotCommitment);
	if (!account) throw invalidParams("Invalid param: could not find account");
	const parsed = parseTokenAccount(account.owner, account.data);
	if (!parsed) throw invalidParams("Invalid param: not a Token account");
	return { account, parsed };
}

export function registerAccountMethods(methods: RpcMethods, ctx: MethodContext): void {
	methods.set("getBalance", (params) => {
		const args = positional(params, 1);
		const address = pubkeyParam(args[0]);
		const config = configParam(args[1]);
		const chain = ctx.chain();
		const commitment = commitmentOf(config);
		const slot = readSlot(chain, commitment, config);
		return withContext(slot, chain.account(address, commitment)?.lamports ?? 0n);
	});

	methods.set("getAccountInfo", (params) => {
		const args = positional(params, 1);
		const address = pubkeyParam(args[0]);
		const config = configParam(args[1]);
		const encoding = accountEncodingOf(config, "binary");
		const chain = ctx.chain();
		const commitment = commitmentOf(config);
		const slot = readSlot(chain, commitment, config);
		const account = chain.account(address, commitment);
		return withContext(slot, account ? encodeAccount(chain, account, encoding, config) : null);
	});

	methods.set("getMultipleAccounts", (params) => {
		const args = positional(params, 1);
		if (!Array.isArray(args[0])) throw wrongType(args[0], "a sequence");
		if (args[0].length > MAX_MULTIPLE_ACCOUNTS) {
			throw invalidParams(`Too many inputs provided; max ${MAX_MULTIPLE_ACCOUNTS}`);
		}
		const addresses = args[0].map(pubkeyParam);
		const config = configParam(args[1]);
		const encoding = accountEncodingOf(config, "base64");
		const chain = ctx.chain();
		const commitment = commitmentOf(config);
		const slot = readSlot(chain, commitment, config);
		return withContext(
			slot,
			addresses.map((address) => {
				const account = chain.account(address, commitment);
				return account ? encodeAccount(chain, account, encoding, config) : null;
			}),
		);
	});

	methods.set("getTokenAccountBalance", (params) => {
		const args = positional(params, 1);
		const address = pubkeyParam(args[0]);
		const config = configParam(args[1]);
		const chain = ctx.chain();
		const commitment = commitmentOf(config);
		const slot = readSlot(chain, commitment, config);
		const { parsed } = tokenAccountAt(chain, address, commitment);
		const decimals = chain.decimalsOf(parsed.mint);
		if (decimals === undefined) throw invalidParams("Invalid param: could not find mint");
		return withContext(slot, uiTokenAmount(parsed.amount, decimals));
	});

	methods.set("getTokenSupply", (params) => {
		const args = positional(params, 1);
		const address = pubkeyParam(args[0]);
		const config = configParam(args[1]);
		const chain = ctx.chain();
		const commitment = commitmentOf(config);
		const slot = readSlot(chain, commitment, config);
		const account = chain.account(address, commitment);
		const mint = account ? parseMint(account.owner, account.data) : undefined;
		if (!mint) throw invalidParams("Invalid param: not a Token mint");
		return withContext(slot, uiTokenAmount(mint.supply, mint.decimals));
	});

	methods.set("getTokenAccountsByOwner", (params) => {
		const args = positional(params, 2);
		const owner = pubkeyParam(args[0]);
		const filter = args[1];
		const config = configParam(args[2]);
		const encoding = accountEncodingOf(config, "binary");
		const chain = ctx.chain();
		const commitment = commitmentOf(config);
		const slot = readSlot(chain, commitment, config);
		if (typeof filter !== "object" || filter === null || Array.isArray(filter)) {
			throw wrongType(filter, "a map");
		}
		const { mint, programId } = filter as Record<string, unknown>;
		let program: string;
		let mintAddress: string | undefined;
		if (mint !== undefined) {
			mintAddress = pubkeyParam(mint);
			const mintAccount = chain.account(mintAddress, commitment);
			if (!mintAccount || !parseMint(mintAccount.owner, mintAccount.data)) {
				throw invalidParams("Invalid param: could not find mint");
			}
			program = mintAccount.owner;
		} else if (programId !== undefined) {
			program = pubkeyParam(programId);
			if (!isTokenProgram(program))
				throw invalidParams("Invalid param: unrecognized Token program id");
		} else {
			throw invalidParams(
				"Invalid params: data did not match any variant of untagged enum RpcTokenAccountsFilter.",
			);
		}
		const accounts = chain.tokenAccountsByOwner(owner, program, commitment, mintAddress);
		return withContext(
			slot,
			accounts.map((account) => ({
				pubkey: account.address,
				account: encodeAccount(chain, account, encoding, config),
			})),
		);
	});
}
