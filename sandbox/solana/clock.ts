// Slots, block heights, blockhashes and commitment levels. One block per slot (no skipped
// slots), so block height equals slot. A transaction executed at slot S is `processed` at once,
// `confirmed` once the tip is confirmedLag slots past S, `finalized` after finalizedLag.

export type Commitment = "processed" | "confirmed" | "finalized";

export const COMMITMENTS: readonly Commitment[] = ["processed", "confirmed", "finalized"];

/** Blocks a blockhash stays usable for: lastValidBlockHeight = its height + 150. */
export const MAX_PROCESSING_AGE = 150;

export interface ClockOptions {
	confirmedLag: number;
	finalizedLag: number;
	/** Milliseconds since the epoch; block times are its whole seconds. */
	now: () => number;
}

export interface SignatureStatusLevel {
	confirmationStatus: Commitment;
	/** Slots since the transaction's slot; null once finalized, as on the cluster. */
	confirmations: number | null;
}

export class SlotClock {
	slot = 0;
	private readonly slotByHash = new Map<string, number>();
	private readonly hashBySlot = new Map<number, string>();
	private readonly timeBySlot = new Map<number, number>();

	constructor(
		readonly options: ClockOptions,
		genesisBlockhash: string,
	) {
		this.record(0, genesisBlockhash);
	}

	/** Moves the tip one slot on, with that slot's blockhash. */
	advance(blockhash: string): void {
		this.slot += 1;
		this.record(this.slot, blockhash);
		// Keep what any commitment view or unexpired blockhash can still reach.
		const oldest = this.slot - MAX_PROCESSING_AGE - this.options.finalizedLag - 2;
		const stale = this.hashBySlot.get(oldest);
		if (stale !== undefined) {
			this.slotByHash.delete(stale);
			this.hashBySlot.delete(oldest);
			this.timeBySlot.delete(oldest);
		}
	}

	private record(slot: number, blockhash: string): void {
		this.slotByHash.set(blockhash, slot);
		this.hashBySlot.set(slot, blockhash);
		this.timeBySlot.set(slot, Math.floor(this.options.now() / 1000));
	}

	/** The newest slot a read at this commitment sees. */
	slotFor(commitment: Commitment): number {
		if (commitment === "processed") return this.slot;
		const lag = commitment === "confirmed" ? this.options.confirmedLag : this.options.finalizedLag;
		return Math.max(0, this.slot - lag);
	}

	blockhashAt(slot: number): string {
		const hash = this.hashBySlot.get(slot);
		if (hash === undefined) throw new RangeError(`no blockhash kept for slot ${slot}`);
		return hash;
	}

	blockTimeAt(slot: number): number | null {
		return this.timeBySlot.get(slot) ?? null;
	}

	lastValidBlockHeight(slot: number): number {
		return slot + MAX_PROCESSING_AGE;
	}

	/** Valid for a bank at `viewSlot` if that bank has seen it and it has not expired there. */
	isBlockhashValid(blockhash: string, viewSlot = this.slot): boolean {
		const slot = this.slotByHash.get(blockhash);
		return slot !== undefined && slot <= viewSlot && viewSlot <= slot + MAX_PROCESSING_AGE;
	}

	/** The commitment a transaction at `slot` has reached. */
	statusOf(slot: number): SignatureStatusLevel {
		const age = this.slot - slot;
		if (age >= this.options.finalizedLag) {
			return { confirmationStatus: "finalized", confirmations: null };
		}
		if (age >= this.options.confirmedLag) {
			return { confirmationStatus: "confirmed", confirmations: age };
		}
		return { confirmationStatus: "processed", confirmations: age };
	}

	/** True once a transaction at `slot` is visible at `commitment`. */
	reached(slot: number, commitment: Commitment): boolean {
		return slot <= this.slotFor(commitment);
	}
}
