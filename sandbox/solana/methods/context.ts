import type { SolanaChain } from "../chain.js";
import type { Commitment } from "../clock.js";
import type { FaultInjector } from "../faults.js";
import { type Config, checkMinContextSlot } from "../params.js";
import { SOLANA_CORE_VERSION } from "../rpc-server.js";

// What method handlers share: the live chain (replaced on reset) and the fault knobs.

export interface MethodContext {
	chain(): SolanaChain;
	faults: FaultInjector;
}

export interface RpcContext {
	apiVersion: string;
	slot: number;
}

/** The `{context, value}` envelope, for the bank a commitment reads from. */
export function withContext<T>(slot: number, value: T): { context: RpcContext; value: T } {
	return { context: { apiVersion: SOLANA_CORE_VERSION, slot }, value };
}

/** The slot a read at this commitment sees, after honouring minContextSlot. */
export function readSlot(chain: SolanaChain, commitment: Commitment, config: Config): number {
	const slot = chain.clock.slotFor(commitment);
	checkMinContextSlot(config, slot);
	return slot;
}
