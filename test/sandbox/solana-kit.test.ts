import {
	AccountRole,
	type Address,
	type AddressesByLookupTableAddress,
	address,
	appendTransactionMessageInstructions,
	compressTransactionMessageUsingAddressLookupTables,
	createSolanaRpc,
	createTransactionMessage,
	devnet,
	generateKeyPairSigner,
	getAddressEncoder,
	getBase64EncodedWireTransaction,
	getSignatureFromTransaction,
	type Instruction,
	type KeyPairSigner,
	lamports,
	pipe,
	type Signature,
	setTransactionMessageFeePayerSigner,
	setTransactionMessageLifetimeUsingBlockhash,
	signTransactionMessageWithSigners,
} from "@solana/kit";
import { getAddMemoInstruction, MEMO_PROGRAM_ADDRESS } from "@solana-program/memo";
import { getTransferSolInstruction } from "@solana-program/system";
import {
	findAssociatedTokenPda,
	getCreateAssociatedTokenIdempotentInstruction,
	getTransferCheckedInstruction,
	TOKEN_PROGRAM_ADDRESS,
} from "@solana-program/token";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Sandbox, startSandbox } from "../../sandbox/server.js";
import { PYUSD, type SandboxToken, USDC } from "../../sandbox/solana/tokens.js";
import { rpc as rawRpc } from "./helpers.js";

// A @solana/kit client against the sandbox: every transaction is signed by kit, verified and
// executed by LiteSVM, and read back through the RPC. Slots move only when the test says so.

const ATA_PROGRAM = "ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL";
const LOOKUP_TABLE_PROGRAM = "AddressLookupTab1e1111111111111111111111111";
const SYSTEM_PROGRAM = "11111111111111111111111111111111";

describe("@solana/kit client", () => {
	let sandbox: Sandbox;
	// Typed as a test cluster so requestAirdrop is available, as on a local validator.
	let rpc: ReturnType<typeof createSolanaRpc<ReturnType<typeof devnet>>>;

	beforeAll(async () => {
		sandbox = await startSandbox({
			solanaPort: 0,
			stripePort: 0,
			controlPort: 0,
			solana: { slotMs: 0, confirmedLag: 1, finalizedLag: 3 },
		});
		rpc = createSolanaRpc(devnet(sandbox.urls.solana));
	});
	afterAll(() => sandbox.close());

	/** Polls getSignatureStatuses, producing one slot per miss, until the level is reached. */
	async function confirm(signature: Signature, level: "confirmed" | "finalized" = "confirmed") {
		for (let i = 0; i < 10; i++) {
			const { value } = await rpc.getSignatureStatuses([signature]).send();
			const status = value[0];
			if (status?.confirmationStatus === level || status?.confirmationStatus === "finalized") {
				return status;
			}
			sandbox.solana.advanceSlots(1);
		}
		throw new Error(`${signature} never reached ${level}`);
	}

	async function send(
		payer: KeyPairSigner,
		instructions: Instruction[],
		version: "legacy" | 0 = 0,
		lookupTables: AddressesByLookupTableAddress = {},
	): Promise<Signature> {
		const { value: latest } = await rpc.getLatestBlockhash().send();
		const base = pipe(
			createTransactionMessage({ version }),
			(m) => setTransactionMessageFeePayerSigner(payer, m),
			(m) => setTransactionMessageLifetimeUsingBlockhash(latest, m),
			(m) => appendTransactionMessageInstructions(instructions, m),
		);
		const message =
			version === 0
				? (compressTransactionMessageUsingAddressLookupTables(
						base as typeof base & { version: 0 },
						lookupTables,
					) as typeof base)
				: base;
		const tx = await signTransactionMessageWithSigners(message);
		const signature = getSignatureFromTransaction(tx);
		const sent = await rpc
			.sendTransaction(getBase64EncodedWireTransaction(tx), { encoding: "base64" })
			.send();
		expect(sent).toBe(signature);
		expect((await confirm(signature)).err).toBeNull();
		return signature;
	}

	async function fundedWallet(sol = 2n): Promise<KeyPairSigner> {
		const wallet = await generateKeyPairSigner();
		const signature = await rpc
			.requestAirdrop(wallet.address, lamports(sol * 1_000_000_000n))
			.send();
		await confirm(signature);
		return wallet;
	}

	async function mint(owner: Address, token: SandboxToken, amount: bigint): Promise<void> {
		const res = await rawRpc(sandbox.urls.solana, {
			jsonrpc: "2.0",
			id: 1,
			method: "simulator_mintTokens",
			params: [owner, token.mint, amount.toString()],
		});
		const signature = (res.json as { result: Signature }).result;
		await confirm(signature);
	}

	it("airdrops and transfers SOL with exact balances", async () => {
		const payer = await fundedWallet();
		expect((await rpc.getBalance(payer.address).send()).value).toBe(2_000_000_000n);
		const recipient = await generateKeyPairSigner();
		const signature = await send(
			payer,
			[
				getTransferSolInstruction({
					source: payer,
					destination: recipient.address,
					amount: 500_000_000n,
				}),
			],
			"legacy",
		);
		expect((await rpc.getBalance(payer.address).send()).value).toBe(1_499_995_000n);
		expect((await rpc.getBalance(recipient.address).send()).value).toBe(500_000_000n);

		const tx = await rpc
			.getTransaction(signature, { encoding: "json", maxSupportedTransactionVersion: 0 })
			.send();
		expect(tx?.version).toBe("legacy");
		expect(tx?.meta?.err).toBeNull();
		expect(tx?.meta?.fee).toBe(5000n);
		expect(tx?.meta?.preBalances).toEqual([2_000_000_000n, 0n, 1n]);
		expect(tx?.meta?.postBalances).toEqual([1_499_995_000n, 500_000_000n, 1n]);
		expect(tx?.transaction.message.accountKeys).toEqual([
			payer.address,
			recipient.address,
			SYSTEM_PROGRAM,
		]);
	});

	for (const token of [USDC, PYUSD]) {
		it(`pays ${token.symbol} (${token.programId === TOKEN_PROGRAM_ADDRESS ? "SPL Token" : "Token-2022"}) with a reference and memo, found by reference`, async () => {
			const programAddress = address(token.programId);
			const mintAddress = address(token.mint);
			const payer = await fundedWallet();
			await mint(payer.address, token, 5_000_000n);
			const merchant = await generateKeyPairSigner();
			const reference = (await generateKeyPairSigner()).address;
			const [payerAta] = await findAssociatedTokenPda({
				owner: payer.address,
				mint: mintAddress,
				tokenProgram: programAddress,
			});
			const [merchantAta] = await findAssociatedTokenPda({
				owner: merchant.address,
				mint: mintAddress,
				tokenProgram: programAddress,
			});
			const transfer = getTransferCheckedInstruction(
				{
					source: payerAta,
					mint: mintAddress,
					destination: merchantAta,
					authority: payer,
					amount: 1_250_000n,
					decimals: token.decimals,
				},
				{ programAddress },
			);
			// Solana Pay: the reference rides on the transfer as a read-only, non-signer key.
			const withReference = {
				...transfer,
				accounts: [...transfer.accounts, { address: reference, role: AccountRole.READONLY }],
			};
			const signature = await send(payer, [
				getCreateAssociatedTokenIdempotentInstruction({
					payer,
					ata: merchantAta,
					owner: merchant.address,
					mint: mintAddress,
					tokenProgram: programAddress,
				}),
				withReference,
				getAddMemoInstruction({ memo: "order-42" }),
			]);

			const found = await rpc.getSignaturesForAddress(reference).send();
			expect(found).toEqual([
				{
					signature,
					slot: expect.any(BigInt),
					err: null,
					memo: "[8] order-42",
					blockTime: expect.any(BigInt),
					confirmationStatus: "confirmed",
				},
			]);

			const parsed = await rpc
				.getTransaction(signature, { encoding: "jsonParsed", maxSupportedTransactionVersion: 0 })
				.send();
			expect(parsed?.version).toBe(0);
			const keys = parsed?.transaction.message.accountKeys ?? [];
			const indexOf = (key: string) => keys.findIndex((k) => k.pubkey === key);
			expect(keys[indexOf(reference)]).toEqual({
				pubkey: reference,
				signer: false,
				writable: false,
				source: "transaction",
			});
			expect(keys[0]).toEqual({
				pubkey: payer.address,
				signer: true,
				writable: true,
				source: "transaction",
			});
			expect(parsed?.transaction.message.instructions).toEqual([
				{
					program: "spl-associated-token-account",
					programId: ATA_PROGRAM,
					parsed: {
						type: "createIdempotent",
						info: {
							source: payer.address,
							account: merchantAta,
							wallet: merchant.address,
							mint: token.mint,
							systemProgram: SYSTEM_PROGRAM,
							tokenProgram: token.programId,
						},
					},
					stackHeight: null,
				},
				{
					program: token.programId === TOKEN_PROGRAM_ADDRESS ? "spl-token" : "spl-token-2022",
					programId: token.programId,
					parsed: {
						type: "transferChecked",
						info: {
							source: payerAta,
							mint: token.mint,
							destination: merchantAta,
							authority: payer.address,
							// kit turns every number it has no schema for into a bigint.
							tokenAmount: {
								amount: "1250000",
								decimals: 6n,
								uiAmount: 1.25,
								uiAmountString: "1.25",
							},
						},
					},
					stackHeight: null,
				},
				{
					program: "spl-memo",
					programId: MEMO_PROGRAM_ADDRESS,
					parsed: "order-42",
					stackHeight: null,
				},
			]);
			const balance = (
				index: number,
				owner: string,
				amount: string,
				ui: number,
				uiString: string,
			) => ({
				accountIndex: index,
				mint: token.mint,
				owner,
				programId: token.programId,
				uiTokenAmount: { amount, decimals: 6, uiAmount: ui, uiAmountString: uiString },
			});
			expect(parsed?.meta?.preTokenBalances).toEqual([
				balance(indexOf(payerAta), payer.address, "5000000", 5, "5"),
			]);
			expect(parsed?.meta?.postTokenBalances).toEqual(
				[
					balance(indexOf(payerAta), payer.address, "3750000", 3.75, "3.75"),
					balance(indexOf(merchantAta), merchant.address, "1250000", 1.25, "1.25"),
				].sort((a, b) => a.accountIndex - b.accountIndex),
			);
			// The payer funds the new token account's rent on top of the fee.
			const rent = await rpc
				.getMinimumBalanceForRentExemption(token.programId === TOKEN_PROGRAM_ADDRESS ? 165n : 170n)
				.send();
			expect(parsed?.meta?.preBalances[0]).toBe(2_000_000_000n);
			expect(parsed?.meta?.postBalances[0]).toBe(2_000_000_000n - 5000n - rent);
			expect(parsed?.meta?.postBalances[indexOf(merchantAta)]).toBe(rent);
			expect(parsed?.meta?.preBalances[indexOf(merchantAta)]).toBe(0n);
			expect(parsed?.meta?.innerInstructions?.length).toBe(1);

			const json = await rpc
				.getTransaction(signature, { encoding: "json", maxSupportedTransactionVersion: 0 })
				.send();
			expect(json?.transaction.message.accountKeys).toContain(reference);
			const message = json?.transaction.message as { addressTableLookups?: unknown } | undefined;
			expect(message?.addressTableLookups).toEqual([]);
			expect(json?.meta?.loadedAddresses).toEqual({ writable: [], readonly: [] });
			expect(json?.meta?.postTokenBalances).toEqual(parsed?.meta?.postTokenBalances);

			expect((await rpc.getTokenAccountBalance(merchantAta).send()).value).toEqual({
				amount: "1250000",
				decimals: 6,
				uiAmount: 1.25,
				uiAmountString: "1.25",
			});
			const owned = await rpc
				.getTokenAccountsByOwner(
					merchant.address,
					{ mint: mintAddress },
					{ encoding: "jsonParsed" },
				)
				.send();
			expect(owned.value.map((a) => a.pubkey)).toEqual([merchantAta]);
			expect(owned.value[0]?.account.data.program).toBe(
				token.programId === TOKEN_PROGRAM_ADDRESS ? "spl-token" : "spl-token-2022",
			);
			expect(owned.value[0]?.account.data.parsed.info).toMatchObject({
				mint: token.mint,
				owner: merchant.address,
				state: "initialized",
				tokenAmount: { amount: "1250000", uiAmountString: "1.25" },
			});
		});
	}

	it("reads a v0 transaction only with maxSupportedTransactionVersion", async () => {
		const payer = await fundedWallet(1n);
		const signature = await send(payer, [getAddMemoInstruction({ memo: "v0" })], 0);
		const res = await rawRpc(sandbox.urls.solana, {
			jsonrpc: "2.0",
			id: 1,
			method: "getTransaction",
			params: [signature, { encoding: "json", commitment: "confirmed" }],
		});
		expect(res.json).toEqual({
			jsonrpc: "2.0",
			error: {
				code: -32015,
				message:
					'Transaction version (0) is not supported by the requesting client. Please try the request again with the following configuration parameter: "maxSupportedTransactionVersion": 0',
			},
			id: 1,
		});
		const tx = await rpc
			.getTransaction(signature, { encoding: "base64", maxSupportedTransactionVersion: 0 })
			.send();
		expect(tx?.version).toBe(0);
		expect(tx?.transaction[1]).toBe("base64");
	});

	it("resolves address lookup tables into loadedAddresses and lookupTable keys", async () => {
		const payer = await fundedWallet(1n);
		const recipient = (await generateKeyPairSigner()).address;
		const reference = (await generateKeyPairSigner()).address;
		const table = (await generateKeyPairSigner()).address;
		// An active table (deactivation slot u64::MAX, no authority) holding two addresses.
		const data = new Uint8Array(56 + 64);
		const view = new DataView(data.buffer);
		view.setUint32(0, 1, true);
		view.setBigUint64(4, 0xffff_ffff_ffff_ffffn, true);
		data.set(getAddressEncoder().encode(recipient), 56);
		data.set(getAddressEncoder().encode(reference), 88);
		sandbox.solana.chain.writeAccount(table, {
			lamports: sandbox.solana.chain.rentExempt(data.length),
			data,
			owner: LOOKUP_TABLE_PROGRAM,
			executable: false,
		});
		const transfer = getTransferSolInstruction({
			source: payer,
			destination: recipient,
			amount: 1_000_000n,
		});
		const signature = await send(
			payer,
			[
				{
					...transfer,
					accounts: [...transfer.accounts, { address: reference, role: AccountRole.READONLY }],
				},
			],
			0,
			{ [table]: [recipient, reference] },
		);

		const json = await rpc
			.getTransaction(signature, { encoding: "json", maxSupportedTransactionVersion: 0 })
			.send();
		expect(json?.transaction.message.accountKeys).toEqual([payer.address, SYSTEM_PROGRAM]);
		expect(
			(json?.transaction.message as { addressTableLookups?: unknown } | undefined)
				?.addressTableLookups,
		).toEqual([{ accountKey: table, writableIndexes: [0], readonlyIndexes: [1] }]);
		expect(json?.meta?.loadedAddresses).toEqual({ writable: [recipient], readonly: [reference] });
		expect(json?.meta?.postBalances).toEqual([998_995_000n, 1n, 1_000_000n, 0n]);

		const parsed = await rpc
			.getTransaction(signature, { encoding: "jsonParsed", maxSupportedTransactionVersion: 0 })
			.send();
		expect(parsed?.transaction.message.accountKeys.slice(2)).toEqual([
			{ pubkey: recipient, signer: false, writable: true, source: "lookupTable" },
			{ pubkey: reference, signer: false, writable: false, source: "lookupTable" },
		]);
		expect((await rpc.getSignaturesForAddress(reference).send()).map((s) => s.signature)).toEqual([
			signature,
		]);
	});
});
