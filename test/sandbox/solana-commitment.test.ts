import {
	Keypair,
	LAMPORTS_PER_SOL,
	type PublicKey,
	SystemProgram,
	Transaction,
	type TransactionInstruction,
} from "@solana/web3.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Sandbox, startSandbox } from "../../sandbox/server.js";
import { toBase58 } from "../../sandbox/solana/encoding.js";
import { type SolanaTestRpc, solanaTestRpc } from "../../sandbox/solana/testing.js";

// Commitment, blockhash expiry, preflight errors and simulation, over raw JSON-RPC.

const NOW_MS = 1_750_000_000_000;

describe("Solana commitment and preflight", () => {
	let sandbox: Sandbox;
	let call: SolanaTestRpc["call"];
	let callError: SolanaTestRpc["error"];

	beforeAll(async () => {
		sandbox = await startSandbox({
			solanaPort: 0,
			stripePort: 0,
			controlPort: 0,
			solana: { slotMs: 0, confirmedLag: 1, finalizedLag: 3, now: () => NOW_MS },
		});
		({ call, error: callError } = solanaTestRpc(sandbox.urls.solana));
	});
	afterAll(() => sandbox.close());

	const slot = () => sandbox.solana.slot;

	async function funded(lamports = LAMPORTS_PER_SOL): Promise<Keypair> {
		const wallet = Keypair.generate();
		sandbox.solana.confirm(sandbox.solana.airdrop(wallet.publicKey.toBase58(), lamports));
		return wallet;
	}

	function transfer(
		payer: Keypair,
		to: PublicKey,
		lamports: number,
		blockhash: string,
		...extra: TransactionInstruction[]
	) {
		const tx = new Transaction({ feePayer: payer.publicKey, recentBlockhash: blockhash });
		tx.add(
			SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: to, lamports }),
			...extra,
		);
		tx.sign(payer);
		return tx;
	}

	async function latest(
		commitment = "processed",
	): Promise<{ blockhash: string; lastValidBlockHeight: number }> {
		return (
			await call<{ value: { blockhash: string; lastValidBlockHeight: number } }>(
				"getLatestBlockhash",
				[{ commitment }],
			)
		).value;
	}

	const b64 = (tx: Transaction) => tx.serialize().toString("base64");

	describe("commitment", () => {
		it("moves a transaction from processed to confirmed to finalized as slots pass", async () => {
			const wallet = Keypair.generate();
			const address = wallet.publicKey.toBase58();
			const start = slot();
			const signature = await call<string>("requestAirdrop", [address, 5_000_000]);
			const status = async () =>
				(await call<{ value: unknown[] }>("getSignatureStatuses", [[signature]])).value[0];
			const balance = async (commitment: string) =>
				(await call<{ value: number }>("getBalance", [address, { commitment }])).value;
			const fetchTx = (commitment: string) =>
				call<{ slot: number } | null>("getTransaction", [signature, { commitment }]);
			const listed = async (commitment: string) =>
				(
					await call<{ signature: string }[]>("getSignaturesForAddress", [address, { commitment }])
				).map((s) => s.signature);

			expect(await status()).toEqual({
				slot: start,
				confirmations: 0,
				err: null,
				status: { Ok: null },
				confirmationStatus: "processed",
			});
			expect(await balance("processed")).toBe(5_000_000);
			expect(await balance("confirmed")).toBe(0);
			expect(await balance("finalized")).toBe(0);
			expect(await fetchTx("confirmed")).toBeNull();
			expect(await listed("confirmed")).toEqual([]);
			expect(await callError("getTransaction", [signature, { commitment: "processed" }])).toEqual({
				code: -32602,
				message: "Method does not support commitment below `confirmed`",
			});

			sandbox.solana.advanceSlots(1);
			expect(await status()).toMatchObject({ confirmations: 1, confirmationStatus: "confirmed" });
			expect(await balance("confirmed")).toBe(5_000_000);
			expect(await balance("finalized")).toBe(0);
			expect((await fetchTx("confirmed"))?.slot).toBe(start);
			expect(await fetchTx("finalized")).toBeNull();
			expect(await listed("confirmed")).toEqual([signature]);
			expect(await listed("finalized")).toEqual([]);

			sandbox.solana.advanceSlots(2);
			expect(await status()).toMatchObject({
				confirmations: null,
				confirmationStatus: "finalized",
			});
			expect(await balance("finalized")).toBe(5_000_000);
			expect((await fetchTx("finalized"))?.slot).toBe(start);
			expect(await listed("finalized")).toEqual([signature]);
		});

		it("reports slots, block heights and blockhashes per commitment", async () => {
			sandbox.solana.advanceSlots(4);
			const tip = slot();
			expect(await call("getSlot", [{ commitment: "processed" }])).toBe(tip);
			expect(await call("getSlot", [{ commitment: "confirmed" }])).toBe(tip - 1);
			expect(await call("getSlot")).toBe(tip - 3);
			expect(await call("getBlockHeight", [{ commitment: "processed" }])).toBe(tip);
			const finalized = await call<{ context: { slot: number }; value: unknown }>(
				"getLatestBlockhash",
			);
			expect(finalized.context).toEqual({ apiVersion: "2.2.0", slot: tip - 3 });
			expect(finalized.value).toEqual({
				blockhash: sandbox.solana.chain.clock.blockhashAt(tip - 3),
				lastValidBlockHeight: tip - 3 + 150,
			});
			const processed = await latest();
			expect(processed.blockhash).toBe(sandbox.solana.chain.latestBlockhash());
			expect(processed.blockhash).not.toBe(finalized.value);
			// A processed blockhash is unknown to the finalized bank until it finalizes.
			const valid = async (commitment: string) =>
				(await call<{ value: boolean }>("isBlockhashValid", [processed.blockhash, { commitment }]))
					.value;
			expect(await valid("processed")).toBe(true);
			expect(await valid("finalized")).toBe(false);
			expect(
				await callError("getSlot", [{ commitment: "processed", minContextSlot: tip + 1 }]),
			).toEqual({
				code: -32016,
				message: "Minimum context slot has not been reached",
				data: { contextSlot: tip },
			});
		});

		it("stamps block times from the sandbox clock", async () => {
			const wallet = await funded();
			const [entry] = await call<{ blockTime: number }[]>("getSignaturesForAddress", [
				wallet.publicKey.toBase58(),
				{ commitment: "confirmed" },
			]);
			expect(entry?.blockTime).toBe(NOW_MS / 1000);
			expect(await call("getBlockTime", [slot()])).toBe(NOW_MS / 1000);
		});
	});

	describe("blockhashes and preflight", () => {
		it("accepts recent blockhashes and rejects expired ones with BlockhashNotFound", async () => {
			const payer = await funded();
			const to = Keypair.generate().publicKey;
			const old = await latest();
			expect(old.lastValidBlockHeight).toBe(slot() + 150);
			sandbox.solana.advanceSlots(2);
			expect((await latest()).blockhash).not.toBe(old.blockhash);
			// Two slots old is fine: the window is 150 blocks, not LiteSVM's single hash.
			const fresh = await call<string>("sendTransaction", [
				b64(transfer(payer, to, 1_000_000, old.blockhash)),
				{ encoding: "base64" },
			]);
			expect(sandbox.solana.chain.ledger.get(fresh)?.err).toBeNull();

			sandbox.solana.advanceSlots(149);
			const stale = transfer(payer, to, 2_000_000, old.blockhash);
			expect(
				(
					await call<{ value: boolean }>("isBlockhashValid", [
						old.blockhash,
						{ commitment: "processed" },
					])
				).value,
			).toBe(false);
			expect(await callError("sendTransaction", [b64(stale), { encoding: "base64" }])).toEqual({
				code: -32002,
				message: "Transaction simulation failed: Blockhash not found",
				data: {
					err: "BlockhashNotFound",
					logs: [],
					accounts: null,
					unitsConsumed: 0,
					returnData: null,
					innerInstructions: null,
					replacementBlockhash: null,
				},
			});
			// With skipPreflight the node takes it and it simply never lands.
			const dropped = await call<string>("sendTransaction", [
				b64(stale),
				{ encoding: "base64", skipPreflight: true },
			]);
			expect(dropped).toBe(toBase58(stale.signature ?? new Uint8Array()));
			sandbox.solana.advanceSlots(3);
			expect((await call<{ value: unknown[] }>("getSignatureStatuses", [[dropped]])).value).toEqual(
				[null],
			);
			const message = stale.compileMessage().serialize().toString("base64");
			expect(
				(await call<{ value: unknown }>("getFeeForMessage", [message, { commitment: "processed" }]))
					.value,
			).toBeNull();
			const current = transfer(payer, to, 2_000_000, (await latest()).blockhash);
			const fee = await call<{ value: unknown }>("getFeeForMessage", [
				current.compileMessage().serialize().toString("base64"),
				{ commitment: "processed" },
			]);
			expect(fee.value).toBe(5000);
		});

		it("reports failed preflight like the cluster and lands failures with skipPreflight", async () => {
			const payer = await funded(1_000_000);
			const to = Keypair.generate().publicKey;
			const { blockhash } = await latest();
			const tooMuch = transfer(payer, to, 5_000_000, blockhash);
			expect(await callError("sendTransaction", [b64(tooMuch), { encoding: "base64" }])).toEqual({
				code: -32002,
				message:
					"Transaction simulation failed: Error processing Instruction 0: custom program error: 0x1",
				data: {
					err: { InstructionError: [0, { Custom: 1 }] },
					logs: [
						"Program 11111111111111111111111111111111 invoke [1]",
						"Transfer: insufficient lamports 995000, need 5000000",
						"Program 11111111111111111111111111111111 failed: custom program error: 0x1",
					],
					accounts: null,
					unitsConsumed: 150,
					returnData: null,
					innerInstructions: null,
					replacementBlockhash: null,
				},
			});
			const signature = await call<string>("sendTransaction", [
				b64(tooMuch),
				{ encoding: "base64", skipPreflight: true },
			]);
			sandbox.solana.advanceSlots(1);
			const err = { InstructionError: [0, { Custom: 1 }] };
			expect(
				(await call<{ value: unknown[] }>("getSignatureStatuses", [[signature]])).value[0],
			).toMatchObject({ err, status: { Err: err } });
			const tx = await call<{ meta: Record<string, unknown> }>("getTransaction", [
				signature,
				{ commitment: "confirmed" },
			]);
			expect(tx.meta).toMatchObject({
				err,
				status: { Err: err },
				fee: 5000,
				preBalances: [1_000_000, 0, 1],
				postBalances: [995_000, 0, 1],
			});
			const [listed] = await call<{ err: unknown }[]>("getSignaturesForAddress", [
				to.toBase58(),
				{ commitment: "confirmed" },
			]);
			expect(listed?.err).toEqual(err);
			// Resending a landed transaction is refused by preflight.
			expect(
				(await callError("sendTransaction", [b64(tooMuch), { encoding: "base64" }])).message,
			).toBe("Transaction simulation failed: This transaction has already been processed");
		});

		it("refuses a tampered signature and decodes base58 payloads", async () => {
			const payer = await funded();
			const tx = transfer(
				payer,
				Keypair.generate().publicKey,
				1_000_000,
				(await latest()).blockhash,
			);
			const bytes = tx.serialize();
			const tampered = Buffer.from(bytes);
			tampered[5] = (tampered[5] ?? 0) ^ 0xff;
			expect(
				await callError("sendTransaction", [tampered.toString("base64"), { encoding: "base64" }]),
			).toEqual({
				code: -32003,
				message: "Transaction signature verification failure",
			});
			expect(await call("sendTransaction", [toBase58(bytes)])).toBe(
				toBase58(tx.signature ?? new Uint8Array()),
			);
		});

		it("simulates unsigned transactions, replaces blockhashes and returns accounts", async () => {
			const payer = await funded();
			const to = Keypair.generate().publicKey;
			const old = await latest();
			sandbox.solana.advanceSlots(151);
			const unsigned = new Transaction({
				feePayer: payer.publicKey,
				recentBlockhash: old.blockhash,
			}).add(
				SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: to, lamports: 1_000_000 }),
			);
			const wire = unsigned
				.serialize({ requireAllSignatures: false, verifySignatures: false })
				.toString("base64");
			const stale = await call<{ value: { err: unknown } }>("simulateTransaction", [
				wire,
				{ encoding: "base64" },
			]);
			expect(stale.value.err).toBe("BlockhashNotFound");
			const result = await call<{ context: { slot: number }; value: Record<string, unknown> }>(
				"simulateTransaction",
				[
					wire,
					{
						encoding: "base64",
						replaceRecentBlockhash: true,
						accounts: { addresses: [to.toBase58()], encoding: "base64" },
					},
				],
			);
			expect(result.context.slot).toBe(slot());
			expect(result.value).toEqual({
				err: null,
				logs: [
					"Program 11111111111111111111111111111111 invoke [1]",
					"Program 11111111111111111111111111111111 success",
				],
				accounts: [
					{
						data: ["", "base64"],
						executable: false,
						lamports: 1_000_000,
						owner: "11111111111111111111111111111111",
						rentEpoch: 18446744073709552000,
						space: 0,
					},
				],
				unitsConsumed: 150,
				returnData: null,
				innerInstructions: null,
				replacementBlockhash: {
					blockhash: sandbox.solana.chain.latestBlockhash(),
					lastValidBlockHeight: slot() + 150,
				},
			});
			// Nothing was committed.
			expect(
				(await call<{ value: number }>("getBalance", [to.toBase58(), { commitment: "processed" }]))
					.value,
			).toBe(0);
			expect(
				await callError("simulateTransaction", [
					wire,
					{ encoding: "base64", sigVerify: true, replaceRecentBlockhash: true },
				]),
			).toEqual({
				code: -32602,
				message: "sigVerify may not be used with replaceRecentBlockhash",
			});
		});
	});
});
