import { toBase58 } from "./encoding.js";

// Wire format of legacy and v0 transactions: enough to index keys, check blockhashes, compute
// fees and render getTransaction, without depending on a client library's message types.

export type TransactionVersion = "legacy" | 0;

export interface MessageHeader {
	numRequiredSignatures: number;
	numReadonlySignedAccounts: number;
	numReadonlyUnsignedAccounts: number;
}

export interface CompiledInstruction {
	programIdIndex: number;
	accounts: number[];
	data: Uint8Array;
}

export interface AddressTableLookup {
	accountKey: string;
	writableIndexes: number[];
	readonlyIndexes: number[];
}

export interface WireMessage {
	version: TransactionVersion;
	header: MessageHeader;
	staticKeys: string[];
	recentBlockhash: string;
	/** Where the blockhash sits inside the message bytes, for replaceRecentBlockhash. */
	blockhashOffset: number;
	instructions: CompiledInstruction[];
	lookups: AddressTableLookup[];
}

export interface WireTransaction {
	bytes: Uint8Array;
	signatures: string[];
	messageBytes: Uint8Array;
	message: WireMessage;
}

/** Thrown for bytes that are not a transaction; the message reads like the cluster's. */
export class WireFormatError extends Error {
	constructor(
		message: string,
		readonly sanitize = false,
	) {
		super(message);
		this.name = "WireFormatError";
	}
}

const EOF_MESSAGE = "io error: failed to fill whole buffer";

class Reader {
	offset = 0;
	constructor(readonly bytes: Uint8Array) {}

	u8(): number {
		const value = this.bytes[this.offset];
		if (value === undefined) throw new WireFormatError(EOF_MESSAGE);
		this.offset += 1;
		return value;
	}

	/** Solana's compact-u16 length prefix. */
	shortVec(): number {
		let value = 0;
		for (let shift = 0; shift < 21; shift += 7) {
			const byte = this.u8();
			value |= (byte & 0x7f) << shift;
			if ((byte & 0x80) === 0) return value;
		}
		throw new WireFormatError("invalid compact-u16 length");
	}

	take(length: number): Uint8Array {
		if (this.offset + length > this.bytes.length) throw new WireFormatError(EOF_MESSAGE);
		const slice = this.bytes.subarray(this.offset, this.offset + length);
		this.offset += length;
		return slice;
	}

	list<T>(read: () => T): T[] {
		const count = this.shortVec();
		const items: T[] = [];
		for (let i = 0; i < count; i++) items.push(read());
		return items;
	}
}

function readMessage(reader: Reader): WireMessage {
	const start = reader.offset;
	const first = reader.u8();
	let version: TransactionVersion = "legacy";
	let numRequiredSignatures = first;
	if (first & 0x80) {
		const number = first & 0x7f;
		if (number !== 0) throw new WireFormatError(`unsupported transaction version ${number}`);
		version = 0;
		numRequiredSignatures = reader.u8();
	}
	const header = {
		numRequiredSignatures,
		numReadonlySignedAccounts: reader.u8(),
		numReadonlyUnsignedAccounts: reader.u8(),
	};
	const staticKeys = reader.list(() => toBase58(reader.take(32)));
	const blockhashOffset = reader.offset - start;
	const recentBlockhash = toBase58(reader.take(32));
	const instructions = reader.list(() => ({
		programIdIndex: reader.u8(),
		accounts: reader.list(() => reader.u8()),
		data: Uint8Array.from(reader.take(reader.shortVec())),
	}));
	const lookups =
		version === 0
			? reader.list(() => ({
					accountKey: toBase58(reader.take(32)),
					writableIndexes: reader.list(() => reader.u8()),
					readonlyIndexes: reader.list(() => reader.u8()),
				}))
			: [];
	return { version, header, staticKeys, recentBlockhash, blockhashOffset, instructions, lookups };
}

function sanitize(message: WireMessage, signatureCount?: number): void {
	const { header, staticKeys, instructions, lookups } = message;
	const loadedCount = lookups.reduce(
		(sum, l) => sum + l.writableIndexes.length + l.readonlyIndexes.length,
		0,
	);
	const total = staticKeys.length + loadedCount;
	const bad =
		(signatureCount !== undefined && signatureCount !== header.numRequiredSignatures) ||
		header.numRequiredSignatures === 0 ||
		header.numReadonlySignedAccounts >= header.numRequiredSignatures ||
		header.numRequiredSignatures + header.numReadonlyUnsignedAccounts > staticKeys.length ||
		total > 256 ||
		instructions.some(
			(ix) =>
				ix.programIdIndex === 0 ||
				ix.programIdIndex >= staticKeys.length ||
				ix.accounts.some((index) => index >= total),
		);
	if (bad) {
		throw new WireFormatError(
			"invalid transaction: Transaction failed to sanitize accounts offsets correctly",
			true,
		);
	}
}

export function parseMessage(bytes: Uint8Array): WireMessage {
	const reader = new Reader(bytes);
	const message = readMessage(reader);
	if (reader.offset !== bytes.length) throw new WireFormatError("trailing bytes after message");
	sanitize(message);
	return message;
}

export function parseTransaction(bytes: Uint8Array): WireTransaction {
	const reader = new Reader(bytes);
	const signatures = reader.list(() => toBase58(reader.take(64)));
	const messageStart = reader.offset;
	const message = readMessage(reader);
	if (reader.offset !== bytes.length) throw new WireFormatError("trailing bytes after message");
	sanitize(message, signatures.length);
	return { bytes, signatures, messageBytes: bytes.subarray(messageStart), message };
}

export function isSigner(message: WireMessage, index: number): boolean {
	return index < message.header.numRequiredSignatures;
}

/** Writability of a key by position: static keys from the header, then loaded writable. */
export function isWritable(message: WireMessage, index: number, loadedWritable = 0): boolean {
	const { header, staticKeys } = message;
	if (index < header.numRequiredSignatures) {
		return index < header.numRequiredSignatures - header.numReadonlySignedAccounts;
	}
	if (index < staticKeys.length) {
		return index < staticKeys.length - header.numReadonlyUnsignedAccounts;
	}
	return index - staticKeys.length < loadedWritable;
}

/** The same transaction with another blockhash; signatures no longer match, as on the cluster. */
export function withBlockhash(tx: WireTransaction, blockhash: Uint8Array): Uint8Array {
	const copy = Uint8Array.from(tx.bytes);
	const at = tx.bytes.length - tx.messageBytes.length + tx.message.blockhashOffset;
	copy.set(blockhash, at);
	return copy;
}
