import type { Sandbox } from "../../sandbox/server.js";

// When the sandbox's chain reached each slot, in wall-clock ms, from its "slot" events: the
// moment a transaction executed in slot S became visible at `confirmed` is the moment the tip
// reached S + confirmedLag (what getSignaturesForAddress(…, confirmed) can first return).

export class SlotClock {
	readonly #times = new Map<number, number>();
	readonly #waiters = new Map<number, (() => void)[]>();

	/** Starts recording; call from the stack's onSandbox, before anything is sent. */
	attach(sandbox: Sandbox): void {
		sandbox.solana.events.on("slot", (event: { slot: number }) => {
			this.#times.set(event.slot, Date.now());
			for (const [slot, waiters] of this.#waiters) {
				if (slot > event.slot) continue;
				this.#waiters.delete(slot);
				for (const wake of waiters) wake();
			}
		});
	}

	/** Wall-clock ms at which the tip reached `slot`; waits for it while it is still ahead. */
	async reachedAt(slot: number, signal?: AbortSignal): Promise<number> {
		const known = this.#times.get(slot);
		if (known !== undefined) return known;
		await new Promise<void>((resolve, reject) => {
			const list = this.#waiters.get(slot) ?? [];
			list.push(resolve);
			this.#waiters.set(slot, list);
			signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
		});
		return this.#times.get(slot) as number;
	}
}
