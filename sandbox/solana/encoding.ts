import { getBase58Decoder, getBase58Encoder } from "@solana/kit";

// Byte helpers shared by the wire parser, account layouts and RPC encoders.

const base58Encoder = getBase58Encoder();
const base58Decoder = getBase58Decoder();

export function toBase58(bytes: Uint8Array): string {
	return base58Decoder.decode(bytes);
}

/** Throws on characters outside the base58 alphabet. */
export function fromBase58(text: string): Uint8Array {
	return Uint8Array.from(base58Encoder.encode(text));
}

export function toBase64(bytes: Uint8Array): string {
	return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Strict: Buffer.from silently skips bad characters, the cluster refuses them. */
export function fromBase64(text: string): Uint8Array | undefined {
	if (text.length % 4 !== 0 || !BASE64.test(text)) return undefined;
	return new Uint8Array(Buffer.from(text, "base64"));
}

/** A 32-byte key as base58, or undefined if the text is not one. */
export function decodeKey(text: string): Uint8Array | undefined {
	try {
		const bytes = fromBase58(text);
		return bytes.length === 32 ? bytes : undefined;
	} catch {
		return undefined;
	}
}

/** The largest u64: lamports and token amounts never exceed it. */
export const U64_MAX = 18_446_744_073_709_551_615n;

export function readU64(data: Uint8Array, offset: number): bigint {
	return new DataView(data.buffer, data.byteOffset, data.byteLength).getBigUint64(offset, true);
}

export function writeU64(data: Uint8Array, offset: number, value: bigint): void {
	new DataView(data.buffer, data.byteOffset, data.byteLength).setBigUint64(offset, value, true);
}

export function readU32(data: Uint8Array, offset: number): number {
	return new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(offset, true);
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
	return a.length === b.length && a.every((value, i) => value === b[i]);
}
