import { createHash, createPrivateKey, createPublicKey, type KeyObject, sign } from "node:crypto";
import { type Address, isOffCurveAddress } from "@solana/kit";
import { decodeKey, toBase58 } from "./encoding.js";
import { ASSOCIATED_TOKEN_PROGRAM } from "./programs.js";

// Ed25519 keypairs for the sandbox's own accounts (faucet, mint authority) and synchronous
// PDA derivation, on node:crypto so chain setup and internal transactions need no awaits.

const PKCS8_ED25519_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

export interface SandboxKeypair {
	address: string;
	/** The 32-byte private seed; 64-byte secret key = seed || public key (web3.js Keypair form). */
	seed: Uint8Array;
	secretKey: Uint8Array;
	sign(message: Uint8Array): Uint8Array;
}

export function keypairFromSeed(seed: Uint8Array): SandboxKeypair {
	if (seed.length !== 32) throw new RangeError("an ed25519 seed is 32 bytes");
	const privateKey: KeyObject = createPrivateKey({
		key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]),
		format: "der",
		type: "pkcs8",
	});
	const spki = createPublicKey(privateKey).export({ format: "der", type: "spki" });
	const publicKey = new Uint8Array(spki.subarray(spki.length - 32));
	const secretKey = new Uint8Array(64);
	secretKey.set(seed);
	secretKey.set(publicKey, 32);
	return {
		address: toBase58(publicKey),
		seed: Uint8Array.from(seed),
		secretKey,
		sign: (message) => new Uint8Array(sign(null, message, privateKey)),
	};
}

/** Stable across restarts, so the sandbox's authorities keep their addresses. */
export function keypairFromLabel(label: string): SandboxKeypair {
	const seed = createHash("sha256").update(`streampayments-sandbox:${label}`).digest();
	return keypairFromSeed(new Uint8Array(seed));
}

function keyBytes(address: string): Uint8Array {
	const bytes = decodeKey(address);
	if (!bytes) throw new Error(`not a public key: ${address}`);
	return bytes;
}

export function findProgramAddress(seeds: Uint8Array[], programId: string): [string, number] {
	for (let bump = 255; bump >= 0; bump--) {
		const hash = createHash("sha256");
		for (const seed of seeds) hash.update(seed);
		hash.update(Uint8Array.of(bump));
		hash.update(keyBytes(programId));
		hash.update("ProgramDerivedAddress");
		const candidate = toBase58(new Uint8Array(hash.digest()));
		if (isOffCurveAddress(candidate as Address)) return [candidate, bump];
	}
	throw new Error("no viable bump seed");
}

export function associatedTokenAddress(owner: string, mint: string, tokenProgram: string): string {
	const [address] = findProgramAddress(
		[keyBytes(owner), keyBytes(tokenProgram), keyBytes(mint)],
		ASSOCIATED_TOKEN_PROGRAM,
	);
	return address;
}
