import { EventEmitter } from "node:events";
import type { Server } from "node:http";
import type { Log } from "../http.js";
import { type ChainEvent, type ChainOptions, SolanaChain } from "./chain.js";
import type { Commitment } from "./clock.js";
import { decodeKey } from "./encoding.js";
import { RPC_NODE_UNHEALTHY } from "./errors.js";
import {
	airdrop,
	createSettlementAccounts,
	mintTokens,
	type SettlementAccounts,
} from "./faucet.js";
import { FaultInjector, type SolanaFaults } from "./faults.js";
import { registerAccountMethods } from "./methods/accounts.js";
import { registerClusterMethods } from "./methods/cluster.js";
import type { MethodContext } from "./methods/context.js";
import { registerHistoryMethods } from "./methods/history.js";
import { amountParam, MAX_ADVANCE, registerSimulatorMethods } from "./methods/simulator.js";
import { registerTransactionMethods } from "./methods/transactions.js";
import { PubSub } from "./pubsub.js";
import {
	createDefaultMethods,
	createSolanaRpcServer,
	type RequestGate,
	type RpcMethods,
} from "./rpc-server.js";

// The local Solana network: a LiteSVM-backed chain, its slot clock, fault knobs and the
// JSON-RPC method registry, with the same controls for in-process tests as over RPC.

export type { ChainEvent };

export interface SolanaSimulatorOptions {
	/** Milliseconds per slot; 0 = slots move only through advanceSlots / simulator_advanceSlots. */
	slotMs?: number;
	/** Slots after which a transaction is `confirmed`. */
	confirmedLag?: number;
	/** Slots after which a transaction is `finalized`. */
	finalizedLag?: number;
	/** Seeds the fault PRNG streams (errorRate, dropTransactions). */
	faultSeed?: number;
	/** Clock for block times, in milliseconds; Date.now by default. */
	now?: () => number;
	/**
	 * Wallets whose associated token accounts (one per settlement token) every chain starts
	 * with, created by the faucet in the genesis slot; a reset creates them again.
	 */
	settlementWallets?: readonly string[];
}

/** JSON-RPC calls served over HTTP, per method and per key (see SolanaSimulator.rpcStats). */
export interface RpcStats {
	total: number;
	methods: Record<string, { calls: number; byKey: Record<string, number> }>;
}

/** One served JSON-RPC call, as the "rpc" event reports it. */
export interface RpcCallEvent {
	method: string;
	/** The addresses or signatures the call is about (see rpcKeys). */
	keys: string[];
	/** Date.now() when the call was dispatched. */
	at: number;
}

const BASE58_KEY = /^[1-9A-HJ-NP-Za-km-z]{32,88}$/;

/**
 * What a call is about: its first parameter when that is an address or signature
 * (getSignaturesForAddress, getTransaction, getBalance...), or the addresses or signatures in a
 * first-parameter list (getSignatureStatuses, getMultipleAccounts). Anything else has none.
 */
export function rpcKeys(params: unknown): string[] {
	const first: unknown = Array.isArray(params) ? params[0] : undefined;
	const list = Array.isArray(first) ? first : [first];
	return list.filter((v): v is string => typeof v === "string" && BASE58_KEY.test(v));
}

export const SOLANA_SIMULATOR_DEFAULTS = Object.freeze({
	slotMs: 400,
	confirmedLag: 1,
	finalizedLag: 32,
	faultSeed: 1,
});

function checkCount(name: string, value: number, max: number): void {
	if (!Number.isInteger(value) || value < 0 || value > max) {
		throw new RangeError(`${name} must be an integer between 0 and ${max}, got ${value}`);
	}
}

export class SolanaSimulator {
	readonly slotMs: number;
	readonly faults: FaultInjector;
	readonly methods: RpcMethods;
	/**
	 * "slot", "transaction" and "account" events (ChainEvent payloads), "subscription"
	 * ({method, id}) when a WebSocket client subscribes, and "rpc" (RpcCallEvent) for each
	 * JSON-RPC call served over HTTP. E.g. `await once(sim.events,
	 * "transaction")`, then advance slots, for a client that is waiting on confirmation.
	 */
	readonly events = new EventEmitter();
	private current: SolanaChain;
	private timer: ReturnType<typeof setInterval> | undefined;
	private readonly pubsub: PubSub;
	private readonly chainOptions: ChainOptions;
	private stats: RpcStats = { total: 0, methods: {} };

	constructor(options: SolanaSimulatorOptions = {}) {
		const settings = { ...SOLANA_SIMULATOR_DEFAULTS, ...options };
		checkCount("slotMs", settings.slotMs, 3_600_000);
		checkCount("confirmedLag", settings.confirmedLag, 1000);
		checkCount("finalizedLag", settings.finalizedLag, 1000);
		if (settings.finalizedLag < settings.confirmedLag) {
			throw new RangeError("finalizedLag must be at least confirmedLag");
		}
		this.slotMs = settings.slotMs;
		this.faults = new FaultInjector(settings.faultSeed);
		this.pubsub = new PubSub(
			() => this.current,
			() => this.faults.inOutage(this.current.slot),
			(method, id) => this.events.emit("subscription", { method, id }),
		);
		const settlementWallets = [...(options.settlementWallets ?? [])];
		for (const wallet of settlementWallets) {
			if (!decodeKey(wallet)) {
				throw new RangeError(`settlementWallets: ${JSON.stringify(wallet)} is not a public key`);
			}
		}
		this.chainOptions = {
			confirmedLag: settings.confirmedLag,
			finalizedLag: settings.finalizedLag,
			now: options.now ?? Date.now,
			genesis: (chain) => {
				for (const wallet of settlementWallets) createSettlementAccounts(chain, wallet);
			},
			onChange: (event) => {
				this.pubsub.refresh();
				this.events.emit(event.type, event);
			},
		};
		this.current = new SolanaChain(this.chainOptions);
		const ctx: MethodContext = {
			chain: () => this.current,
			faults: this.faults,
		};
		this.methods = createDefaultMethods();
		registerClusterMethods(this.methods, ctx);
		registerAccountMethods(this.methods, ctx);
		registerTransactionMethods(this.methods, ctx);
		registerHistoryMethods(this.methods, ctx);
		registerSimulatorMethods(this.methods, this);
	}

	get chain(): SolanaChain {
		return this.current;
	}

	get slot(): number {
		return this.current.slot;
	}

	/** Starts the slot clock (no-op when slotMs is 0). */
	start(): void {
		if (this.slotMs === 0 || this.timer) return;
		this.timer = setInterval(() => this.current.advanceSlots(1), this.slotMs);
		this.timer.unref();
	}

	/** Stops the slot clock; the chain stays usable with manual slots. */
	stop(): void {
		if (this.timer) clearInterval(this.timer);
		this.timer = undefined;
	}

	/** Stops the clock and drops WebSocket subscribers (their sockets outlive server.close). */
	close(): void {
		this.stop();
		this.pubsub.closeAll();
	}

	advanceSlots(count = 1): number {
		checkCount("count", count, MAX_ADVANCE);
		return this.current.advanceSlots(count);
	}

	/**
	 * Advances slot by slot until `signature` reaches `commitment`; returns the slot it landed
	 * in. Throws if it never executed (dropped, expired) so a test fails instead of hanging.
	 */
	confirm(signature: string, commitment: Commitment = "confirmed"): number {
		const record = this.current.ledger.get(signature);
		if (!record) throw new Error(`transaction ${signature} was not executed`);
		while (!this.current.clock.reached(record.slot, commitment)) this.current.advanceSlots(1);
		return record.slot;
	}

	/** Replaces every knob (unspecified ones turn off); throws RangeError on bad values. */
	setFaults(faults: Partial<SolanaFaults>): SolanaFaults {
		return this.faults.set(faults);
	}

	getFaults(): SolanaFaults {
		return this.faults.get();
	}

	clearFaults(): SolanaFaults {
		return this.faults.set({});
	}

	/**
	 * A fresh chain (genesis accounts and the settlement wallets' token accounts only, new
	 * blockhashes, back at slot finalizedLag), no faults.
	 */
	reset(): void {
		this.current = new SolanaChain(this.chainOptions);
		this.faults.set({});
	}

	/** Faucet transfer; returns the signature. The transaction is processed at the current slot. */
	airdrop(address: string, lamports: bigint | number): string {
		return airdrop(this.current, address, BigInt(lamports));
	}

	/** Mints base units of a sandbox token to the owner's associated token account. */
	mintTokens(owner: string, mint: string, amount: bigint | number | string): string {
		return mintTokens(
			this.current,
			owner,
			mint,
			typeof amount === "bigint" ? amount : amountParam(amount),
		);
	}

	/**
	 * Opens a wallet's associated token account for every settlement token (USDC, PYUSD) at
	 * the current slot, as createSettlementAccounts at start does; a no-op once they exist.
	 */
	createSettlementAccounts(wallet: string): SettlementAccounts {
		return createSettlementAccounts(this.current, wallet);
	}

	/**
	 * Calls served over HTTP since start (or resetRpcStats), per method and per key (rpcKeys):
	 * e.g. `methods.getSignaturesForAddress.byKey[reference]`. Calls refused by a fault are not
	 * served and not counted.
	 */
	rpcStats(): RpcStats {
		return structuredClone(this.stats);
	}

	resetRpcStats(): void {
		this.stats = { total: 0, methods: {} };
	}

	private countCall(method: string, params: unknown): void {
		const keys = rpcKeys(params);
		this.stats.total += 1;
		const entry = this.stats.methods[method] ?? { calls: 0, byKey: {} };
		this.stats.methods[method] = entry;
		entry.calls += 1;
		for (const key of keys) entry.byKey[key] = (entry.byKey[key] ?? 0) + 1;
		this.events.emit("rpc", { method, keys, at: Date.now() } satisfies RpcCallEvent);
	}

	/** The fault gate the HTTP server consults; simulator_* requests always pass. */
	readonly gate: RequestGate = (methods) => {
		if (methods.length > 0 && methods.every((m) => m.startsWith("simulator_"))) return undefined;
		const delayMs = this.faults.latencyMs;
		if (this.faults.inOutage(this.current.slot)) {
			return { delayMs, http: { status: 503, body: "Service Unavailable" } };
		}
		const fault = this.faults.nextRequestFault();
		if (fault === "http429") {
			return {
				delayMs,
				http: {
					status: 429,
					body: {
						jsonrpc: "2.0",
						error: { code: 429, message: "Too many requests for a specific RPC call" },
						id: null,
					},
				},
			};
		}
		if (fault === "nodeUnhealthy") {
			return {
				delayMs,
				rpcError: {
					code: RPC_NODE_UNHEALTHY,
					message: "Node is unhealthy",
					data: { numSlotsBehind: null },
				},
			};
		}
		return delayMs > 0 ? { delayMs } : undefined;
	};

	/** JSON-RPC over HTTP, plus PubSub over WebSocket upgrades on the same port. */
	createServer(log?: Log): Server {
		const server = createSolanaRpcServer({
			methods: this.methods,
			gate: this.gate,
			log,
			onCall: (method, params) => this.countCall(method, params),
		});
		this.pubsub.attach(server);
		return server;
	}
}
