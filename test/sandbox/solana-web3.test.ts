import {
	Connection,
	Keypair,
	LAMPORTS_PER_SOL,
	PublicKey,
	SystemProgram,
	Transaction,
	TransactionInstruction,
	TransactionMessage,
	VersionedTransaction,
} from "@solana/web3.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Sandbox, startSandbox } from "../../sandbox/server.js";
import { PYUSD, type SandboxToken, USDC } from "../../sandbox/solana/tokens.js";

// A @solana/web3.js 1.x client against the sandbox, building SPL instructions by hand the way
// a wallet without @solana/spl-token would.

const ATA_PROGRAM = new PublicKey("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL");
const MEMO_PROGRAM = new PublicKey("MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr");

function ata(owner: PublicKey, token: SandboxToken): PublicKey {
	const [address] = PublicKey.findProgramAddressSync(
		[
			owner.toBuffer(),
			new PublicKey(token.programId).toBuffer(),
			new PublicKey(token.mint).toBuffer(),
		],
		ATA_PROGRAM,
	);
	return address;
}

function createAtaIdempotent(payer: PublicKey, owner: PublicKey, token: SandboxToken) {
	return new TransactionInstruction({
		programId: ATA_PROGRAM,
		keys: [
			{ pubkey: payer, isSigner: true, isWritable: true },
			{ pubkey: ata(owner, token), isSigner: false, isWritable: true },
			{ pubkey: owner, isSigner: false, isWritable: false },
			{ pubkey: new PublicKey(token.mint), isSigner: false, isWritable: false },
			{ pubkey: SystemProgram.programId, isSigner: false, isWritable: false },
			{ pubkey: new PublicKey(token.programId), isSigner: false, isWritable: false },
		],
		data: Buffer.from([1]),
	});
}

function transferChecked(
	from: PublicKey,
	to: PublicKey,
	token: SandboxToken,
	amount: bigint,
	reference: PublicKey,
) {
	const data = Buffer.alloc(10);
	data[0] = 12;
	data.writeBigUInt64LE(amount, 1);
	data[9] = token.decimals;
	return new TransactionInstruction({
		programId: new PublicKey(token.programId),
		keys: [
			{ pubkey: ata(from, token), isSigner: false, isWritable: true },
			{ pubkey: new PublicKey(token.mint), isSigner: false, isWritable: false },
			{ pubkey: ata(to, token), isSigner: false, isWritable: true },
			{ pubkey: from, isSigner: true, isWritable: false },
			{ pubkey: reference, isSigner: false, isWritable: false },
		],
		data,
	});
}

function memo(text: string) {
	return new TransactionInstruction({ programId: MEMO_PROGRAM, keys: [], data: Buffer.from(text) });
}

describe("@solana/web3.js 1.x client", () => {
	let sandbox: Sandbox;
	let connection: Connection;

	beforeAll(async () => {
		sandbox = await startSandbox({
			solanaPort: 0,
			stripePort: 0,
			controlPort: 0,
			solana: { slotMs: 0, confirmedLag: 1, finalizedLag: 3 },
		});
		connection = new Connection(sandbox.urls.solana, {
			commitment: "confirmed",
			disableRetryOnRateLimit: true,
		});
	});
	afterAll(() => sandbox.close());

	async function confirm(signature: string) {
		for (let i = 0; i < 10; i++) {
			const { value } = await connection.getSignatureStatuses([signature]);
			const status = value[0];
			if (
				status?.confirmationStatus === "confirmed" ||
				status?.confirmationStatus === "finalized"
			) {
				expect(status.err).toBeNull();
				return status;
			}
			sandbox.solana.advanceSlots(1);
		}
		throw new Error(`${signature} was never confirmed`);
	}

	async function fundedWallet(): Promise<Keypair> {
		const wallet = Keypair.generate();
		await confirm(await connection.requestAirdrop(wallet.publicKey, 2 * LAMPORTS_PER_SOL));
		return wallet;
	}

	async function sendLegacy(payer: Keypair, ...instructions: TransactionInstruction[]) {
		const latest = await connection.getLatestBlockhash();
		const tx = new Transaction({ feePayer: payer.publicKey, ...latest }).add(...instructions);
		tx.sign(payer);
		const signature = await connection.sendRawTransaction(tx.serialize());
		await confirm(signature);
		return signature;
	}

	async function sendV0(payer: Keypair, ...instructions: TransactionInstruction[]) {
		const { blockhash } = await connection.getLatestBlockhash();
		const message = new TransactionMessage({
			payerKey: payer.publicKey,
			recentBlockhash: blockhash,
			instructions,
		}).compileToV0Message();
		const tx = new VersionedTransaction(message);
		tx.sign([payer]);
		const signature = await connection.sendTransaction(tx);
		await confirm(signature);
		return signature;
	}

	it("airdrops and transfers SOL", async () => {
		const payer = await fundedWallet();
		const recipient = Keypair.generate();
		expect(await connection.getBalance(payer.publicKey)).toBe(2 * LAMPORTS_PER_SOL);
		const signature = await sendLegacy(
			payer,
			SystemProgram.transfer({
				fromPubkey: payer.publicKey,
				toPubkey: recipient.publicKey,
				lamports: 0.25 * LAMPORTS_PER_SOL,
			}),
		);
		expect(await connection.getBalance(recipient.publicKey)).toBe(0.25 * LAMPORTS_PER_SOL);

		const tx = await connection.getTransaction(signature, { maxSupportedTransactionVersion: 0 });
		expect(tx?.version).toBe("legacy");
		expect(tx?.meta?.fee).toBe(5000);
		expect(tx?.meta?.preBalances).toEqual([2 * LAMPORTS_PER_SOL, 0, 1]);
		expect(tx?.meta?.postBalances).toEqual([1_749_995_000, 250_000_000, 1]);
		const parsed = await connection.getParsedTransaction(signature, {
			maxSupportedTransactionVersion: 0,
		});
		expect(parsed?.transaction.message.instructions).toEqual([
			{
				program: "system",
				programId: SystemProgram.programId,
				parsed: {
					type: "transfer",
					info: {
						source: payer.publicKey.toBase58(),
						destination: recipient.publicKey.toBase58(),
						lamports: 250_000_000,
					},
				},
				stackHeight: null,
			},
		]);
	});

	const cases = [
		{ token: USDC, send: "legacy" as const },
		{ token: PYUSD, send: "v0" as const },
	];
	for (const { token, send } of cases) {
		it(`pays ${token.symbol} in a ${send} transaction with a reference and memo`, async () => {
			const payer = await fundedWallet();
			await confirm(sandbox.solana.mintTokens(payer.publicKey.toBase58(), token.mint, 10_000_000n));
			const merchant = Keypair.generate().publicKey;
			const reference = Keypair.generate().publicKey;
			const instructions = [
				createAtaIdempotent(payer.publicKey, merchant, token),
				transferChecked(payer.publicKey, merchant, token, 2_500_000n, reference),
				memo("invoice 7"),
			];
			const signature =
				send === "legacy"
					? await sendLegacy(payer, ...instructions)
					: await sendV0(payer, ...instructions);

			const found = await connection.getSignaturesForAddress(reference);
			expect(found).toEqual([
				{
					signature,
					slot: expect.any(Number),
					err: null,
					memo: "[9] invoice 7",
					blockTime: expect.any(Number),
					confirmationStatus: "confirmed",
				},
			]);

			const parsed = await connection.getParsedTransaction(signature, {
				maxSupportedTransactionVersion: 0,
			});
			expect(parsed?.version).toBe(send === "legacy" ? "legacy" : 0);
			const keys = parsed?.transaction.message.accountKeys ?? [];
			const indexOf = (key: PublicKey) => keys.findIndex((k) => k.pubkey.equals(key));
			expect(keys[indexOf(reference)]).toEqual({
				pubkey: reference,
				signer: false,
				writable: false,
				source: "transaction",
			});
			const [, transfer, memoIx] = parsed?.transaction.message.instructions ?? [];
			expect(transfer).toEqual({
				program: token === USDC ? "spl-token" : "spl-token-2022",
				programId: new PublicKey(token.programId),
				parsed: {
					type: "transferChecked",
					info: {
						source: ata(payer.publicKey, token).toBase58(),
						mint: token.mint,
						destination: ata(merchant, token).toBase58(),
						authority: payer.publicKey.toBase58(),
						tokenAmount: { amount: "2500000", decimals: 6, uiAmount: 2.5, uiAmountString: "2.5" },
					},
				},
				stackHeight: null,
			});
			expect(memoIx).toEqual({
				program: "spl-memo",
				programId: MEMO_PROGRAM,
				parsed: "invoice 7",
				stackHeight: null,
			});
			const amount = (value: string, ui: number) => ({
				amount: value,
				decimals: 6,
				uiAmount: ui,
				uiAmountString: String(ui),
			});
			const payerIndex = indexOf(ata(payer.publicKey, token));
			const merchantIndex = indexOf(ata(merchant, token));
			expect(parsed?.meta?.preTokenBalances).toEqual([
				{
					accountIndex: payerIndex,
					mint: token.mint,
					owner: payer.publicKey.toBase58(),
					programId: token.programId,
					uiTokenAmount: amount("10000000", 10),
				},
			]);
			expect(
				[...(parsed?.meta?.postTokenBalances ?? [])].sort(
					(a, b) => a.accountIndex - b.accountIndex,
				),
			).toEqual(
				[
					{
						accountIndex: payerIndex,
						mint: token.mint,
						owner: payer.publicKey.toBase58(),
						programId: token.programId,
						uiTokenAmount: amount("7500000", 7.5),
					},
					{
						accountIndex: merchantIndex,
						mint: token.mint,
						owner: merchant.toBase58(),
						programId: token.programId,
						uiTokenAmount: amount("2500000", 2.5),
					},
				].sort((a, b) => a.accountIndex - b.accountIndex),
			);
			const rent = await connection.getMinimumBalanceForRentExemption(token === USDC ? 165 : 170);
			expect(parsed?.meta?.preBalances[0]).toBe(2 * LAMPORTS_PER_SOL);
			expect(parsed?.meta?.postBalances[0]).toBe(2 * LAMPORTS_PER_SOL - 5000 - rent);

			const json = await connection.getTransaction(signature, {
				maxSupportedTransactionVersion: 0,
			});
			const staticKeys = json?.transaction.message.staticAccountKeys ?? [];
			expect(staticKeys.some((k) => k.equals(reference))).toBe(true);
			expect(json?.meta?.postTokenBalances).toEqual(parsed?.meta?.postTokenBalances);
			expect(json?.meta?.logMessages).toContain("Program log: Memo (len 9)");

			const balance = await connection.getTokenAccountBalance(ata(merchant, token));
			expect(balance.value).toEqual(amount("2500000", 2.5));
			const owned = await connection.getParsedTokenAccountsByOwner(merchant, {
				programId: new PublicKey(token.programId),
			});
			expect(owned.value).toHaveLength(1);
			expect(owned.value[0]?.pubkey.equals(ata(merchant, token))).toBe(true);
			expect(owned.value[0]?.account.data.parsed.info.tokenAmount).toEqual(amount("2500000", 2.5));
		});
	}

	it("rejects a v0 transaction read without maxSupportedTransactionVersion", async () => {
		const payer = await fundedWallet();
		const signature = await sendV0(payer, memo("v0 only"));
		await expect(connection.getTransaction(signature)).rejects.toThrow(
			"Transaction version (0) is not supported by the requesting client",
		);
	});
});
