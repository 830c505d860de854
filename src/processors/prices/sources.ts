/**
 * Rate sources for the rates cache, one interface for every provider: crypto prices from Pyth's
 * Hermes API and fiat reference rates from a Frankfurter-style feed. A source answers pairs
 * ("SOL/USD": dollars per SOL) as exact decimals, never floats.
 */
import { type FetchTextOptions, PriceFeedError } from "./fetch-text";
import { fetchReferenceRates } from "./fx-reference";
import { fetchPythPrices } from "./pyth";

export type RateSourceName = "pyth" | "fx_reference";

/** One pair as a source reports it: `quote` units per one `base` unit = mantissa × 10^expo. */
export interface SourceRate {
	pair: string;
	base: string;
	quote: string;
	mantissa: bigint;
	expo: number;
	/** Unix seconds of the provider's publication. */
	publishTime: number;
}

export interface RateSource {
	readonly name: RateSourceName;
	/** Every pair the source can answer. */
	readonly pairs: readonly string[];
	/** Latest rates for `pairs` (all of them when omitted); pairs it cannot price are left out. */
	fetch(pairs?: readonly string[]): Promise<SourceRate[]>;
}

function splitPair(pair: string): { base: string; quote: string } {
	const [base = "", quote = ""] = pair.split("/");
	return { base, quote };
}

/** Pyth feeds by pair name; several pairs may share a feed (a stablecoin on USDC/USD). */
export function pythRateSource(
	baseUrl: string,
	feeds: readonly { pair: string; id: string }[],
	opts: FetchTextOptions = {},
): RateSource {
	return {
		name: "pyth",
		pairs: feeds.map((f) => f.pair),
		async fetch(pairs) {
			const wanted = pairs ? feeds.filter((f) => pairs.includes(f.pair)) : feeds;
			if (wanted.length === 0) return [];
			const prices = await fetchPythPrices(
				baseUrl,
				wanted.map((f) => f.id),
				opts,
			);
			const out: SourceRate[] = [];
			for (const feed of wanted) {
				const price = prices.get(feed.id.toLowerCase().replace(/^0x/, ""));
				// A missing or non-positive price is left out: the cache keeps what it had.
				if (!price || price.price <= 0n) continue;
				out.push({
					pair: feed.pair,
					...splitPair(feed.pair),
					mantissa: price.price,
					expo: price.expo,
					publishTime: price.publishTime,
				});
			}
			return out;
		},
	};
}

/**
 * Reference rates against one base currency (`USD/EUR`: euros per dollar). The provider gives
 * only the publication date, so a rate counts as published at 00:00 UTC that day: its age is
 * never understated.
 */
export function fxReferenceRateSource(
	baseUrl: string,
	currencies: readonly string[],
	opts: FetchTextOptions & { base?: string } = {},
): RateSource {
	const base = opts.base ?? "usd";
	const symbols = currencies.filter((c) => c !== base);
	const pairOf = (code: string) => `${base.toUpperCase()}/${code.toUpperCase()}`;
	return {
		name: "fx_reference",
		pairs: symbols.map(pairOf),
		async fetch(pairs) {
			const wanted = pairs ? symbols.filter((c) => pairs.includes(pairOf(c))) : symbols;
			if (wanted.length === 0) return [];
			const reference = await fetchReferenceRates(baseUrl, { base, symbols: wanted }, opts);
			const publishTime = Date.parse(`${reference.date}T00:00:00Z`) / 1000;
			if (!Number.isSafeInteger(publishTime)) {
				throw new PriceFeedError(`FX reference date ${reference.date} is not a date`);
			}
			const out: SourceRate[] = [];
			for (const code of wanted) {
				const rate = reference.rates.get(code);
				if (!rate) continue;
				out.push({
					pair: pairOf(code),
					base: base.toUpperCase(),
					quote: code.toUpperCase(),
					mantissa: rate.mantissa,
					expo: rate.expo,
					publishTime,
				});
			}
			return out;
		},
	};
}
