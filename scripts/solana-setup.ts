import { readFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import {
	type Address,
	address,
	appendTransactionMessageInstructions,
	createKeyPairSignerFromBytes,
	createSolanaRpc,
	createTransactionMessage,
	getBase58Encoder,
	getBase64EncodedWireTransaction,
	getSignatureFromTransaction,
	isAddress,
	type KeyPairSigner,
	pipe,
	setTransactionMessageFeePayerSigner,
	setTransactionMessageLifetimeUsingBlockhash,
	signTransactionMessageWithSigners,
} from "@solana/kit";
import {
	findAssociatedTokenPda,
	getCreateAssociatedTokenIdempotentInstruction,
} from "@solana-program/token";
import { parseExtraTokens } from "../src/config";
import { tokenCatalogOf } from "../src/services/tokens";

// `npm run solana:setup -- [--rpc <url>] [--key-file <keypair.json>] [--mint <address>]...`
//
// Creates the settlement wallet's associated token account for every accepted mint, paid by the
// wallet itself, so payments in each token have an account to land in and the gateway quotes it.
// Idempotent: accounts that exist are reported and left alone; a second run sends nothing.

const DEFAULT_RPC_URL = "http://127.0.0.1:8899";

export const USAGE = `Usage: npm run solana:setup -- [--rpc <url>] [--key-file <keypair.json>] [--mint <address>]...

Creates the settlement wallet's associated token account for each mint the gateway accepts
(CreateAssociatedTokenIdempotent, paid by the wallet). Accounts that exist are left alone.

  --rpc       Solana JSON-RPC URL (default: $SOLANA_RPC_URL or ${DEFAULT_RPC_URL})
  --key-file  the wallet's Solana CLI keypair file (JSON array of 64 bytes); default:
              $SETTLEMENT_WALLET_KEY (base58 of the 64-byte secret key, as the Worker secret)
  --mint      a mint to set up (repeatable); default: USDC and every mint in $SOLANA_EXTRA_TOKENS

If $SOLANA_SETTLEMENT_WALLET is set, the key must be that wallet's.`;

const TOKEN_PROGRAMS = new Set([
	"TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA",
	"TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb",
]);
/** An associated token account of Token-2022 carries the ImmutableOwner extension: 170 bytes. */
const TOKEN_ACCOUNT_SPACE = 170n;
/** Instructions per transaction: a handful of accounts each keeps it far below the size limit. */
const PER_TRANSACTION = 8;

export interface SetupIo {
	env: NodeJS.ProcessEnv;
	stdout: (text: string) => void;
	stderr: (text: string) => void;
	/** How often to ask whether a sent transaction is confirmed (default 500 ms). */
	pollMs?: number;
	/** How long to wait for confirmation before giving up (default 90 s). */
	confirmTimeoutMs?: number;
}

class SetupError extends Error {}

interface MintToSetUp {
	symbol: string;
	mint: Address;
	/** The program configured for it, checked against the mint's owner on chain. */
	program: string | null;
}

type Rpc = ReturnType<typeof createSolanaRpc>;

async function loadSigner(keyFile: string | undefined, env: NodeJS.ProcessEnv) {
	let bytes: Uint8Array;
	if (keyFile) {
		let parsed: unknown;
		try {
			parsed = JSON.parse(await readFile(keyFile, "utf8"));
		} catch (error) {
			throw new SetupError(`Cannot read ${keyFile}: ${(error as Error).message}`);
		}
		if (
			!Array.isArray(parsed) ||
			parsed.length !== 64 ||
			!parsed.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)
		) {
			throw new SetupError(`${keyFile} is not a Solana CLI keypair (a JSON array of 64 bytes).`);
		}
		bytes = Uint8Array.from(parsed as number[]);
	} else {
		const secret = env.SETTLEMENT_WALLET_KEY?.trim();
		if (!secret) {
			throw new SetupError(
				"No settlement wallet key: set SETTLEMENT_WALLET_KEY (base58, as the Worker secret) or pass --key-file.",
			);
		}
		try {
			bytes = getBase58Encoder().encode(secret) as Uint8Array;
		} catch {
			throw new SetupError("SETTLEMENT_WALLET_KEY is not base58.");
		}
	}
	try {
		return await createKeyPairSignerFromBytes(bytes);
	} catch {
		throw new SetupError("The key is not a 64-byte Solana secret key.");
	}
}

function mintsToSetUp(flags: string[] | undefined, env: NodeJS.ProcessEnv): MintToSetUp[] {
	let catalog: ReturnType<typeof tokenCatalogOf>;
	try {
		// The gateway's own list of tokens: the built-in ones and SOLANA_EXTRA_TOKENS.
		catalog = tokenCatalogOf(parseExtraTokens(env.SOLANA_EXTRA_TOKENS));
	} catch (error) {
		throw new SetupError(`SOLANA_EXTRA_TOKENS is not valid JSON: ${(error as Error).message}`);
	}
	if (flags && flags.length > 0) {
		return [...new Set(flags)].map((mint) => {
			if (!isAddress(mint)) throw new SetupError(`--mint ${mint} is not a Solana address.`);
			const known = catalog.find((t) => t.mint === mint);
			return {
				symbol: known?.symbol ?? mint,
				mint: address(mint),
				program: known?.program ?? null,
			};
		});
	}
	return catalog.flatMap((t) => {
		if (!t.mint) return [];
		if (!isAddress(t.mint)) throw new SetupError(`${t.symbol}'s mint ${t.mint} is not an address.`);
		return [{ symbol: t.symbol, mint: address(t.mint), program: t.program }];
	});
}

/** The mints' owning programs, read from chain: a mint that is not there is a wrong cluster. */
async function mintPrograms(rpc: Rpc, mints: MintToSetUp[]): Promise<Address[]> {
	const { value } = await rpc
		.getMultipleAccounts(
			mints.map((m) => m.mint),
			{ encoding: "base64", dataSlice: { offset: 0, length: 0 }, commitment: "confirmed" },
		)
		.send();
	return mints.map((m, i) => {
		const account = value[i];
		if (!account) {
			throw new SetupError(
				`${m.symbol}: mint ${m.mint} does not exist on this cluster (is --rpc the cluster the gateway uses?).`,
			);
		}
		if (!TOKEN_PROGRAMS.has(account.owner)) {
			throw new SetupError(`${m.symbol}: ${m.mint} is not a mint (owned by ${account.owner}).`);
		}
		if (m.program && m.program !== account.owner) {
			throw new SetupError(
				`${m.symbol}: the mint belongs to ${account.owner}, but the configuration says ${m.program}.`,
			);
		}
		return account.owner;
	});
}

function sol(lamports: bigint): string {
	const whole = lamports / 1_000_000_000n;
	const fraction = (lamports % 1_000_000_000n).toString().padStart(9, "0").replace(/0+$/, "");
	return fraction ? `${whole}.${fraction}` : `${whole}`;
}

async function confirm(
	rpc: Rpc,
	signature: ReturnType<typeof getSignatureFromTransaction>,
	lastValidBlockHeight: bigint,
	io: SetupIo,
): Promise<void> {
	const deadline = Date.now() + (io.confirmTimeoutMs ?? 90_000);
	for (;;) {
		const { value } = await rpc.getSignatureStatuses([signature]).send();
		const status = value[0];
		if (status?.err) {
			throw new SetupError(`Transaction ${signature} failed: ${JSON.stringify(status.err)}`);
		}
		if (status?.confirmationStatus === "confirmed" || status?.confirmationStatus === "finalized") {
			return;
		}
		const height = await rpc.getBlockHeight({ commitment: "confirmed" }).send();
		if (height > lastValidBlockHeight) {
			throw new SetupError(
				`Transaction ${signature} expired before it was confirmed; run the setup again.`,
			);
		}
		if (Date.now() > deadline) {
			throw new SetupError(
				`Transaction ${signature} is not confirmed yet; check it on an explorer, then run the setup again.`,
			);
		}
		await new Promise((resolve) => setTimeout(resolve, io.pollMs ?? 500));
	}
}

async function createAccounts(
	rpc: Rpc,
	wallet: KeyPairSigner,
	missing: { mint: Address; program: Address; ata: Address }[],
	io: SetupIo,
): Promise<string> {
	const { value: latest } = await rpc.getLatestBlockhash({ commitment: "confirmed" }).send();
	const message = pipe(
		createTransactionMessage({ version: 0 }),
		(m) => setTransactionMessageFeePayerSigner(wallet, m),
		(m) => setTransactionMessageLifetimeUsingBlockhash(latest, m),
		(m) =>
			appendTransactionMessageInstructions(
				missing.map((a) =>
					getCreateAssociatedTokenIdempotentInstruction({
						payer: wallet,
						ata: a.ata,
						owner: wallet.address,
						mint: a.mint,
						tokenProgram: a.program,
					}),
				),
				m,
			),
	);
	const transaction = await signTransactionMessageWithSigners(message);
	const signature = getSignatureFromTransaction(transaction);
	await rpc
		.sendTransaction(getBase64EncodedWireTransaction(transaction), {
			encoding: "base64",
			preflightCommitment: "confirmed",
		})
		.send();
	await confirm(rpc, signature, latest.lastValidBlockHeight, io);
	return signature;
}

async function setUp(argv: string[], io: SetupIo): Promise<number> {
	let values: { rpc?: string; "key-file"?: string; mint?: string[]; help?: boolean };
	try {
		({ values } = parseArgs({
			args: argv,
			options: {
				rpc: { type: "string" },
				"key-file": { type: "string" },
				mint: { type: "string", multiple: true },
				help: { type: "boolean", short: "h", default: false },
			},
			strict: true,
			allowPositionals: false,
		}));
	} catch (error) {
		io.stderr(`${(error as Error).message}\n\n${USAGE}\n`);
		return 2;
	}
	if (values.help) {
		io.stdout(`${USAGE}\n`);
		return 0;
	}
	const rpcUrl = values.rpc ?? (io.env.SOLANA_RPC_URL?.trim() || DEFAULT_RPC_URL);
	const wallet = await loadSigner(values["key-file"], io.env);
	const expected = io.env.SOLANA_SETTLEMENT_WALLET?.trim();
	if (expected && expected !== wallet.address) {
		throw new SetupError(
			`The key is ${wallet.address}'s, but SOLANA_SETTLEMENT_WALLET is ${expected}.`,
		);
	}
	const mints = mintsToSetUp(values.mint, io.env);
	const rpc = createSolanaRpc(rpcUrl);
	const { value: balance } = await rpc
		.getBalance(wallet.address, { commitment: "confirmed" })
		.send();
	io.stdout(`Settlement wallet ${wallet.address} on ${rpcUrl} (${sol(balance)} SOL)\n`);
	if (mints.length === 0) {
		io.stdout("No mints to set up.\n");
		return 0;
	}

	const programs = await mintPrograms(rpc, mints);
	const accounts = await Promise.all(
		mints.map(async (m, i) => {
			const program = programs[i] as Address;
			const [ata] = await findAssociatedTokenPda({
				owner: wallet.address,
				mint: m.mint,
				tokenProgram: program,
			});
			return { ...m, program, ata };
		}),
	);
	const { value: existing } = await rpc
		.getMultipleAccounts(
			accounts.map((a) => a.ata),
			{ encoding: "base64", dataSlice: { offset: 0, length: 0 }, commitment: "confirmed" },
		)
		.send();
	const width = Math.max(...accounts.map((a) => a.symbol.length));
	const line = (a: (typeof accounts)[number], what: string) =>
		io.stdout(`  ${a.symbol.padEnd(width)}  token account ${a.ata} ${what}\n`);
	const missing = accounts.filter((a, i) => {
		if (existing[i]) line(a, "exists");
		return !existing[i];
	});
	if (missing.length === 0) {
		io.stdout("Every token account exists: nothing sent.\n");
		return 0;
	}

	const rent = await rpc.getMinimumBalanceForRentExemption(TOKEN_ACCOUNT_SPACE).send();
	const needed = rent * BigInt(missing.length) + 10_000n;
	if (balance < needed) {
		throw new SetupError(
			`Creating ${missing.length} token account(s) needs about ${sol(needed)} SOL (rent-exempt deposits and fees), and the wallet holds ${sol(balance)}: fund ${wallet.address} and run again.`,
		);
	}
	for (let i = 0; i < missing.length; i += PER_TRANSACTION) {
		const batch = missing.slice(i, i + PER_TRANSACTION);
		const signature = await createAccounts(rpc, wallet, batch, io);
		for (const a of batch) line(a, `created (${signature})`);
	}
	const { value: after } = await rpc
		.getMultipleAccounts(
			missing.map((a) => a.ata),
			{ encoding: "base64", dataSlice: { offset: 0, length: 0 }, commitment: "confirmed" },
		)
		.send();
	const absent = missing.filter((_, i) => !after[i]);
	if (absent.length > 0) {
		throw new SetupError(
			`Still missing after confirmation: ${absent.map((a) => a.symbol).join(", ")}; run the setup again.`,
		);
	}
	io.stdout(`Created ${missing.length} token account(s), paid by the settlement wallet.\n`);
	return 0;
}

/** Returns the process exit code: 0 done, 1 failure, 2 usage. */
export async function runSolanaSetup(argv: string[], io: SetupIo): Promise<number> {
	try {
		return await setUp(argv, io);
	} catch (error) {
		const message =
			error instanceof SetupError
				? error.message
				: `Solana RPC failed: ${error instanceof Error ? error.message : String(error)}`;
		io.stderr(`${message}\n`);
		return 1;
	}
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
	process.exitCode = await runSolanaSetup(process.argv.slice(2), {
		env: process.env,
		stdout: (text) => process.stdout.write(text),
		stderr: (text) => process.stderr.write(text),
	});
}
