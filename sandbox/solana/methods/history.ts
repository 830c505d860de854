import { invalidParams, RPC_UNSUPPORTED_TRANSACTION_VERSION } from "../errors.js";
import {
	booleanOption,
	configParam,
	confirmedCommitmentOf,
	encodingOf,
	positional,
	pubkeyParam,
	signatureParam,
	wrongType,
} from "../params.js";
import { JsonRpcError, type RpcMethods } from "../rpc-server.js";
import { formatTransaction, TRANSACTION_ENCODINGS } from "../tx-format.js";
import { type MethodContext, readSlot, withContext } from "./context.js";

// Transaction history: statuses, signatures by address and full transactions.

const MAX_SIGNATURE_STATUSES = 256;
const MAX_SIGNATURES_FOR_ADDRESS = 1000;
/** Slots a validator's status cache covers; older statuses need searchTransactionHistory. */
const STATUS_CACHE_SLOTS = 300;

export function registerHistoryMethods(methods: RpcMethods, ctx: MethodContext): void {
	methods.set("getSignatureStatuses", (params) => {
		const args = positional(params, 1);
		if (!Array.isArray(args[0])) throw wrongType(args[0], "a sequence");
		if (args[0].length > MAX_SIGNATURE_STATUSES) {
			throw invalidParams(`Too many inputs provided; max ${MAX_SIGNATURE_STATUSES}`);
		}
		const signatures = args[0].map(signatureParam);
		const config = configParam(args[1]);
		const searchHistory = booleanOption(config, "searchTransactionHistory", false);
		const chain = ctx.chain();
		return withContext(
			chain.slot,
			signatures.map((signature) => {
				const record = chain.ledger.get(signature);
				if (!record) return null;
				if (!searchHistory && chain.slot - record.slot >= STATUS_CACHE_SLOTS) return null;
				const level = chain.clock.statusOf(record.slot);
				return {
					slot: record.slot,
					confirmations: level.confirmations,
					err: record.err,
					status: record.err === null ? { Ok: null } : { Err: record.err },
					confirmationStatus: level.confirmationStatus,
				};
			}),
		);
	});

	methods.set("getSignaturesForAddress", (params) => {
		const args = positional(params, 1);
		const address = pubkeyParam(args[0]);
		const config = configParam(args[1]);
		const commitment = confirmedCommitmentOf(config);
		const limit = config.limit ?? MAX_SIGNATURES_FOR_ADDRESS;
		if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 0) {
			throw wrongType(limit, "usize");
		}
		if (limit === 0 || limit > MAX_SIGNATURES_FOR_ADDRESS) {
			throw invalidParams(`Invalid limit; max ${MAX_SIGNATURES_FOR_ADDRESS}`);
		}
		const before = config.before == null ? undefined : signatureParam(config.before);
		const until = config.until == null ? undefined : signatureParam(config.until);
		const chain = ctx.chain();
		readSlot(chain, commitment, config);
		const visible = chain.ledger
			.forAddress(address)
			.filter((record) => chain.clock.reached(record.slot, commitment))
			.reverse();
		let start = 0;
		if (before !== undefined) {
			const index = visible.findIndex((r) => r.signature === before);
			// An unknown `before` has nothing older that the node can place, so nothing returns.
			if (index < 0) return [];
			start = index + 1;
		}
		const result = [];
		for (const record of visible.slice(start)) {
			if (record.signature === until || result.length >= limit) break;
			result.push({
				signature: record.signature,
				slot: record.slot,
				err: record.err,
				memo: record.memo,
				blockTime: record.blockTime,
				confirmationStatus: chain.clock.statusOf(record.slot).confirmationStatus,
			});
		}
		return result;
	});

	methods.set("getTransaction", (params) => {
		const args = positional(params, 1);
		const signature = signatureParam(args[0]);
		// The legacy second parameter is a bare encoding string.
		const config = typeof args[1] === "string" ? { encoding: args[1] } : configParam(args[1]);
		const commitment = confirmedCommitmentOf(config);
		const encoding = encodingOf(config, TRANSACTION_ENCODINGS, "json");
		const maxVersion = config.maxSupportedTransactionVersion;
		if (maxVersion !== undefined && maxVersion !== null) {
			if (
				typeof maxVersion !== "number" ||
				!Number.isInteger(maxVersion) ||
				maxVersion < 0 ||
				maxVersion > 255
			) {
				throw wrongType(maxVersion, "u8");
			}
		}
		const chain = ctx.chain();
		readSlot(chain, commitment, config);
		const record = chain.ledger.get(signature);
		if (!record || !chain.clock.reached(record.slot, commitment)) return null;
		const version = record.tx.message.version;
		const supported = maxVersion === undefined || maxVersion === null ? undefined : maxVersion;
		if (version !== "legacy" && (supported === undefined || version > supported)) {
			throw new JsonRpcError(
				RPC_UNSUPPORTED_TRANSACTION_VERSION,
				`Transaction version (${version}) is not supported by the requesting client. Please try the request again with the following configuration parameter: "maxSupportedTransactionVersion": ${version}`,
			);
		}
		return formatTransaction(record, encoding, supported !== undefined);
	});
}
