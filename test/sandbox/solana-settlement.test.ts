import { type Address, address, createSolanaRpc } from "@solana/kit";
import { Keypair } from "@solana/web3.js";
import { findAssociatedTokenPda } from "@solana-program/token";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_SETTLEMENT_WALLET, readSettlementWallets } from "../../sandbox/config.js";
import { type Sandbox, startSandbox } from "../../sandbox/server.js";
import { type SolanaTestRpc, solanaTestRpc } from "../../sandbox/solana/testing.js";
import {
	FAKE_USDC,
	PYUSD,
	SANDBOX_FAUCET,
	type SandboxToken,
	USDC,
} from "../../sandbox/solana/tokens.js";

// The settlement wallet's associated token accounts exist from the first request, as they would
// for a merchant on a real cluster, so a Solana Pay transfer to it finds its recipient.

const ATA_PROGRAM = "ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL";
const WALLET_A = Keypair.generate().publicKey.toBase58();
const WALLET_B = Keypair.generate().publicKey.toBase58();

async function ataOf(wallet: string, token: SandboxToken): Promise<Address> {
	const [ata] = await findAssociatedTokenPda({
		owner: address(wallet),
		mint: address(token.mint),
		tokenProgram: address(token.programId),
	});
	return ata;
}

function start(settlementWallets?: string[]): Promise<Sandbox> {
	return startSandbox({
		solanaPort: 0,
		stripePort: 0,
		controlPort: 0,
		solana: { slotMs: 0, confirmedLag: 1, finalizedLag: 3 },
		...(settlementWallets ? { settlementWallets } : {}),
	});
}

describe("settlement wallets' token accounts", () => {
	let sandbox: Sandbox;
	let call: SolanaTestRpc["call"];
	let callError: SolanaTestRpc["error"];

	beforeAll(async () => {
		sandbox = await start();
		({ call, error: callError } = solanaTestRpc(sandbox.urls.solana));
	});
	afterAll(() => sandbox.close());

	it.each([USDC, PYUSD])(
		"opens the development wallet's $symbol account before the RPC answers, final at once",
		async (token) => {
			const ata = await ataOf(DEV_SETTLEMENT_WALLET, token);
			// Default commitment (finalized): readable by the first request a gateway makes.
			const balance = await createSolanaRpc(sandbox.urls.solana).getTokenAccountBalance(ata).send();
			expect(balance.value).toMatchObject({ amount: "0", decimals: token.decimals });
			const info = await call<{ value: { owner: string } | null }>("getAccountInfo", [
				ata,
				{ encoding: "jsonParsed" },
			]);
			expect(info.value).toMatchObject({
				owner: token.programId,
				data: {
					parsed: {
						type: "account",
						info: { mint: token.mint, owner: DEV_SETTLEMENT_WALLET, state: "initialized" },
					},
				},
			});
		},
	);

	it("creates them in a real transaction the faucet pays for, in the chain's history", async () => {
		const usdc = await ataOf(DEV_SETTLEMENT_WALLET, USDC);
		const pyusd = await ataOf(DEV_SETTLEMENT_WALLET, PYUSD);
		const [entry, ...rest] = await call<{ signature: string; err: unknown }[]>(
			"getSignaturesForAddress",
			[usdc],
		);
		expect(rest).toEqual([]);
		expect(entry?.err).toBeNull();
		const tx = await call<{
			transaction: {
				message: {
					accountKeys: { pubkey: string; signer: boolean }[];
					instructions: { programId: string; parsed: { type: string; info: unknown } }[];
				};
			};
		}>("getTransaction", [entry?.signature, { encoding: "jsonParsed" }]);
		const { accountKeys, instructions } = tx.transaction.message;
		expect(accountKeys.filter((k) => k.signer).map((k) => k.pubkey)).toEqual([SANDBOX_FAUCET]);
		expect(instructions).toEqual([
			expect.objectContaining({
				programId: ATA_PROGRAM,
				parsed: {
					type: "createIdempotent",
					info: expect.objectContaining({
						source: SANDBOX_FAUCET,
						account: usdc,
						wallet: DEV_SETTLEMENT_WALLET,
						mint: USDC.mint,
					}),
				},
			}),
			expect.objectContaining({
				parsed: expect.objectContaining({
					info: expect.objectContaining({ account: pyusd, mint: PYUSD.mint }),
				}),
			}),
		]);
	});

	it("leaves out the look-alike mint and gives the wallet itself no SOL", async () => {
		const fake = await ataOf(DEV_SETTLEMENT_WALLET, FAKE_USDC);
		expect(await call("getAccountInfo", [fake])).toMatchObject({ value: null });
		expect(await call("getBalance", [DEV_SETTLEMENT_WALLET])).toMatchObject({ value: 0 });
	});

	it("simulator_createSettlementAccounts opens another wallet's accounts, once", async () => {
		const first = await call<{ signature: string | null; accounts: unknown[] }>(
			"simulator_createSettlementAccounts",
			[WALLET_A],
		);
		expect(first.signature).toEqual(expect.any(String));
		expect(first).toEqual({
			wallet: WALLET_A,
			accounts: [
				{ mint: USDC.mint, programId: USDC.programId, address: await ataOf(WALLET_A, USDC) },
				{ mint: PYUSD.mint, programId: PYUSD.programId, address: await ataOf(WALLET_A, PYUSD) },
			],
			signature: first.signature,
		});
		const again = await call("simulator_createSettlementAccounts", [WALLET_A]);
		expect(again).toEqual({ ...first, signature: null });
		sandbox.solana.confirm(first.signature ?? "", "finalized");
		const balance = await call("getTokenAccountBalance", [await ataOf(WALLET_A, PYUSD)]);
		expect(balance).toMatchObject({ value: { amount: "0" } });
		expect(await callError("simulator_createSettlementAccounts", ["not-a-key"])).toEqual({
			code: -32602,
			message: "Invalid param: Invalid",
		});
	});

	it("opens them again after a reset", async () => {
		await call("simulator_reset");
		const ata = await ataOf(DEV_SETTLEMENT_WALLET, USDC);
		expect(await call("getTokenAccountBalance", [ata])).toMatchObject({ value: { amount: "0" } });
		// A wallet added later is not part of the start state.
		expect(await call("getAccountInfo", [await ataOf(WALLET_A, USDC)])).toMatchObject({
			value: null,
		});
	});
});

describe("settlementWallets option and SOLANA_SETTLEMENT_WALLETS", () => {
	it("opens the accounts of the wallets it is given, instead of the development wallet", async () => {
		const sandbox = await start([WALLET_A, WALLET_B]);
		try {
			const { call } = solanaTestRpc(sandbox.urls.solana);
			for (const wallet of [WALLET_A, WALLET_B]) {
				for (const token of [USDC, PYUSD]) {
					const balance = await call("getTokenAccountBalance", [await ataOf(wallet, token)]);
					expect(balance).toMatchObject({ value: { amount: "0" } });
				}
			}
			const dev = await ataOf(DEV_SETTLEMENT_WALLET, USDC);
			expect(await call("getAccountInfo", [dev])).toMatchObject({ value: null });
		} finally {
			await sandbox.close();
		}
	});

	it("refuses a wallet that is not a public key", async () => {
		await expect(start(["not-a-key"])).rejects.toThrow(
			'settlementWallets: "not-a-key" is not a public key',
		);
	});

	it("reads the comma-separated variable, leaving the default when it is unset", () => {
		expect(readSettlementWallets({})).toBeUndefined();
		expect(readSettlementWallets({ SOLANA_SETTLEMENT_WALLETS: " " })).toBeUndefined();
		expect(
			readSettlementWallets({ SOLANA_SETTLEMENT_WALLETS: `${WALLET_A}, ${WALLET_B}` }),
		).toEqual([WALLET_A, WALLET_B]);
		expect(() => readSettlementWallets({ SOLANA_SETTLEMENT_WALLETS: `${WALLET_A},,` })).toThrow(
			'SOLANA_SETTLEMENT_WALLETS must be comma-separated base58 addresses, got ""',
		);
	});
});
