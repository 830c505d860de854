/**
 * Token rates for quoting: "price-currency minor units per token base unit" as an exact
 * rational, from Pyth's token/USD feed and, for other currencies, a USD FX feed. A missing,
 * non-positive, too uncertain or too old price stops quoting with a RateError; an old rate is
 * never used.
 */
import { composeTokenRate, type ExactRate, type FxPrice } from "../../domain/conversion";
import { currencyExponent, isSupportedCurrency } from "../../domain/money";
import { ApiError } from "../../lib/errors";
import { DEFAULT_FEEDS, type FeedTable, lookup, type TokenSymbol } from "./feeds";
import { type FetchPythOptions, fetchPythPrices, type PythPrice } from "./pyth";

/** Where prices come from: Hermes in production and against the sandbox, a fake in tests. */
export interface PriceSource {
	readonly name: "pyth";
	latest(feedIds: string[]): Promise<Map<string, PythPrice>>;
}

/** A Hermes-backed source: `https://hermes.pyth.network`, or the sandbox's `…:8890/hermes`. */
export function pythSource(baseUrl: string, opts: FetchPythOptions = {}): PriceSource {
	return { name: "pyth", latest: (feedIds) => fetchPythPrices(baseUrl, feedIds, opts) };
}

export type RateErrorReason =
	| "unsupported" // no feed for this token or currency
	| "fetch_failed" // the source could not be reached or answered badly
	| "missing" // the source did not return a feed
	| "invalid" // zero or negative price
	| "uncertain" // confidence interval wider than allowed
	| "stale"; // older than maxStalenessSeconds

export abstract class RateError extends Error {
	abstract readonly reason: RateErrorReason;

	/** Quoting is paused rather than wrong: a retryable 503 for API clients. */
	toApiError(): ApiError {
		return new ApiError("service_unavailable", `Cannot quote right now: ${this.message}`);
	}
}

export class RateUnavailableError extends RateError {
	constructor(
		readonly reason: Exclude<RateErrorReason, "stale">,
		message: string,
		options?: { cause?: unknown },
	) {
		super(message, options);
		this.name = "RateUnavailableError";
	}
}

export class RateStaleError extends RateError {
	readonly reason = "stale";

	constructor(
		readonly feed: string,
		readonly publishTime: number,
		readonly ageSeconds: number,
		readonly maxStalenessSeconds: number,
	) {
		super(`${feed} price is ${ageSeconds} s old, over the ${maxStalenessSeconds} s limit`);
		this.name = "RateStaleError";
	}
}

export interface TokenRate extends ExactRate {
	source: "pyth";
	/** Unix seconds of the oldest price the rate was built from. */
	publishTime: number;
	token: string;
	priceCurrency: string;
}

export interface TokenRateRequest {
	token: TokenSymbol | (string & {});
	/** Lowercase ISO 4217 code, as on the wire. */
	priceCurrency: string;
	/** Unix seconds (not milliseconds). */
	now: number;
	maxStalenessSeconds: number;
	source: PriceSource;
	/** Refuse prices whose confidence interval exceeds this many basis points of the price. */
	maxConfidenceBps?: number;
	feeds?: FeedTable;
}

/** Unix seconds stay below this until the year 5138; a millisecond clock is far above it. */
const MAX_UNIX_SECONDS = 1e11;

export async function getTokenRate(req: TokenRateRequest): Promise<TokenRate> {
	const { token, priceCurrency, now, maxStalenessSeconds } = req;
	if (!Number.isFinite(now) || now < 0 || now >= MAX_UNIX_SECONDS) {
		throw new RangeError(`now must be unix seconds, got ${now}`);
	}
	if (!Number.isFinite(maxStalenessSeconds) || maxStalenessSeconds < 0) {
		throw new RangeError("maxStalenessSeconds must be a non-negative number");
	}
	const bps = req.maxConfidenceBps;
	if (bps !== undefined && (!Number.isSafeInteger(bps) || bps < 0)) {
		throw new RangeError("maxConfidenceBps must be a non-negative integer");
	}
	const feeds = req.feeds ?? DEFAULT_FEEDS;
	const info = lookup(feeds.tokens, token);
	if (info === undefined) {
		throw new RateUnavailableError(
			"unsupported",
			`no price feed for token ${JSON.stringify(token)}`,
		);
	}
	if (!isSupportedCurrency(priceCurrency)) {
		throw new RateUnavailableError(
			"unsupported",
			`unsupported currency ${JSON.stringify(priceCurrency)}`,
		);
	}
	const fxFeed = priceCurrency === "usd" ? undefined : lookup(feeds.fx, priceCurrency);
	if (priceCurrency !== "usd" && fxFeed === undefined) {
		throw new RateUnavailableError("unsupported", `no exchange-rate feed for ${priceCurrency}`);
	}

	let prices: Map<string, PythPrice>;
	try {
		prices = await req.source.latest([info.usdFeed.id, ...(fxFeed ? [fxFeed.id] : [])]);
	} catch (error) {
		const detail = error instanceof Error ? error.message : String(error);
		throw new RateUnavailableError("fetch_failed", detail, { cause: error });
	}
	const tokenUsd = checkPrice(info.usdFeed.name, prices.get(info.usdFeed.id), req);
	const fx = fxFeed && checkPrice(fxFeed.name, prices.get(fxFeed.id), req);
	const fxPrice: FxPrice | undefined =
		fxFeed && fx
			? { price: { mantissa: fx.price, expo: fx.expo }, usdIsQuote: fxFeed.usdIsQuote }
			: undefined;
	const rate = composeTokenRate({
		tokenUsd: { mantissa: tokenUsd.price, expo: tokenUsd.expo },
		tokenDecimals: info.decimals,
		currencyExponent: currencyExponent(priceCurrency),
		...(fxPrice === undefined ? {} : { fx: fxPrice }),
	});
	return {
		...rate,
		source: "pyth",
		publishTime: Math.min(tokenUsd.publishTime, fx?.publishTime ?? tokenUsd.publishTime),
		token: info.symbol,
		priceCurrency,
	};
}

function checkPrice(
	feed: string,
	price: PythPrice | undefined,
	req: Pick<TokenRateRequest, "now" | "maxStalenessSeconds" | "maxConfidenceBps">,
): PythPrice {
	if (price === undefined) {
		throw new RateUnavailableError("missing", `the price source returned no ${feed} price`);
	}
	if (price.price <= 0n) {
		throw new RateUnavailableError("invalid", `${feed} price is not positive (${price.price})`);
	}
	if (
		req.maxConfidenceBps !== undefined &&
		price.conf * 10_000n > price.price * BigInt(req.maxConfidenceBps)
	) {
		throw new RateUnavailableError(
			"uncertain",
			`${feed} confidence interval is wider than ${req.maxConfidenceBps} bps of the price`,
		);
	}
	// A publish time slightly ahead of our clock is skew, not staleness.
	const age = Math.max(0, Math.floor(req.now) - price.publishTime);
	if (age > req.maxStalenessSeconds) {
		throw new RateStaleError(feed, price.publishTime, age, req.maxStalenessSeconds);
	}
	return price;
}
