import {
	decimalToMantissa,
	findFeed,
	mantissaToDecimal,
	SANDBOX_FEEDS,
	type SandboxFeed,
} from "./feeds.js";

// In-memory price state behind the Hermes and FX reference endpoints. Prices are integer
// mantissas (bigint) at each feed's exponent; nothing here is ever a float.

export class UnknownFeedError extends Error {
	constructor(
		readonly key: string,
		known: readonly SandboxFeed[],
	) {
		super(
			`unknown price feed ${JSON.stringify(key)}; known: ${known.map((f) => f.name).join(", ")}`,
		);
		this.name = "UnknownFeedError";
	}
}

export interface FeedSnapshot {
	feed: SandboxFeed;
	price: bigint;
	conf: bigint;
	expo: number;
	/** The sandbox has no history, so the EMA is the current price. */
	emaPrice: bigint;
	emaConf: bigint;
	/** Unix seconds: now minus the feed's configured lag. */
	publishTime: number;
	prevPublishTime: number;
	proofAvailableTime: number;
	slot: number;
	lagSeconds: number;
}

export interface PriceStoreOptions {
	/** Milliseconds since the epoch; tests pass a fixed clock. */
	now?: () => number;
	feeds?: readonly SandboxFeed[];
}

interface FeedState {
	price: bigint;
	conf: bigint;
	lagSeconds: number;
}

/** Largest lag the stale knob accepts: ten years, far past any staleness limit. */
export const MAX_LAG_SECONDS = 10 * 365 * 24 * 3600;

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const U64_MAX = 2n ** 64n - 1n;

/** Pythnet produces a slot about every 400 ms; the slot is derived from the clock. */
const SLOT_MS = 400;

/** 0.05% of the price: in the range Pyth reports for liquid markets. */
function defaultConf(price: bigint): bigint {
	return (price < 0n ? -price : price) / 2000n;
}

export class PriceStore {
	readonly now: () => number;
	readonly feeds: readonly SandboxFeed[];
	private readonly state = new Map<string, FeedState>();

	constructor(options: PriceStoreOptions = {}) {
		this.now = options.now ?? Date.now;
		this.feeds = options.feeds ?? SANDBOX_FEEDS;
		this.reset();
	}

	/** Back to every feed's default price, default confidence and no lag. */
	reset(): void {
		this.state.clear();
		for (const feed of this.feeds) {
			const price = decimalToMantissa(feed.defaultPrice, feed.expo);
			this.state.set(feed.id, { price, conf: defaultConf(price), lagSeconds: 0 });
		}
	}

	/** Throws UnknownFeedError for anything findFeed does not recognise. */
	resolve(key: string): SandboxFeed {
		const feed = findFeed(key, this.feeds);
		if (feed === undefined) throw new UnknownFeedError(key, this.feeds);
		return feed;
	}

	/** Undefined instead of an error: Hermes reports unknown ids itself. */
	find(key: string): SandboxFeed | undefined {
		return findFeed(key, this.feeds);
	}

	/**
	 * Sets a price from a decimal string ("123.45"); the confidence defaults to 0.05% of it.
	 * Zero and negative prices are accepted so tests can check the gateway refuses them.
	 */
	set(key: string, price: string, options: { conf?: string } = {}): FeedSnapshot {
		const feed = this.resolve(key);
		const mantissa = decimalToMantissa(price, feed.expo);
		const conf =
			options.conf === undefined
				? defaultConf(mantissa)
				: decimalToMantissa(options.conf, feed.expo);
		if (conf < 0n) throw new RangeError("conf must not be negative");
		// Pyth's wire types: price is an i64, conf a u64.
		if (mantissa < I64_MIN || mantissa > I64_MAX || conf > U64_MAX) {
			throw new RangeError("price or conf does not fit Pyth's 64-bit fields");
		}
		this.entry(feed).price = mantissa;
		this.entry(feed).conf = conf;
		return this.snapshot(feed.id);
	}

	/** Makes the feed's publish_time lag the clock by `seconds`; 0 makes it fresh again. */
	stale(key: string, seconds: number): FeedSnapshot {
		const feed = this.resolve(key);
		if (!Number.isSafeInteger(seconds) || seconds < 0 || seconds > MAX_LAG_SECONDS) {
			throw new RangeError(
				`seconds must be an integer from 0 to ${MAX_LAG_SECONDS}, got ${seconds}`,
			);
		}
		this.entry(feed).lagSeconds = seconds;
		return this.snapshot(feed.id);
	}

	snapshot(key: string): FeedSnapshot {
		const feed = this.resolve(key);
		const { price, conf, lagSeconds } = this.entry(feed);
		const nowMs = this.now();
		const publishTime = Math.floor(nowMs / 1000) - lagSeconds;
		return {
			feed,
			price,
			conf,
			expo: feed.expo,
			emaPrice: price,
			emaConf: conf,
			publishTime,
			prevPublishTime: publishTime - 1,
			proofAvailableTime: publishTime + 1,
			slot: Math.floor(nowMs / SLOT_MS) - Math.ceil((lagSeconds * 1000) / SLOT_MS),
			lagSeconds,
		};
	}

	/** A JSON-friendly view for the admin endpoints: decimal strings, never numbers. */
	describe(key: string): Record<string, string | number> {
		const s = this.snapshot(key);
		return {
			feed: s.feed.name,
			id: s.feed.id,
			price: mantissaToDecimal(s.price, s.expo),
			conf: mantissaToDecimal(s.conf, s.expo),
			expo: s.expo,
			publish_time: s.publishTime,
			lag_seconds: s.lagSeconds,
		};
	}

	private entry(feed: SandboxFeed): FeedState {
		const entry = this.state.get(feed.id);
		if (entry === undefined) throw new UnknownFeedError(feed.name, this.feeds);
		return entry;
	}
}
