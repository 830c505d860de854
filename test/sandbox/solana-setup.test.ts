import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getBase58Decoder } from "@solana/kit";
import { Keypair } from "@solana/web3.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Sandbox, startSandbox } from "../../sandbox/server.js";
import { associatedTokenAddress } from "../../sandbox/solana/keys.js";
import { FAKE_USDC, PYUSD, USDC } from "../../sandbox/solana/tokens.js";
import { runSolanaSetup } from "../../scripts/solana-setup.js";
import { rpc } from "./helpers.js";

// `npm run solana:setup` against a sandbox whose slots move on a clock, as a cluster's do: the
// script sends, polls until confirmed, and a second run finds everything in place.

const PYUSD_EXTRA = JSON.stringify([
	{
		symbol: "PYUSD",
		mint: PYUSD.mint,
		decimals: 6,
		program: PYUSD.programId,
		usd_feed_id: "eaa020c61cc479712813461ce153894a96a6c00b21ed0cfc2798d1f9a9e9c94a",
	},
]);

describe("npm run solana:setup", () => {
	let sandbox: Sandbox;
	let dir: string;

	beforeAll(async () => {
		sandbox = await startSandbox({
			solanaPort: 0,
			stripePort: 0,
			controlPort: 0,
			solana: { slotMs: 10, confirmedLag: 1, finalizedLag: 3 },
		});
		dir = await mkdtemp(join(tmpdir(), "sp-solana-setup-"));
	});
	afterAll(async () => {
		await sandbox.close();
		await rm(dir, { recursive: true, force: true });
	});

	/** A fresh wallet, funded and confirmed, with its key in the Worker secret's format. */
	function wallet(lamports = 1_000_000_000): { address: string; key: string; keypair: Keypair } {
		const keypair = Keypair.generate();
		const address = keypair.publicKey.toBase58();
		if (lamports > 0) sandbox.solana.confirm(sandbox.solana.airdrop(address, BigInt(lamports)));
		return { address, key: getBase58Decoder().decode(keypair.secretKey), keypair };
	}

	async function run(argv: string[], env: NodeJS.ProcessEnv) {
		let stdout = "";
		let stderr = "";
		const code = await runSolanaSetup(argv, {
			env: { SOLANA_RPC_URL: sandbox.urls.solana, ...env },
			stdout: (text) => {
				stdout += text;
			},
			stderr: (text) => {
				stderr += text;
			},
			pollMs: 5,
		});
		return { code, stdout, stderr };
	}

	const lamportsOf = (address: string) => sandbox.solana.chain.current(address)?.lamports ?? 0n;

	async function accountOwner(address: string): Promise<string | null> {
		const { json } = await rpc(sandbox.urls.solana, {
			jsonrpc: "2.0",
			id: 1,
			method: "getAccountInfo",
			params: [address, { encoding: "base64", commitment: "confirmed" }],
		});
		const value = (json as { result: { value: { owner: string } | null } }).result.value;
		return value?.owner ?? null;
	}

	async function signatureCount(address: string): Promise<number> {
		const { json } = await rpc(sandbox.urls.solana, {
			jsonrpc: "2.0",
			id: 1,
			method: "getSignaturesForAddress",
			params: [address, { commitment: "confirmed" }],
		});
		return (json as { result: unknown[] }).result.length;
	}

	it("creates the wallet's USDC and PYUSD token accounts, paid by the wallet; a second run sends nothing", async () => {
		const w = wallet();
		const usdcAta = associatedTokenAddress(w.address, USDC.mint, USDC.programId);
		const pyusdAta = associatedTokenAddress(w.address, PYUSD.mint, PYUSD.programId);
		expect(await accountOwner(usdcAta)).toBeNull();

		const first = await run([], { SETTLEMENT_WALLET_KEY: w.key, SOLANA_EXTRA_TOKENS: PYUSD_EXTRA });
		expect(first.stderr).toBe("");
		expect(first.code).toBe(0);
		expect(first.stdout).toContain(
			`Settlement wallet ${w.address} on ${sandbox.urls.solana} (1 SOL)`,
		);
		expect(first.stdout).toMatch(new RegExp(`USDC +token account ${usdcAta} created \\(\\w+\\)`));
		expect(first.stdout).toMatch(new RegExp(`PYUSD +token account ${pyusdAta} created \\(\\w+\\)`));
		expect(first.stdout).toContain("Created 2 token account(s), paid by the settlement wallet.");
		expect(await accountOwner(usdcAta)).toBe(USDC.programId);
		expect(await accountOwner(pyusdAta)).toBe(PYUSD.programId);
		// The airdrop and one setup transaction; the wallet paid the fee and both deposits.
		expect(await signatureCount(w.address)).toBe(2);
		const balance = lamportsOf(w.address);
		expect(balance).toBeLessThan(1_000_000_000n - 2n * 2_039_280n);

		const second = await run([], {
			SETTLEMENT_WALLET_KEY: w.key,
			SOLANA_EXTRA_TOKENS: PYUSD_EXTRA,
		});
		expect(second).toMatchObject({ code: 0, stderr: "" });
		expect(second.stdout).toContain(`USDC   token account ${usdcAta} exists`);
		expect(second.stdout).toContain(`PYUSD  token account ${pyusdAta} exists`);
		expect(second.stdout).toContain("Every token account exists: nothing sent.");
		expect(await signatureCount(w.address)).toBe(2);
		expect(lamportsOf(w.address)).toBe(balance);
	});

	it("reads a Solana CLI keypair file and sets up only the mints named with --mint", async () => {
		const w = wallet();
		const file = join(dir, "settlement.json");
		await writeFile(file, JSON.stringify(Array.from(w.keypair.secretKey)));
		const out = await run(["--key-file", file, "--mint", FAKE_USDC.mint], {
			SOLANA_SETTLEMENT_WALLET: w.address,
		});
		expect(out).toMatchObject({ code: 0, stderr: "" });
		const ata = associatedTokenAddress(w.address, FAKE_USDC.mint, FAKE_USDC.programId);
		expect(out.stdout).toContain(`token account ${ata} created`);
		expect(out.stdout).toContain("Created 1 token account(s)");
		expect(await accountOwner(ata)).toBe(FAKE_USDC.programId);
		const usdcAta = associatedTokenAddress(w.address, USDC.mint, USDC.programId);
		expect(await accountOwner(usdcAta)).toBeNull();
	});

	it("sends nothing and says how much SOL is needed when the wallet cannot pay", async () => {
		const w = wallet(0);
		const out = await run([], { SETTLEMENT_WALLET_KEY: w.key });
		expect(out.code).toBe(1);
		expect(out.stderr).toMatch(
			new RegExp(`needs about 0\\.00\\d+ SOL .* holds 0: fund ${w.address} and run again`),
		);
		expect(await signatureCount(w.address)).toBe(0);
	});

	it("refuses a key that is not the configured settlement wallet's, and a mint missing on the cluster", async () => {
		const w = wallet();
		const other = wallet(0);
		const mismatch = await run([], {
			SETTLEMENT_WALLET_KEY: w.key,
			SOLANA_SETTLEMENT_WALLET: other.address,
		});
		expect(mismatch.code).toBe(1);
		expect(mismatch.stderr).toContain(
			`The key is ${w.address}'s, but SOLANA_SETTLEMENT_WALLET is ${other.address}.`,
		);

		const nowhere = Keypair.generate().publicKey.toBase58();
		const missing = await run(["--mint", nowhere], { SETTLEMENT_WALLET_KEY: w.key });
		expect(missing.code).toBe(1);
		expect(missing.stderr).toContain(`mint ${nowhere} does not exist on this cluster`);
		expect(await signatureCount(w.address)).toBe(1);
	});

	it("explains a missing key", async () => {
		const out = await run([], {});
		expect(out).toEqual({
			code: 1,
			stdout: "",
			stderr:
				"No settlement wallet key: set SETTLEMENT_WALLET_KEY (base58, as the Worker secret) or pass --key-file.\n",
		});
	});
});
