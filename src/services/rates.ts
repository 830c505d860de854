/**
 * The rates service: a D1 cache of the latest rate of every pair from every source, refreshed by
 * the minute cron and read by quoting, conversions and card presentment.
 *
 * Reads go to the cache first, in one query. A pair the cache lacks, or holds past its source's
 * age limit, is fetched live from its source once (and written back); if that yields nothing
 * fresh either, the read fails with a RateError naming the pair and its age. An old rate is
 * never used. So a healthy cron keeps `POST /v1/payments` at one D1 read for rates and no price
 * call, and a cold cache (a new deployment, a missed cron) costs one provider call, not an outage.
 */

import { getConfig } from "../config";
import { cachedRateRows, type RateRow, ratesOfPairs, upsertRates } from "../db/rates";
import type { ExactRate } from "../domain/conversion";
import { divide, inverse, type Rational, rational, tokenRateFromRationals } from "../domain/fx";
import { currencyExponent, isSupportedCurrency } from "../domain/money";
import type { Env } from "../env";
import { log } from "../lib/log";
import { FX_FEEDS, lookup } from "../processors/prices/feeds";
import { RateStaleError, RateUnavailableError } from "../processors/prices/rates";
import {
	fxReferenceRateSource,
	pythRateSource,
	type RateSource,
	type RateSourceName,
	type SourceRate,
} from "../processors/prices/sources";
import { type SolanaToken, tokenCatalog } from "./tokens";

export interface RateKey {
	source: RateSourceName;
	pair: string;
}

export interface CachedRate extends RateKey {
	base: string;
	quote: string;
	/** `quote` units per one `base` unit, exactly (in lowest terms). */
	rate: Rational;
	/** As stored: the provider's decimal, unreduced. */
	numerator: string;
	denominator: string;
	publishTime: number;
	fetchedAt: number;
}

/** How old a rate of `source` may be, in seconds, before it is refused. */
export function maxAgeSeconds(env: Env, source: RateSourceName): number {
	const config = getConfig(env);
	return source === "pyth"
		? config.PRICE_MAX_STALENESS_SECONDS
		: config.FX_REFERENCE_MAX_AGE_SECONDS;
}

/** Pyth pairs: every quotable token against the dollar, and the FX feeds quoting uses. */
export function pythFeeds(env: Env): { pair: string; id: string }[] {
	return [
		...tokenCatalog(env).map((t) => ({ pair: `${t.symbol}/USD`, id: t.usdFeed.id })),
		...Object.values(FX_FEEDS).map((f) => ({ pair: f.name, id: f.id })),
	];
}

/** The configured sources; the reference feed only when FX_REFERENCE_URL is set. */
export function rateSources(env: Env): Partial<Record<RateSourceName, RateSource>> {
	const sources: Partial<Record<RateSourceName, RateSource>> = {
		pyth: pythRateSource(env.PYTH_HERMES_URL, pythFeeds(env)),
	};
	const { FX_REFERENCE_URL, FX_REFERENCE_CURRENCIES } = getConfig(env);
	if (FX_REFERENCE_URL) {
		sources.fx_reference = fxReferenceRateSource(FX_REFERENCE_URL, FX_REFERENCE_CURRENCIES);
	}
	return sources;
}

function fromRow(row: RateRow): CachedRate {
	return {
		pair: row.pair,
		source: row.source as RateSourceName,
		base: row.base,
		quote: row.quote,
		rate: rational(BigInt(row.rate_numerator), BigInt(row.rate_denominator)),
		numerator: row.rate_numerator,
		denominator: row.rate_denominator,
		publishTime: row.publish_time,
		fetchedAt: row.fetched_at,
	};
}

function fromSource(source: RateSourceName, r: SourceRate, fetchedAt: number): CachedRate {
	const [numerator, denominator] =
		r.expo >= 0 ? [r.mantissa * 10n ** BigInt(r.expo), 1n] : [r.mantissa, 10n ** BigInt(-r.expo)];
	return {
		source,
		pair: r.pair,
		base: r.base,
		quote: r.quote,
		rate: rational(numerator, denominator),
		numerator: numerator.toString(),
		denominator: denominator.toString(),
		publishTime: r.publishTime,
		fetchedAt,
	};
}

export interface RefreshResult {
	source: RateSourceName;
	pairs: number;
	error?: string;
}

/**
 * The cron's refresh: every pair of every source, one provider call per source, one D1 batch.
 * A failing source is logged and reported, never thrown: the other sources and the rest of the
 * cron run on.
 */
export async function refreshRates(env: Env, now: number): Promise<RefreshResult[]> {
	const sources = Object.values(rateSources(env));
	return Promise.all(
		sources.map(async (source): Promise<RefreshResult> => {
			try {
				const fetched = (await source.fetch()).map((r) => fromSource(source.name, r, now));
				await upsertRates(env.DB, fetched);
				return { source: source.name, pairs: fetched.length };
			} catch (err) {
				const error = err instanceof Error ? err.message : String(err);
				log("warn", "rates refresh failed", { source: source.name, error });
				return { source: source.name, pairs: 0, error };
			}
		}),
	);
}

const keyOf = (k: RateKey) => `${k.source}:${k.pair}`;

/**
 * Current rates for `keys`, keyed by `source:pair`: one D1 query, then a live fetch only for
 * what is missing or too old. Throws RateStaleError (naming the pair and its age) or
 * RateUnavailableError when a key has no usable rate.
 */
export async function readRates(
	env: Env,
	keys: RateKey[],
	now: number,
): Promise<Map<string, CachedRate>> {
	const wanted = [...new Map(keys.map((k) => [keyOf(k), k])).values()];
	const found = new Map<string, CachedRate>();
	if (wanted.length === 0) return found;
	const pairs = [...new Set(wanted.map((k) => k.pair))];
	for (const row of await ratesOfPairs(env.DB, pairs))
		found.set(`${row.source}:${row.pair}`, fromRow(row));

	const fresh = (k: RateKey) => {
		const r = found.get(keyOf(k));
		return r !== undefined && now - r.publishTime <= maxAgeSeconds(env, k.source);
	};
	const missing = wanted.filter((k) => !fresh(k));
	const fetchErrors = new Map<RateSourceName, string>();
	if (missing.length > 0) {
		const sources = rateSources(env);
		const bySource = new Map<RateSourceName, string[]>();
		for (const k of missing) bySource.set(k.source, [...(bySource.get(k.source) ?? []), k.pair]);
		const fetched: CachedRate[] = [];
		await Promise.all(
			[...bySource].map(async ([name, sourcePairs]) => {
				const source = sources[name];
				if (!source) {
					fetchErrors.set(name, `the ${name} source is not configured`);
					return;
				}
				try {
					const got = await source.fetch(sourcePairs.filter((p) => source.pairs.includes(p)));
					fetched.push(...got.map((r) => fromSource(name, r, now)));
				} catch (err) {
					fetchErrors.set(name, err instanceof Error ? err.message : String(err));
				}
			}),
		);
		for (const r of fetched) {
			const had = found.get(keyOf(r));
			if (!had || r.publishTime >= had.publishTime) found.set(keyOf(r), r);
		}
		try {
			await upsertRates(env.DB, fetched);
		} catch (err) {
			// The rates are good for this read; the cron writes them again within a minute.
			log("warn", "could not cache fetched rates", { error: String(err) });
		}
	}

	const out = new Map<string, CachedRate>();
	for (const k of wanted) {
		const r = found.get(keyOf(k));
		const limit = maxAgeSeconds(env, k.source);
		if (r === undefined) {
			const error = fetchErrors.get(k.source);
			if (error !== undefined) {
				throw new RateUnavailableError("fetch_failed", `no ${k.pair} rate: ${error}`);
			}
			throw new RateUnavailableError("missing", `no ${k.pair} rate from ${k.source}`);
		}
		const age = Math.max(0, now - r.publishTime);
		if (age > limit) throw new RateStaleError(k.pair, r.publishTime, age, limit);
		out.set(keyOf(k), r);
	}
	return out;
}

/** The cached rates, optionally of one base ("SOL", "USD"): a primary-key range, bounded. */
export async function listCachedRates(db: D1Database, base?: string): Promise<CachedRate[]> {
	return (await cachedRateRows(db, base)).map(fromRow);
}

/**
 * The price currencies a Solana quote can ever price: the dollar and each currency with a Pyth
 * FX feed (quoteTokenRate's own rule). Any other currency is refused outright rather than
 * waited for; `GET /v1/rates` lists these.
 */
export function priceableCurrencies(): string[] {
	return ["usd", ...Object.keys(FX_FEEDS)].sort();
}

export function isPriceableCurrency(currency: string): boolean {
	return currency === "usd" || lookup(FX_FEEDS, currency) !== undefined;
}

/**
 * Quoting's rate: price-currency minor units per token base unit, from Pyth's token/USD price
 * and, for another currency, Pyth's FX feed, both read through the cache. Throws RateError.
 */
export async function quoteTokenRate(
	env: Env,
	token: SolanaToken,
	currency: string,
	now: number,
): Promise<ExactRate & { source: "pyth"; publishTime: number }> {
	const fx = currency === "usd" ? undefined : lookup(FX_FEEDS, currency);
	if (!isPriceableCurrency(currency)) {
		throw new RateUnavailableError("unsupported", `no exchange-rate feed for ${currency}`);
	}
	const tokenKey: RateKey = { source: "pyth", pair: `${token.symbol}/USD` };
	const fxKey: RateKey | undefined = fx && { source: "pyth", pair: fx.name };
	const rates = await readRates(env, fxKey ? [tokenKey, fxKey] : [tokenKey], now);
	const tokenUsd = rates.get(keyOf(tokenKey)) as CachedRate;
	const fxRate = fxKey && (rates.get(keyOf(fxKey)) as CachedRate);
	const rate = tokenRateFromRationals({
		tokenUsd: tokenUsd.rate,
		tokenDecimals: token.decimals,
		currencyExponent: currencyExponent(currency),
		...(fx && fxRate ? { currencyPerUsd: fx.usdIsQuote ? inverse(fxRate.rate) : fxRate.rate } : {}),
	});
	return {
		...rate,
		source: "pyth",
		publishTime: Math.min(tokenUsd.publishTime, fxRate?.publishTime ?? tokenUsd.publishTime),
	};
}

/** Something with a dollar value: a token (priced by Pyth) or a fiat currency. */
export type Asset =
	| { kind: "token"; symbol: string; decimals: number }
	| { kind: "fiat"; currency: string };

/**
 * Where an asset's dollar value comes from: a token's Pyth price; a currency's reference rate
 * (Pyth's FX feed when no reference feed is configured); nothing for the dollar itself.
 */
function usdValueKey(env: Env, asset: Asset): RateKey | null {
	if (asset.kind === "token") return { source: "pyth", pair: `${asset.symbol}/USD` };
	if (asset.currency === "usd") return null;
	if (!isSupportedCurrency(asset.currency)) {
		throw new RateUnavailableError("unsupported", `unsupported currency ${asset.currency}`);
	}
	if (getConfig(env).FX_REFERENCE_URL) {
		return { source: "fx_reference", pair: `USD/${asset.currency.toUpperCase()}` };
	}
	const feed = lookup(FX_FEEDS, asset.currency);
	if (!feed)
		throw new RateUnavailableError("unsupported", `no exchange rate for ${asset.currency}`);
	return { source: "pyth", pair: feed.name };
}

/** US dollars per one unit of the asset, from its cached rate. */
function usdPerUnit(asset: Asset, key: RateKey | null, rate: CachedRate | undefined): Rational {
	if (key === null || rate === undefined) return rational(1n);
	if (asset.kind === "token") return rate.rate;
	// "USD/EUR" (euros per dollar) is inverted; Pyth's "EUR/USD" already is dollars per euro.
	return rate.base === "USD" ? inverse(rate.rate) : rate.rate;
}

export interface ExchangeRate {
	/** `to` units per one `from` unit (major units: dollars per SOL, euros per dollar). */
	rate: Rational;
	/** The sources used, "pyth+fx_reference" style; "" when both sides are the dollar. */
	source: string;
	/** The oldest publication among the rates used (Unix seconds); null when none was needed. */
	publishTime: number | null;
}

/** The current rate between two assets, through the dollar, in one cache read. Throws RateError. */
export async function exchangeRate(
	env: Env,
	from: Asset,
	to: Asset,
	now: number,
): Promise<ExchangeRate> {
	const fromKey = usdValueKey(env, from);
	const toKey = usdValueKey(env, to);
	const keys = [fromKey, toKey].filter((k): k is RateKey => k !== null);
	const rates = await readRates(env, keys, now);
	const fromRate = fromKey ? rates.get(keyOf(fromKey)) : undefined;
	const toRate = toKey ? rates.get(keyOf(toKey)) : undefined;
	const used = [fromRate, toRate].filter((r): r is CachedRate => r !== undefined);
	return {
		rate: divide(usdPerUnit(from, fromKey, fromRate), usdPerUnit(to, toKey, toRate)),
		source: [...new Set(used.map((r) => r.source))].join("+"),
		publishTime: used.length > 0 ? Math.min(...used.map((r) => r.publishTime)) : null,
	};
}
