import {
	Keypair,
	LAMPORTS_PER_SOL,
	PublicKey,
	SystemProgram,
	Transaction,
	TransactionInstruction,
} from "@solana/web3.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Sandbox, startSandbox } from "../../sandbox/server.js";
import { GENESIS_HASH } from "../../sandbox/solana/chain.js";
import { toBase58 } from "../../sandbox/solana/encoding.js";
import { type SolanaTestRpc, solanaTestRpc } from "../../sandbox/solana/testing.js";
import { FAKE_USDC, SANDBOX_MINT_AUTHORITY, USDC } from "../../sandbox/solana/tokens.js";

// Signature history paging, account encodings and parameter errors, over raw JSON-RPC.

const MEMO_PROGRAM = "MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr";

describe("Solana accounts and history", () => {
	let sandbox: Sandbox;
	let call: SolanaTestRpc["call"];
	let callError: SolanaTestRpc["error"];

	beforeAll(async () => {
		sandbox = await startSandbox({
			solanaPort: 0,
			stripePort: 0,
			controlPort: 0,
			solana: { slotMs: 0, confirmedLag: 1, finalizedLag: 3 },
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

	describe("getSignaturesForAddress", () => {
		it("pages newest first with limit, before and until, and indexes read-only keys", async () => {
			const payer = await funded();
			const reference = Keypair.generate().publicKey;
			const signatures: string[] = [];
			for (let i = 0; i < 5; i++) {
				// The reference rides on the transfer (the memo program wants only signers).
				const pay = SystemProgram.transfer({
					fromPubkey: payer.publicKey,
					toPubkey: Keypair.generate().publicKey,
					lamports: 1_000_000,
				});
				pay.keys.push({ pubkey: reference, isSigner: false, isWritable: false });
				const memo = new TransactionInstruction({
					programId: new PublicKey(MEMO_PROGRAM),
					keys: [],
					data: Buffer.from(`n${i}`),
				});
				const { blockhash } = await latest();
				const tx = new Transaction({ feePayer: payer.publicKey, recentBlockhash: blockhash }).add(
					pay,
					memo,
				);
				tx.sign(payer);
				signatures.push(await call<string>("sendTransaction", [b64(tx), { encoding: "base64" }]));
				sandbox.solana.advanceSlots(1);
			}
			const newestFirst = [...signatures].reverse();
			const page = async (config: Record<string, unknown>) =>
				await call<{ signature: string; memo: string }[]>("getSignaturesForAddress", [
					reference.toBase58(),
					{ commitment: "confirmed", ...config },
				]);
			const all = await page({});
			expect(all.map((s) => s.signature)).toEqual(newestFirst);
			expect(all.map((s) => s.memo)).toEqual(["[2] n4", "[2] n3", "[2] n2", "[2] n1", "[2] n0"]);
			expect((await page({ limit: 2 })).map((s) => s.signature)).toEqual(newestFirst.slice(0, 2));
			expect((await page({ limit: 2, before: newestFirst[1] })).map((s) => s.signature)).toEqual(
				newestFirst.slice(2, 4),
			);
			expect((await page({ until: newestFirst[2] })).map((s) => s.signature)).toEqual(
				newestFirst.slice(0, 2),
			);
			expect(
				(await page({ before: newestFirst[0], until: newestFirst[3] })).map((s) => s.signature),
			).toEqual(newestFirst.slice(1, 3));
			expect(await page({ before: toBase58(new Uint8Array(64).fill(7)) })).toEqual([]);
			for (const limit of [0, 1001]) {
				expect(
					await callError("getSignaturesForAddress", [reference.toBase58(), { limit }]),
				).toEqual({
					code: -32602,
					message: "Invalid limit; max 1000",
				});
			}
		});
	});

	describe("accounts", () => {
		it("encodes the USDC mint as base64, base58 and jsonParsed", async () => {
			const info = async (encoding?: string) =>
				(
					await call<{ value: Record<string, unknown> }>("getAccountInfo", [
						USDC.mint,
						encoding ? { encoding } : {},
					])
				).value;
			const base64 = await info("base64");
			expect(base64).toMatchObject({
				executable: false,
				lamports: 1_461_600,
				owner: USDC.programId,
				space: 82,
			});
			const data = Buffer.from((base64.data as string[])[0] ?? "", "base64");
			expect(data.length).toBe(82);
			expect(toBase58(data.subarray(4, 36))).toBe(SANDBOX_MINT_AUTHORITY);
			expect((await info("base58")).data).toEqual([toBase58(data), "base58"]);
			expect((await info()).data).toBe(toBase58(data));
			expect((await info("jsonParsed")).data).toEqual({
				program: "spl-token",
				parsed: {
					type: "mint",
					info: {
						decimals: 6,
						freezeAuthority: SANDBOX_MINT_AUTHORITY,
						isInitialized: true,
						mintAuthority: SANDBOX_MINT_AUTHORITY,
						supply: expect.any(String),
					},
				},
				space: 82,
			});
			const sliced = await call<{ value: { data: string[] } }>("getAccountInfo", [
				USDC.mint,
				{ encoding: "base64", dataSlice: { offset: 44, length: 2 } },
			]);
			expect(sliced.value.data).toEqual([Buffer.from([6, 1]).toString("base64"), "base64"]);
		});

		it("reads token accounts, balances and owners, refusing base58 for large data", async () => {
			const owner = Keypair.generate().publicKey.toBase58();
			sandbox.solana.confirm(sandbox.solana.mintTokens(owner, FAKE_USDC.mint, "1230000"));
			const [account] = (
				await call<{ value: { pubkey: string; account: { data: unknown } }[] }>(
					"getTokenAccountsByOwner",
					[
						owner,
						{ programId: FAKE_USDC.programId },
						{ encoding: "jsonParsed", commitment: "confirmed" },
					],
				)
			).value;
			expect(account?.account.data).toEqual({
				program: "spl-token",
				parsed: {
					type: "account",
					info: {
						isNative: false,
						mint: FAKE_USDC.mint,
						owner,
						state: "initialized",
						tokenAmount: { amount: "1230000", decimals: 6, uiAmount: 1.23, uiAmountString: "1.23" },
					},
				},
				space: 165,
			});
			const pubkey = account?.pubkey ?? "";
			expect(
				await callError("getAccountInfo", [
					pubkey,
					{ encoding: "base58", commitment: "confirmed" },
				]),
			).toEqual({
				code: -32602,
				message:
					"Encoded binary (base 58) data should be less than 128 bytes, please use Base64 encoding.",
			});
			expect(
				(
					await call<{ value: unknown[] }>("getTokenAccountsByOwner", [
						owner,
						{ mint: USDC.mint },
						{ encoding: "base64" },
					])
				).value,
			).toEqual([]);
			expect(await callError("getTokenAccountsByOwner", [owner, { mint: owner }])).toEqual({
				code: -32602,
				message: "Invalid param: could not find mint",
			});
			expect(
				await callError("getTokenAccountsByOwner", [owner, { programId: MEMO_PROGRAM }]),
			).toEqual({
				code: -32602,
				message: "Invalid param: unrecognized Token program id",
			});
			expect(await callError("getTokenAccountBalance", [owner])).toEqual({
				code: -32602,
				message: "Invalid param: could not find account",
			});
			expect(await callError("getTokenAccountBalance", [USDC.mint])).toEqual({
				code: -32602,
				message: "Invalid param: not a Token account",
			});
			const multiple = await call<{ value: unknown[] }>("getMultipleAccounts", [
				[pubkey, owner],
				{ encoding: "base64", commitment: "confirmed" },
			]);
			expect(multiple.value[1]).toBeNull();
			expect(multiple.value[0]).toMatchObject({ owner: FAKE_USDC.programId, space: 165 });
			const supply = async (commitment: string) =>
				(await call<{ value: unknown }>("getTokenSupply", [FAKE_USDC.mint, { commitment }])).value;
			expect(await supply("confirmed")).toEqual({
				amount: "1230000",
				decimals: 6,
				uiAmount: 1.23,
				uiAmountString: "1.23",
			});
			expect(await supply("finalized")).toEqual({
				amount: "0",
				decimals: 6,
				uiAmount: 0,
				uiAmountString: "0",
			});
		});

		it("serves cluster constants", async () => {
			expect(await call("getGenesisHash")).toBe(GENESIS_HASH);
			expect(await call("getMinimumBalanceForRentExemption", [0])).toBe(890_880);
			expect(await call("getMinimumBalanceForRentExemption", [165])).toBe(2_039_280);
			expect(await call("getEpochInfo", [{ commitment: "processed" }])).toMatchObject({
				absoluteSlot: slot(),
				epoch: 0,
			});
		});
	});

	describe("invalid params", () => {
		it.each([
			["getBalance", [], "`params` should have at least 1 argument(s)"],
			["getBalance", [5], "Invalid params: invalid type: integer `5`, expected a string."],
			["getBalance", ["0OIl"], "Invalid param: Invalid"],
			["getBalance", ["abc"], "Invalid param: WrongSize"],
			[
				"getBalance",
				[USDC.mint, { commitment: "max" }],
				"Invalid params: unknown variant `max`, expected one of `processed`, `confirmed`, `finalized`.",
			],
			["getTransaction", ["abc"], "Invalid param: WrongSize"],
			[
				"getTransaction",
				[toBase58(new Uint8Array(64)), { encoding: "binary" }],
				"Invalid params: unknown variant `binary`, expected one of `json`, `jsonParsed`, `base64`, `base58`.",
			],
			["sendTransaction", ["###", { encoding: "base64" }], 'invalid base64 encoding: "###"'],
			[
				"sendTransaction",
				["AQ==", { encoding: "base64" }],
				"failed to deserialize solana_transaction::versioned::VersionedTransaction: io error: failed to fill whole buffer",
			],
			[
				"sendTransaction",
				["AQ==", { encoding: "json" }],
				"unsupported encoding: json. Supported encodings: base58, base64",
			],
			[
				"getSignatureStatuses",
				[Array(257).fill(toBase58(new Uint8Array(64)))],
				"Too many inputs provided; max 256",
			],
			["getMultipleAccounts", [Array(101).fill(USDC.mint)], "Too many inputs provided; max 100"],
			[
				"requestAirdrop",
				[USDC.mint, -1],
				"Invalid params: invalid type: integer `-1`, expected u64.",
			],
			[
				"simulator_mintTokens",
				[USDC.mint, MEMO_PROGRAM, "1"],
				`Invalid param: ${MEMO_PROGRAM} is not a token mint`,
			],
			[
				"simulator_mintTokens",
				[USDC.mint, USDC.mint, "1.5"],
				'Invalid params: invalid type: string "1.5", expected an amount in base units (decimal string or integer).',
			],
		])("%s %# → -32602", async (method, params, message) => {
			expect(await callError(method, params)).toEqual({ code: -32602, message });
		});
	});
});
