import { toBase58, toBase64 } from "./encoding.js";
import { parseInstruction } from "./instruction-parsers.js";
import type { InnerInstructionRecord, TransactionRecord } from "./ledger.js";
import { isSigner, isWritable } from "./wire.js";

// getTransaction's result in each encoding, shaped like a validator's UiConfirmedTransaction.

export type TransactionEncoding = "json" | "jsonParsed" | "base64" | "base58";

export const TRANSACTION_ENCODINGS: readonly TransactionEncoding[] = [
	"json",
	"jsonParsed",
	"base64",
	"base58",
];

interface RawInstruction {
	programIdIndex: number;
	accounts: number[];
	data: Uint8Array;
	stackHeight: number | null;
}

function rawInstruction(ix: RawInstruction) {
	return {
		programIdIndex: ix.programIdIndex,
		accounts: ix.accounts,
		data: toBase58(ix.data),
		stackHeight: ix.stackHeight,
	};
}

function parsedInstruction(record: TransactionRecord, ix: RawInstruction) {
	const keys = record.accountKeys;
	const programId = keys[ix.programIdIndex] ?? "";
	const accounts = ix.accounts.map((i) => keys[i] ?? "");
	return (
		parseInstruction(programId, accounts, ix.data, ix.stackHeight) ?? {
			programId,
			accounts,
			data: toBase58(ix.data),
			stackHeight: ix.stackHeight,
		}
	);
}

function topLevel(record: TransactionRecord): RawInstruction[] {
	return record.tx.message.instructions.map((ix) => ({ ...ix, stackHeight: null }));
}

function inner(record: TransactionRecord, parsed: boolean) {
	return record.innerInstructions.map((entry) => ({
		index: entry.index,
		instructions: entry.instructions.map((ix: InnerInstructionRecord) =>
			parsed ? parsedInstruction(record, ix) : rawInstruction(ix),
		),
	}));
}

function meta(record: TransactionRecord, parsed: boolean) {
	const result: Record<string, unknown> = {
		err: record.err,
		status: record.err === null ? { Ok: null } : { Err: record.err },
		fee: record.fee,
		preBalances: record.preBalances,
		postBalances: record.postBalances,
		innerInstructions: inner(record, parsed),
		logMessages: record.logs,
		preTokenBalances: record.preTokenBalances,
		postTokenBalances: record.postTokenBalances,
		rewards: [],
	};
	// jsonParsed folds loaded addresses into accountKeys instead.
	if (!parsed) result.loadedAddresses = record.loadedAddresses;
	if (record.returnData) {
		result.returnData = {
			programId: record.returnData.programId,
			data: [toBase64(record.returnData.data), "base64"],
		};
	}
	result.computeUnitsConsumed = record.computeUnitsConsumed;
	return result;
}

function lookups(record: TransactionRecord) {
	return record.tx.message.lookups.map((l) => ({
		accountKey: l.accountKey,
		writableIndexes: l.writableIndexes,
		readonlyIndexes: l.readonlyIndexes,
	}));
}

function transaction(record: TransactionRecord, encoding: TransactionEncoding): unknown {
	const { tx } = record;
	const { message } = tx;
	if (encoding === "base64") return [toBase64(tx.bytes), "base64"];
	if (encoding === "base58") return [toBase58(tx.bytes), "base58"];
	const body: Record<string, unknown> = {};
	if (encoding === "json") {
		body.accountKeys = message.staticKeys;
		body.header = message.header;
		body.recentBlockhash = message.recentBlockhash;
		body.instructions = topLevel(record).map(rawInstruction);
	} else {
		const called = new Set(message.instructions.map((ix) => ix.programIdIndex));
		const loadedWritable = record.loadedAddresses.writable.length;
		body.accountKeys = record.accountKeys.map((pubkey, i) => ({
			pubkey,
			// Invoked programs are demoted to read-only by the runtime, whatever the header says.
			writable: isWritable(message, i, loadedWritable) && !called.has(i),
			signer: isSigner(message, i),
			source: i < message.staticKeys.length ? "transaction" : "lookupTable",
		}));
		body.recentBlockhash = message.recentBlockhash;
		body.instructions = topLevel(record).map((ix) => parsedInstruction(record, ix));
	}
	if (message.version === 0) body.addressTableLookups = lookups(record);
	return { signatures: tx.signatures, message: body };
}

/** `version` appears only when the client sent maxSupportedTransactionVersion. */
export function formatTransaction(
	record: TransactionRecord,
	encoding: TransactionEncoding,
	includeVersion: boolean,
): Record<string, unknown> {
	const result: Record<string, unknown> = {
		slot: record.slot,
		blockTime: record.blockTime,
		transaction: transaction(record, encoding),
		meta: meta(record, encoding === "jsonParsed"),
	};
	if (includeVersion) result.version = record.tx.message.version;
	return result;
}
