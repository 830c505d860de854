import type { TransactionErrorJson } from "./errors.js";
import type { UiTokenAmount } from "./token-state.js";
import type { WireTransaction } from "./wire.js";

// Executed transactions (what getTransaction, getSignaturesForAddress and
// getSignatureStatuses read) and the pre-images that let account reads honour commitment.

export interface TokenBalance {
	accountIndex: number;
	mint: string;
	owner: string;
	programId: string;
	uiTokenAmount: UiTokenAmount;
}

export interface InnerInstructionRecord {
	programIdIndex: number;
	accounts: number[];
	data: Uint8Array;
	stackHeight: number;
}

export interface TransactionRecord {
	signature: string;
	slot: number;
	blockTime: number | null;
	tx: WireTransaction;
	/** Static keys, then addresses loaded from lookup tables (writable, then readonly). */
	accountKeys: string[];
	loadedAddresses: { writable: string[]; readonly: string[] };
	err: TransactionErrorJson | null;
	/** Lamports are u64: kept as bigint so the RPC writes them exactly past 2^53. */
	fee: bigint;
	preBalances: bigint[];
	postBalances: bigint[];
	preTokenBalances: TokenBalance[];
	postTokenBalances: TokenBalance[];
	logs: string[];
	computeUnitsConsumed: number;
	innerInstructions: { index: number; instructions: InnerInstructionRecord[] }[];
	returnData: { programId: string; data: Uint8Array } | null;
	/** getSignaturesForAddress's memo field: "[len] text" per memo, joined with "; ". */
	memo: string | null;
}

export class Ledger {
	private readonly bySignature = new Map<string, TransactionRecord>();
	private readonly byAddress = new Map<string, TransactionRecord[]>();

	add(record: TransactionRecord): void {
		this.bySignature.set(record.signature, record);
		for (const key of new Set(record.accountKeys)) {
			let list = this.byAddress.get(key);
			if (!list) {
				list = [];
				this.byAddress.set(key, list);
			}
			list.push(record);
		}
	}

	get(signature: string): TransactionRecord | undefined {
		return this.bySignature.get(signature);
	}

	/** Oldest first, in execution order. */
	forAddress(address: string): readonly TransactionRecord[] {
		return this.byAddress.get(address) ?? [];
	}
}

export interface AccountSnapshot {
	lamports: bigint;
	data: Uint8Array;
	owner: string;
	executable: boolean;
}

/**
 * For each account written since the finalized slot, its state before each write. A read at
 * slot V returns the pre-image of the first write after V, or the live state if none.
 */
export class AccountHistory {
	private readonly writes = new Map<string, { slot: number; before: AccountSnapshot | null }[]>();

	record(address: string, slot: number, before: AccountSnapshot | null): void {
		let list = this.writes.get(address);
		if (!list) {
			list = [];
			this.writes.set(address, list);
		}
		list.push({ slot, before });
	}

	/** undefined: not written after `slot`, read the live state; null: did not exist then. */
	at(address: string, slot: number): AccountSnapshot | null | undefined {
		const write = this.writes.get(address)?.find((w) => w.slot > slot);
		return write === undefined ? undefined : write.before;
	}

	addresses(): IterableIterator<string> {
		return this.writes.keys();
	}

	/** Drops writes no view can reach any more (at or before the finalized slot). */
	prune(finalizedSlot: number): void {
		for (const [address, list] of this.writes) {
			const keep = list.filter((w) => w.slot > finalizedSlot);
			if (keep.length === 0) this.writes.delete(address);
			else if (keep.length !== list.length) this.writes.set(address, keep);
		}
	}
}
