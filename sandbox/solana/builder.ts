import { decodeKey, fromBase58, writeU64 } from "./encoding.js";
import type { SandboxKeypair } from "./keys.js";
import { ASSOCIATED_TOKEN_PROGRAM, SYSTEM_PROGRAM } from "./programs.js";

// Builds and signs the sandbox's own legacy transactions (airdrops, test-token mints), which
// then go through the same execution path as any client transaction.

export interface AccountMeta {
	pubkey: string;
	isSigner: boolean;
	isWritable: boolean;
}

export interface Instruction {
	programId: string;
	accounts: AccountMeta[];
	data: Uint8Array;
}

function shortVec(length: number): number[] {
	const out: number[] = [];
	let rest = length;
	for (;;) {
		const low = rest & 0x7f;
		rest >>= 7;
		if (rest === 0) {
			out.push(low);
			return out;
		}
		out.push(low | 0x80);
	}
}

function key(address: string): Uint8Array {
	const bytes = decodeKey(address);
	if (!bytes) throw new Error(`not a public key: ${address}`);
	return bytes;
}

export function buildTransaction(
	feePayer: SandboxKeypair,
	instructions: Instruction[],
	recentBlockhash: string,
	extraSigners: SandboxKeypair[] = [],
): Uint8Array {
	// Merge metas per key, fee payer first; order signer-writable, signer-readonly,
	// writable, readonly as the message format requires.
	const metas = new Map<string, AccountMeta>();
	const add = (meta: AccountMeta) => {
		const seen = metas.get(meta.pubkey);
		metas.set(meta.pubkey, {
			pubkey: meta.pubkey,
			isSigner: meta.isSigner || (seen?.isSigner ?? false),
			isWritable: meta.isWritable || (seen?.isWritable ?? false),
		});
	};
	add({ pubkey: feePayer.address, isSigner: true, isWritable: true });
	for (const ix of instructions) {
		for (const meta of ix.accounts) add(meta);
		add({ pubkey: ix.programId, isSigner: false, isWritable: false });
	}
	const rank = (m: AccountMeta) => (m.isSigner ? 0 : 2) + (m.isWritable ? 0 : 1);
	const ordered = [...metas.values()].sort((a, b) =>
		a.pubkey === feePayer.address ? -1 : b.pubkey === feePayer.address ? 1 : rank(a) - rank(b),
	);
	const index = new Map(ordered.map((m, i) => [m.pubkey, i]));
	const signers = ordered.filter((m) => m.isSigner);
	const message: number[] = [
		signers.length,
		signers.filter((m) => !m.isWritable).length,
		ordered.filter((m) => !m.isSigner && !m.isWritable).length,
		...shortVec(ordered.length),
	];
	for (const m of ordered) message.push(...key(m.pubkey));
	message.push(...fromBase58(recentBlockhash));
	message.push(...shortVec(instructions.length));
	for (const ix of instructions) {
		message.push(index.get(ix.programId) ?? 0, ...shortVec(ix.accounts.length));
		for (const meta of ix.accounts) message.push(index.get(meta.pubkey) ?? 0);
		message.push(...shortVec(ix.data.length), ...ix.data);
	}
	const messageBytes = Uint8Array.from(message);
	const keypairs = new Map([feePayer, ...extraSigners].map((k) => [k.address, k]));
	const out: number[] = [...shortVec(signers.length)];
	for (const signer of signers) {
		const keypair = keypairs.get(signer.pubkey);
		if (!keypair) throw new Error(`missing signer ${signer.pubkey}`);
		out.push(...keypair.sign(messageBytes));
	}
	out.push(...messageBytes);
	return Uint8Array.from(out);
}

export function systemTransfer(from: string, to: string, lamports: bigint): Instruction {
	const data = new Uint8Array(12);
	data[0] = 2;
	writeU64(data, 4, lamports);
	return {
		programId: SYSTEM_PROGRAM,
		accounts: [
			{ pubkey: from, isSigner: true, isWritable: true },
			{ pubkey: to, isSigner: false, isWritable: true },
		],
		data,
	};
}

export function createAssociatedTokenIdempotent(
	payer: string,
	ata: string,
	owner: string,
	mint: string,
	tokenProgram: string,
): Instruction {
	return {
		programId: ASSOCIATED_TOKEN_PROGRAM,
		accounts: [
			{ pubkey: payer, isSigner: true, isWritable: true },
			{ pubkey: ata, isSigner: false, isWritable: true },
			{ pubkey: owner, isSigner: false, isWritable: false },
			{ pubkey: mint, isSigner: false, isWritable: false },
			{ pubkey: SYSTEM_PROGRAM, isSigner: false, isWritable: false },
			{ pubkey: tokenProgram, isSigner: false, isWritable: false },
		],
		data: Uint8Array.of(1),
	};
}

export function mintTo(
	mint: string,
	destination: string,
	authority: string,
	amount: bigint,
	tokenProgram: string,
): Instruction {
	const data = new Uint8Array(9);
	data[0] = 7;
	writeU64(data, 1, amount);
	return {
		programId: tokenProgram,
		accounts: [
			{ pubkey: mint, isSigner: false, isWritable: true },
			{ pubkey: destination, isSigner: false, isWritable: true },
			{ pubkey: authority, isSigner: true, isWritable: false },
		],
		data,
	};
}
