import { fromBase58, fromBase64, toBase64 } from "../encoding.js";
import {
	invalidParams,
	RPC_SEND_TRANSACTION_PREFLIGHT_FAILURE,
	RPC_SIGNATURE_VERIFICATION_FAILURE,
	type TransactionErrorJson,
	transactionErrorText,
} from "../errors.js";
import { executeTransaction, type SimulationResult, simulateTransaction } from "../executor.js";
import { airdrop, FaucetError } from "../faucet.js";
import {
	booleanOption,
	type Config,
	commitmentOf,
	configParam,
	positional,
	pubkeyParam,
	stringParam,
	u64AmountParam,
	wrongType,
} from "../params.js";
import { JsonRpcError, RPC_INTERNAL_ERROR, type RpcMethods } from "../rpc-server.js";
import { parseTransaction, WireFormatError, type WireTransaction } from "../wire.js";
import { accountEncodingOf, encodeAccount } from "./accounts.js";
import { type MethodContext, readSlot, withContext } from "./context.js";

// Submitting and simulating transactions, and the faucet.

const PACKET_DATA_SIZE = 1232;
const MAX_BASE58_SIZE = 1683;
const MAX_BASE64_SIZE = 1644;
const TX_TYPE = "solana_transaction::versioned::VersionedTransaction";

/** Decodes a sendTransaction / simulateTransaction payload with the validator's messages. */
export function decodeTransaction(value: unknown, config: Config): WireTransaction {
	const encoded = stringParam(value);
	const encoding = config.encoding ?? "base58";
	if (encoding !== "base58" && encoding !== "base64") {
		throw invalidParams(
			`unsupported encoding: ${String(encoding)}. Supported encodings: base58, base64`,
		);
	}
	const limit = encoding === "base58" ? MAX_BASE58_SIZE : MAX_BASE64_SIZE;
	if (encoded.length > limit) {
		throw invalidParams(
			`${encoding} encoded ${TX_TYPE} too large: ${encoded.length} bytes (max: encoded/raw ${limit}/${PACKET_DATA_SIZE})`,
		);
	}
	let bytes: Uint8Array | undefined;
	if (encoding === "base64") {
		bytes = fromBase64(encoded);
	} else {
		try {
			bytes = fromBase58(encoded);
		} catch {
			bytes = undefined;
		}
	}
	if (!bytes)
		throw invalidParams(`invalid ${encoding} encoding: ${JSON.stringify(encoded.slice(0, 32))}`);
	if (bytes.length > PACKET_DATA_SIZE) {
		throw invalidParams(
			`decoded ${TX_TYPE} too large: ${bytes.length} bytes (max: ${PACKET_DATA_SIZE} bytes)`,
		);
	}
	try {
		return parseTransaction(bytes);
	} catch (error) {
		if (error instanceof WireFormatError) {
			throw invalidParams(
				error.sanitize ? error.message : `failed to deserialize ${TX_TYPE}: ${error.message}`,
			);
		}
		throw error;
	}
}

function simulationValue(result: SimulationResult) {
	return {
		err: result.err,
		logs: result.logs,
		accounts: null as unknown,
		unitsConsumed: result.unitsConsumed,
		returnData: result.returnData
			? {
					programId: result.returnData.programId,
					data: [toBase64(result.returnData.data), "base64"],
				}
			: null,
		innerInstructions: null,
		replacementBlockhash: result.replacementBlockhash,
	};
}

function signatureFailure(): JsonRpcError {
	return new JsonRpcError(
		RPC_SIGNATURE_VERIFICATION_FAILURE,
		"Transaction signature verification failure",
	);
}

function preflightFailure(err: TransactionErrorJson, data: unknown): JsonRpcError {
	return new JsonRpcError(
		RPC_SEND_TRANSACTION_PREFLIGHT_FAILURE,
		`Transaction simulation failed: ${transactionErrorText(err)}`,
		data,
	);
}

export function registerTransactionMethods(methods: RpcMethods, ctx: MethodContext): void {
	methods.set("sendTransaction", (params) => {
		const args = positional(params, 1);
		const config = configParam(args[1]);
		const tx = decodeTransaction(args[0], config);
		const chain = ctx.chain();
		if (config.preflightCommitment !== undefined) {
			commitmentOf({ commitment: config.preflightCommitment });
		}
		readSlot(chain, "processed", config);
		const signature = tx.signatures[0] ?? "";
		if (!booleanOption(config, "skipPreflight", false)) {
			// Preflight always runs against the live bank (the sandbox keeps no forked states).
			const result = simulateTransaction(chain, tx, {
				sigVerify: true,
				replaceRecentBlockhash: false,
			});
			if (result.err === "SignatureFailure") throw signatureFailure();
			if (result.err !== null) throw preflightFailure(result.err, simulationValue(result));
		}
		if (ctx.faults.shouldDrop()) return signature;
		// A transaction that cannot land (expired blockhash, no fee) is dropped silently, as
		// a leader would; the client sees its status stay null.
		executeTransaction(chain, tx);
		return signature;
	});

	methods.set("simulateTransaction", (params) => {
		const args = positional(params, 1);
		const config = configParam(args[1]);
		const tx = decodeTransaction(args[0], { encoding: config.encoding });
		const sigVerify = booleanOption(config, "sigVerify", false);
		const replaceRecentBlockhash = booleanOption(config, "replaceRecentBlockhash", false);
		if (sigVerify && replaceRecentBlockhash) {
			throw invalidParams("sigVerify may not be used with replaceRecentBlockhash");
		}
		const chain = ctx.chain();
		const slot = readSlot(chain, "processed", config);
		commitmentOf(config);
		const result = simulateTransaction(chain, tx, { sigVerify, replaceRecentBlockhash });
		if (sigVerify && result.err === "SignatureFailure") throw signatureFailure();
		const value = simulationValue(result);
		const wanted = config.accounts;
		if (wanted !== undefined && wanted !== null) {
			if (typeof wanted !== "object" || Array.isArray(wanted)) throw wrongType(wanted, "a map");
			const { addresses, encoding } = wanted as Record<string, unknown>;
			if (!Array.isArray(addresses)) throw wrongType(addresses, "a sequence");
			const accountEncoding = accountEncodingOf({ encoding }, "base64");
			value.accounts = addresses.map((raw) => {
				const address = pubkeyParam(raw);
				const account = result.postAccounts.get(address) ?? chain.current(address);
				return account && result.err === null
					? encodeAccount(chain, account, accountEncoding)
					: null;
			});
		}
		return withContext(slot, value);
	});

	methods.set("requestAirdrop", (params) => {
		const args = positional(params, 2);
		const address = pubkeyParam(args[0]);
		const lamports = u64AmountParam(args[1]);
		commitmentOf(configParam(args[2]));
		try {
			return airdrop(ctx.chain(), address, lamports);
		} catch (error) {
			if (error instanceof FaucetError) {
				throw new JsonRpcError(RPC_INTERNAL_ERROR, `airdrop request failed: ${error.message}`);
			}
			throw error;
		}
	});
}
