import { createHash } from "node:crypto";
import type { Address } from "@solana/kit";
import { Clock, LiteSVM } from "litesvm";
import { type Commitment, SlotClock } from "./clock.js";
import { toBase58, U64_MAX } from "./encoding.js";
import { keypairFromLabel, type SandboxKeypair } from "./keys.js";
import { AccountHistory, type AccountSnapshot, Ledger } from "./ledger.js";
import {
	BPF_LOADER_2,
	MEMO_PROGRAM,
	MEMO_V4_PROGRAM,
	REQUIRED_PROGRAMS,
	SYSTEM_PROGRAM,
} from "./programs.js";
import { encodeMint, MINT_SIZE, parseMint, parseTokenAccount } from "./token-state.js";
import { SANDBOX_FAUCET, SANDBOX_MINT_AUTHORITY, SANDBOX_TOKENS } from "./tokens.js";

// Chain state: a LiteSVM bank for accounts and execution, the slot clock, the ledger of
// executed transactions and the account history behind commitment-aware reads.

export interface ChainOptions {
	confirmedLag: number;
	finalizedLag: number;
	now: () => number;
	/** Called after every change: slots produced, a transaction executed, an account written. */
	onChange?: (event: ChainEvent) => void;
	/**
	 * Runs in the genesis slot, before it is finalized: transactions sent here (settlement
	 * wallets' token accounts) are in history and visible at every commitment from the start.
	 */
	genesis?: (chain: SolanaChain) => void;
}

export type ChainEvent =
	| { type: "slot"; slot: number }
	| { type: "transaction"; signature: string; slot: number }
	| { type: "account"; address: string; slot: number };

export interface AccountView extends AccountSnapshot {
	address: string;
}

/** Lamports the faucet starts with (and is topped back up to). */
const FAUCET_LAMPORTS = 4_000_000_000_000_000n;
const SLOTS_PER_EPOCH = 432_000;

export const GENESIS_HASH = toBase58(
	new Uint8Array(createHash("sha256").update("streampayments-sandbox:genesis").digest()),
);

export class SolanaChain {
	readonly svm: LiteSVM;
	readonly clock: SlotClock;
	readonly ledger = new Ledger();
	readonly history = new AccountHistory();
	readonly faucet: SandboxKeypair = keypairFromLabel("faucet");
	readonly mintAuthority: SandboxKeypair = keypairFromLabel("mint-authority");
	private readonly epochStart: bigint;

	constructor(readonly options: ChainOptions) {
		if (
			this.faucet.address !== SANDBOX_FAUCET ||
			this.mintAuthority.address !== SANDBOX_MINT_AUTHORITY
		) {
			throw new Error("sandbox key derivation changed; update tokens.ts");
		}
		// Blockhash age is checked here against a 150-block window like the cluster's;
		// LiteSVM alone would accept only its single latest blockhash.
		this.svm = new LiteSVM().withBlockhashCheck(false).withSigverify(true);
		for (const program of REQUIRED_PROGRAMS) {
			const account = this.svm.getAccount(program as Address);
			if (!account.exists || !account.executable) {
				throw new Error(`LiteSVM is missing the ${program} program`);
			}
		}
		// Memo v4 behaves like v3 (log the UTF-8 text, check signers); serve v3's code there so
		// memos built with current client libraries land.
		const memo = this.svm.getAccount(MEMO_PROGRAM as Address);
		if (memo.exists && !this.svm.getAccount(MEMO_V4_PROGRAM as Address).exists) {
			this.svm.addProgramWithLoader(
				MEMO_V4_PROGRAM as Address,
				Uint8Array.from(memo.data),
				BPF_LOADER_2 as Address,
			);
		}
		this.clock = new SlotClock(options, this.svm.latestBlockhash());
		this.epochStart = BigInt(Math.floor(options.now() / 1000));
		this.syncClockSysvar();
		this.writeAccount(this.faucet.address, {
			lamports: FAUCET_LAMPORTS,
			data: new Uint8Array(),
			owner: SYSTEM_PROGRAM,
			executable: false,
		});
		for (const token of SANDBOX_TOKENS) {
			const data = encodeMint({
				mintAuthority: this.mintAuthority.address,
				freezeAuthority: token.symbol === "USDC" ? this.mintAuthority.address : null,
				decimals: token.decimals,
			});
			this.writeAccount(token.mint, {
				lamports: this.rentExempt(MINT_SIZE),
				data,
				owner: token.programId,
				executable: false,
			});
		}
		options.genesis?.(this);
		// Start with genesis already finalized, so every commitment reads a real slot.
		this.advanceSlots(options.finalizedLag);
	}

	get slot(): number {
		return this.clock.slot;
	}

	latestBlockhash(): string {
		return this.clock.blockhashAt(this.clock.slot);
	}

	/** Produces `count` empty-or-not blocks: rotates LiteSVM's blockhash with each one. */
	advanceSlots(count: number): number {
		for (let i = 0; i < count; i++) {
			this.svm.expireBlockhash();
			this.clock.advance(this.svm.latestBlockhash());
		}
		if (count > 0) {
			this.syncClockSysvar();
			this.history.prune(this.clock.slotFor("finalized"));
			this.changed({ type: "slot", slot: this.clock.slot });
		}
		return this.clock.slot;
	}

	changed(event: ChainEvent): void {
		this.options.onChange?.(event);
	}

	private syncClockSysvar(): void {
		const slot = BigInt(this.clock.slot);
		const unix = BigInt(this.clock.blockTimeAt(this.clock.slot) ?? 0);
		const epoch = slot / BigInt(SLOTS_PER_EPOCH);
		this.svm.setClock(new Clock(slot, this.epochStart, epoch, epoch + 1n, unix));
	}

	rentExempt(space: number | bigint): bigint {
		return this.svm.minimumBalanceForRentExemption(BigInt(space));
	}

	/** The live (processed) state of an account. */
	current(address: string): AccountView | null {
		const account = this.svm.getAccount(address as Address);
		if (!account.exists) return null;
		return {
			address,
			lamports: BigInt(account.lamports),
			data: Uint8Array.from(account.data),
			owner: account.programAddress,
			executable: account.executable,
		};
	}

	/** An account as a bank at `commitment` sees it. */
	account(address: string, commitment: Commitment): AccountView | null {
		const before = this.history.at(address, this.clock.slotFor(commitment));
		if (before === undefined) return this.current(address);
		return before === null ? null : { address, ...before };
	}

	/** Overwrites an account outside any transaction (genesis, test setup), keeping history. */
	writeAccount(address: string, state: AccountSnapshot): void {
		this.history.record(address, this.clock.slot, this.current(address));
		this.svm.setAccount({
			address: address as Address,
			lamports: state.lamports as never,
			data: state.data,
			programAddress: state.owner as Address,
			executable: state.executable,
			space: BigInt(state.data.length),
		});
		this.changed({ type: "account", address, slot: this.clock.slot });
	}

	/** Decimals of a mint; mints never change decimals, so the live state answers for all. */
	decimalsOf(mint: string): number | undefined {
		const account = this.current(mint);
		return account ? parseMint(account.owner, account.data)?.decimals : undefined;
	}

	/** Token accounts of `owner` under one token program at a commitment. */
	tokenAccountsByOwner(
		owner: string,
		programId: string,
		commitment: Commitment,
		mint?: string,
	): AccountView[] {
		const candidates = new Set<string>(
			this.svm.getProgramAccounts(programId as Address).map((a) => a.address),
		);
		for (const address of this.history.addresses()) candidates.add(address);
		const found: AccountView[] = [];
		for (const address of candidates) {
			const view = this.account(address, commitment);
			if (!view || view.owner !== programId) continue;
			const parsed = parseTokenAccount(view.owner, view.data);
			if (parsed && parsed.owner === owner && (mint === undefined || parsed.mint === mint)) {
				found.push(view);
			}
		}
		return found.sort((a, b) => (a.address < b.address ? -1 : 1));
	}

	/** Refills the faucet between airdrops so it never runs dry in a long session. */
	topUpFaucet(needed: bigint): void {
		const faucet = this.current(this.faucet.address);
		if (faucet && faucet.lamports >= needed + 1_000_000_000n) return;
		// An account holds at most u64::MAX; past that the transfer itself fails, as it would.
		const lamports = FAUCET_LAMPORTS + needed;
		this.writeAccount(this.faucet.address, {
			lamports: lamports > U64_MAX ? U64_MAX : lamports,
			data: new Uint8Array(),
			owner: SYSTEM_PROGRAM,
			executable: false,
		});
	}
}
