import {
	buildTransaction,
	createAssociatedTokenIdempotent,
	type Instruction,
	mintTo,
	systemTransfer,
} from "./builder.js";
import type { SolanaChain } from "./chain.js";
import { decodeKey } from "./encoding.js";
import { executeTransaction, LAMPORTS_PER_SIGNATURE } from "./executor.js";
import { associatedTokenAddress, type SandboxKeypair } from "./keys.js";
import { COMPUTE_BUDGET_PROGRAM } from "./programs.js";
import { parseMint } from "./token-state.js";
import { SETTLEMENT_TOKENS } from "./tokens.js";
import { parseTransaction } from "./wire.js";

// The sandbox's own transactions: airdrops from the faucet, test-token mints and settlement
// wallets' token accounts. They are real signed transactions, so they show up in getTransaction
// and getSignaturesForAddress.

export class FaucetError extends Error {
	constructor(message: string) {
		super(message);
		this.name = "FaucetError";
	}
}

function setComputeUnitLimit(units: number): Instruction {
	const data = new Uint8Array(5);
	data[0] = 2;
	new DataView(data.buffer).setUint32(1, units, true);
	return { programId: COMPUTE_BUDGET_PROGRAM, accounts: [], data };
}

/**
 * Signs and executes; an identical request in the same slot would repeat a signature, so a
 * compute-limit instruction is added to make it distinct only when that happens.
 */
function submit(
	chain: SolanaChain,
	instructions: Instruction[],
	signers: SandboxKeypair[],
): string {
	const [payer, ...others] = signers;
	if (!payer) throw new Error("a transaction needs a fee payer");
	for (let nonce = 0; ; nonce++) {
		const list =
			nonce === 0 ? instructions : [setComputeUnitLimit(200_000 + nonce), ...instructions];
		const tx = parseTransaction(buildTransaction(payer, list, chain.latestBlockhash(), others));
		const signature = tx.signatures[0] ?? "";
		if (chain.ledger.get(signature)) continue;
		const outcome = executeTransaction(chain, tx);
		const err = outcome.landed ? outcome.record.err : outcome.err;
		if (err !== null) throw new FaucetError(`transaction failed: ${JSON.stringify(err)}`);
		return signature;
	}
}

export function airdrop(chain: SolanaChain, address: string, lamports: bigint): string {
	chain.topUpFaucet(lamports + LAMPORTS_PER_SIGNATURE);
	return submit(chain, [systemTransfer(chain.faucet.address, address, lamports)], [chain.faucet]);
}

/** Mints to the owner's associated token account, creating it for the mint's program if needed. */
export function mintTokens(
	chain: SolanaChain,
	owner: string,
	mint: string,
	amount: bigint,
): string {
	const mintAccount = chain.current(mint);
	const state = mintAccount ? parseMint(mintAccount.owner, mintAccount.data) : undefined;
	if (!mintAccount || !state) throw new FaucetError(`${mint} is not a token mint`);
	if (state.mintAuthority !== chain.mintAuthority.address) {
		throw new FaucetError(`the sandbox is not the mint authority of ${mint}`);
	}
	const program = mintAccount.owner;
	const ata = associatedTokenAddress(owner, mint, program);
	chain.topUpFaucet(chain.rentExempt(200) + 2n * LAMPORTS_PER_SIGNATURE);
	return submit(
		chain,
		[
			createAssociatedTokenIdempotent(chain.faucet.address, ata, owner, mint, program),
			mintTo(mint, ata, chain.mintAuthority.address, amount, program),
		],
		[chain.faucet, chain.mintAuthority],
	);
}

export interface SettlementTokenAccount {
	mint: string;
	programId: string;
	/** The wallet's associated token account for the mint. */
	address: string;
}

export interface SettlementAccounts {
	wallet: string;
	accounts: SettlementTokenAccount[];
	/** The transaction that created the missing ones; null when all existed already. */
	signature: string | null;
}

/**
 * Opens a settlement wallet's associated token account for every settlement token, as a
 * merchant does before taking payments (a Solana Pay transfer refuses a recipient without one).
 * Idempotent: one transaction, paid by the faucet, creates only the missing accounts.
 */
export function createSettlementAccounts(chain: SolanaChain, wallet: string): SettlementAccounts {
	if (!decodeKey(wallet)) throw new FaucetError(`${wallet} is not a public key`);
	const accounts = SETTLEMENT_TOKENS.map((token) => ({
		mint: token.mint,
		programId: token.programId,
		address: associatedTokenAddress(wallet, token.mint, token.programId),
	}));
	const missing = accounts.filter((account) => chain.current(account.address) === null);
	if (missing.length === 0) return { wallet, accounts, signature: null };
	chain.topUpFaucet(BigInt(missing.length) * chain.rentExempt(200) + LAMPORTS_PER_SIGNATURE);
	const signature = submit(
		chain,
		missing.map((account) =>
			createAssociatedTokenIdempotent(
				chain.faucet.address,
				account.address,
				wallet,
				account.mint,
				account.programId,
			),
		),
		[chain.faucet],
	);
	return { wallet, accounts, signature };
}
