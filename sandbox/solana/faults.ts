// Fault injection for the Solana RPC: latency, rate-limit / unhealthy-node errors, outages and
// silently dropped transactions. Random choices come from seeded PRNG streams, so a test that
// sets a seed sees the same sequence every run.

export type ErrorKind = "mixed" | "http429" | "nodeUnhealthy";

export interface OutageWindow {
	/** First slot of the outage (inclusive); from the start of the chain if absent. */
	fromSlot?: number;
	/** Last slot of the outage (inclusive); open-ended if absent. */
	toSlot?: number;
}

export interface SolanaFaults {
	latencyMs: number;
	/** Probability (0..1) that a request fails with HTTP 429 or JSON-RPC -32005. */
	errorRate: number;
	errorKind: ErrorKind;
	/** true: every request gets HTTP 503; a window: only while the tip slot is inside it. */
	outage: boolean | OutageWindow;
	/** Probability (0..1) that sendTransaction returns a signature but never executes. */
	dropTransactions: number;
	seed: number;
}

export type RequestFault = "http429" | "nodeUnhealthy";

/** mulberry32: tiny, fast and good enough to make fault sequences reproducible. */
export function mulberry32(seed: number): () => number {
	let state = seed >>> 0;
	return () => {
		state = (state + 0x6d2b79f5) >>> 0;
		let t = state;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

function fail(message: string): never {
	throw new RangeError(`invalid faults: ${message}`);
}

function probability(value: unknown, name: string): number {
	if (value === undefined) return 0;
	if (typeof value !== "number" || !(value >= 0 && value <= 1))
		fail(`${name} must be between 0 and 1`);
	return value;
}

function slotBound(value: unknown, name: string): number | undefined {
	if (value === undefined || value === null) return undefined;
	if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
		fail(`outage.${name} must be a slot number`);
	}
	return value;
}

/** Validates a fault request; unspecified knobs are off. */
export function parseFaults(input: unknown, defaultSeed: number): SolanaFaults {
	if (input === undefined || input === null) input = {};
	if (typeof input !== "object" || Array.isArray(input)) fail("expected an object");
	const raw = input as Record<string, unknown>;
	const known = ["latencyMs", "errorRate", "errorKind", "outage", "dropTransactions", "seed"];
	const unknown = Object.keys(raw).filter((key) => !known.includes(key));
	if (unknown.length > 0) fail(`unknown field ${unknown[0]}`);
	const latencyMs = raw.latencyMs ?? 0;
	if (
		typeof latencyMs !== "number" ||
		!Number.isInteger(latencyMs) ||
		latencyMs < 0 ||
		latencyMs > 60_000
	) {
		fail("latencyMs must be an integer between 0 and 60000");
	}
	const errorKind = raw.errorKind ?? "mixed";
	if (errorKind !== "mixed" && errorKind !== "http429" && errorKind !== "nodeUnhealthy") {
		fail("errorKind must be mixed, http429 or nodeUnhealthy");
	}
	let outage: boolean | OutageWindow = false;
	if (typeof raw.outage === "boolean") outage = raw.outage;
	else if (raw.outage !== undefined && raw.outage !== null) {
		if (typeof raw.outage !== "object" || Array.isArray(raw.outage))
			fail("outage must be a boolean or {fromSlot, toSlot}");
		const window = raw.outage as Record<string, unknown>;
		const fromSlot = slotBound(window.fromSlot, "fromSlot");
		const toSlot = slotBound(window.toSlot, "toSlot");
		outage = {};
		if (fromSlot !== undefined) outage.fromSlot = fromSlot;
		if (toSlot !== undefined) outage.toSlot = toSlot;
	}
	const seed = raw.seed ?? defaultSeed;
	if (typeof seed !== "number" || !Number.isInteger(seed)) fail("seed must be an integer");
	return {
		latencyMs,
		errorRate: probability(raw.errorRate, "errorRate"),
		errorKind,
		outage,
		dropTransactions: probability(raw.dropTransactions, "dropTransactions"),
		seed,
	};
}

export class FaultInjector {
	private faults: SolanaFaults;
	private requestRandom: () => number;
	private dropRandom: () => number;

	constructor(private readonly defaultSeed: number) {
		this.faults = parseFaults({}, defaultSeed);
		this.requestRandom = mulberry32(defaultSeed);
		this.dropRandom = mulberry32(defaultSeed ^ 0x5bd1e995);
	}

	get(): SolanaFaults {
		return structuredClone(this.faults);
	}

	/** Replaces every knob (unspecified ones turn off) and restarts the random streams. */
	set(input: unknown): SolanaFaults {
		this.faults = parseFaults(input, this.defaultSeed);
		this.requestRandom = mulberry32(this.faults.seed);
		this.dropRandom = mulberry32(this.faults.seed ^ 0x5bd1e995);
		return this.get();
	}

	inOutage(slot: number): boolean {
		const { outage } = this.faults;
		if (typeof outage === "boolean") return outage;
		return slot >= (outage.fromSlot ?? 0) && slot <= (outage.toSlot ?? Number.POSITIVE_INFINITY);
	}

	/** Draws once per request while errorRate > 0; a second draw picks the kind when mixed. */
	nextRequestFault(): RequestFault | undefined {
		const { errorRate, errorKind } = this.faults;
		if (errorRate <= 0 || this.requestRandom() >= errorRate) return undefined;
		if (errorKind !== "mixed") return errorKind;
		return this.requestRandom() < 0.5 ? "http429" : "nodeUnhealthy";
	}

	shouldDrop(): boolean {
		const { dropTransactions } = this.faults;
		return dropTransactions > 0 && this.dropRandom() < dropTransactions;
	}

	get latencyMs(): number {
		return this.faults.latencyMs;
	}
}
