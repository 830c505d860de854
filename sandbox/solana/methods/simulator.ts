import { invalidParams } from "../errors.js";
import { FaucetError, type SettlementAccounts } from "../faucet.js";
import type { SolanaFaults } from "../faults.js";
import { positional, pubkeyParam, u64AmountParam } from "../params.js";
import type { RpcMethods } from "../rpc-server.js";

// Sandbox-only methods (simulator_*): slot control, fault knobs, reset, test-token minting and
// settlement wallets' token accounts.
// The fault gate never applies to them, so a test can always lift an outage it set.

export interface SimulatorControls {
	advanceSlots(count: number): number;
	setFaults(faults: unknown): SolanaFaults;
	getFaults(): SolanaFaults;
	reset(): void;
	mintTokens(owner: string, mint: string, amount: bigint): string;
	createSettlementAccounts(wallet: string): SettlementAccounts;
	readonly slot: number;
}

export const MAX_ADVANCE = 10_000;
/** Base units up to u64::MAX, as a decimal string or a JSON integer (exact past 2^53). */
export function amountParam(value: unknown): bigint {
	return u64AmountParam(value, "an amount in base units (decimal string or integer)");
}

export function registerSimulatorMethods(methods: RpcMethods, sim: SimulatorControls): void {
	methods.set("simulator_advanceSlots", (params) => {
		const count = positional(params, 0)[0] ?? 1;
		if (typeof count !== "number" || !Number.isInteger(count) || count < 0 || count > MAX_ADVANCE) {
			throw invalidParams(
				`Invalid params: slot count must be an integer from 0 to ${MAX_ADVANCE}.`,
			);
		}
		return sim.advanceSlots(count);
	});

	methods.set("simulator_setFaults", (params) => {
		try {
			return sim.setFaults(positional(params, 0)[0]);
		} catch (error) {
			if (error instanceof RangeError) throw invalidParams(`Invalid params: ${error.message}.`);
			throw error;
		}
	});

	methods.set("simulator_getFaults", () => sim.getFaults());

	methods.set("simulator_reset", () => {
		sim.reset();
		return sim.slot;
	});

	methods.set("simulator_mintTokens", (params) => {
		const args = positional(params, 3);
		const owner = pubkeyParam(args[0]);
		const mint = pubkeyParam(args[1]);
		const amount = amountParam(args[2]);
		try {
			return sim.mintTokens(owner, mint, amount);
		} catch (error) {
			if (error instanceof FaucetError) throw invalidParams(`Invalid param: ${error.message}`);
			throw error;
		}
	});

	methods.set("simulator_createSettlementAccounts", (params) => {
		const wallet = pubkeyParam(positional(params, 1)[0]);
		try {
			return sim.createSettlementAccounts(wallet);
		} catch (error) {
			if (error instanceof FaucetError) throw invalidParams(`Invalid param: ${error.message}`);
			throw error;
		}
	});
}
