import { mulberry32 } from "../solana/faults.js";

// Fault knobs for the Stripe API, like the Solana ones: added latency, a rate of 500
// `api_error` responses (seeded, so a test sees the same sequence every run) and a full outage
// (503). They apply to `/v1/*` only: the emulator-only `_test` routes, the 3-D Secure page and
// the health check always answer, so a test can still drive and observe the emulator.

export interface StripeFaults {
	latencyMs: number;
	/** Probability (0..1) that a request fails with HTTP 500 `api_error` before it runs. */
	errorRate: number;
	/** Every request gets HTTP 503 `api_error`. */
	outage: boolean;
	seed: number;
}

function fail(message: string): never {
	throw new RangeError(`invalid faults: ${message}`);
}

export function parseStripeFaults(input: unknown, defaultSeed: number): StripeFaults {
	const raw = (input ?? {}) as Record<string, unknown>;
	if (typeof raw !== "object" || Array.isArray(raw)) fail("expected an object");
	const known = ["latencyMs", "errorRate", "outage", "seed"];
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
	const errorRate = raw.errorRate ?? 0;
	if (typeof errorRate !== "number" || !(errorRate >= 0 && errorRate <= 1)) {
		fail("errorRate must be between 0 and 1");
	}
	const outage = raw.outage ?? false;
	if (typeof outage !== "boolean") fail("outage must be a boolean");
	const seed = raw.seed ?? defaultSeed;
	if (typeof seed !== "number" || !Number.isInteger(seed)) fail("seed must be an integer");
	return { latencyMs, errorRate, outage, seed };
}

export class StripeFaultInjector {
	private faults: StripeFaults;
	private random: () => number;

	constructor(private readonly defaultSeed = 1) {
		this.faults = parseStripeFaults({}, defaultSeed);
		this.random = mulberry32(defaultSeed);
	}

	get(): StripeFaults {
		return { ...this.faults };
	}

	/** Replaces every knob (unspecified ones turn off) and restarts the random stream. */
	set(input: unknown): StripeFaults {
		this.faults = parseStripeFaults(input, this.defaultSeed);
		this.random = mulberry32(this.faults.seed);
		return this.get();
	}

	/** One draw per request while errorRate > 0. */
	nextRequestFails(): boolean {
		return this.faults.errorRate > 0 && this.random() < this.faults.errorRate;
	}
}
