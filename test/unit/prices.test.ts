import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
	composeTokenRate,
	type ExactRate,
	reduceRate,
	tokenAmountForPrice,
} from "../../src/domain/conversion";
import { MAX_MINOR_UNITS, MoneyError, U64_MAX } from "../../src/domain/money";
import { JsonNumber, parseJsonDecimal, parseLosslessJson } from "../../src/lib/lossless-json";
import { DEFAULT_FEEDS, type FeedTable, PYTH_FEED_IDS } from "../../src/processors/prices/feeds";
import { PriceFeedError } from "../../src/processors/prices/fetch-text";
import { fetchReferenceRates } from "../../src/processors/prices/fx-reference";
import { fetchPythPrices, type PythPrice } from "../../src/processors/prices/pyth";
import {
	getTokenRate,
	type PriceSource,
	RateStaleError,
	RateUnavailableError,
	type TokenRateRequest,
} from "../../src/processors/prices/rates";

const SOL = PYTH_FEED_IDS["SOL/USD"];
const USDC = PYTH_FEED_IDS["USDC/USD"];
const EUR = PYTH_FEED_IDS["EUR/USD"];
const JPY = PYTH_FEED_IDS["USD/JPY"];
const NOW = 1_750_000_000;

function hermesEntry(id: string, price: string, expo: number, publishTime = NOW, conf = "1000") {
	const p = { price, conf, expo, publish_time: publishTime };
	return {
		id,
		price: p,
		ema_price: p,
		metadata: { slot: 1, proof_available_time: publishTime, prev_publish_time: publishTime - 1 },
	};
}

/** A fetch that records URLs and answers with `respond`'s status and body. */
function fakeFetch(respond: (url: string) => { status?: number; body: unknown }) {
	const urls: string[] = [];
	const impl = (async (input: RequestInfo | URL) => {
		const url = String(input);
		urls.push(url);
		const { status = 200, body } = respond(url);
		return new Response(typeof body === "string" ? body : JSON.stringify(body), { status });
	}) as typeof fetch;
	return { fetch: impl, urls };
}

describe("fetchPythPrices", () => {
	it("asks Hermes for every id once and parses prices into bigints", async () => {
		const { fetch, urls } = fakeFetch(() => ({
			body: {
				binary: { encoding: "hex", data: ["504e4155"] },
				parsed: [
					hermesEntry(SOL, "15000000000", -8, NOW, "7500000"),
					hermesEntry(USDC, "99990000", -8, NOW - 3),
					hermesEntry("11".repeat(32), "1", 0),
				],
			},
		}));
		const prices = await fetchPythPrices(
			"http://hermes.test/",
			[`0x${SOL}`, USDC.toUpperCase(), SOL],
			{
				fetch,
			},
		);
		expect(urls).toEqual([
			`http://hermes.test/v2/updates/price/latest?ids%5B%5D=${SOL}&ids%5B%5D=${USDC}`,
		]);
		expect(prices).toEqual(
			new Map<string, PythPrice>([
				[SOL, { price: 15000000000n, conf: 7500000n, expo: -8, publishTime: NOW }],
				[USDC, { price: 99990000n, conf: 1000n, expo: -8, publishTime: NOW - 3 }],
			]),
		);
	});

	it("leaves out ids Hermes did not return and skips the call for none", async () => {
		const { fetch, urls } = fakeFetch(() => ({ body: { parsed: [] } }));
		expect((await fetchPythPrices("http://h", [SOL], { fetch })).size).toBe(0);
		expect((await fetchPythPrices("http://h", [], { fetch })).size).toBe(0);
		expect(urls).toHaveLength(1);
	});

	it("refuses a malformed feed id before any request", async () => {
		const { fetch, urls } = fakeFetch(() => ({ body: {} }));
		await expect(fetchPythPrices("http://h", ["0xabc"], { fetch })).rejects.toThrow(
			/invalid Pyth feed id/,
		);
		expect(urls).toHaveLength(0);
	});

	it("reports a non-200 answer with its status and text", async () => {
		const { fetch } = fakeFetch(() => ({ status: 404, body: `Price ids not found: 0x${SOL}` }));
		const error = await fetchPythPrices("http://h", [SOL], { fetch }).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(PriceFeedError);
		expect(error).toMatchObject({
			status: 404,
			message: `Pyth Hermes answered 404: Price ids not found: 0x${SOL}`,
		});
	});

	it.each([
		["not JSON", "<html>"],
		["no parsed array", { binary: {} }],
		["a numeric price", { parsed: [{ ...hermesEntry(SOL, "1", -8), price: { price: 1 } }] }],
		["a fractional price", { parsed: [hermesEntry(SOL, "1.5", -8)] }],
		["a negative conf", { parsed: [hermesEntry(SOL, "1", -8, NOW, "-1")] }],
		["a price beyond i64", { parsed: [hermesEntry(SOL, "9223372036854775808", -8)] }],
		["a fractional expo", { parsed: [hermesEntry(SOL, "1", -8.5)] }],
		["a bad id", { parsed: [hermesEntry("xyz", "1", -8)] }],
	])("rejects a body with %s", async (_, body) => {
		const { fetch } = fakeFetch(() => ({ body }));
		await expect(fetchPythPrices("http://h", [SOL], { fetch })).rejects.toThrow(
			/^malformed Pyth Hermes response/,
		);
	});

	it("gives up after timeoutMs", async () => {
		const hang = ((_: RequestInfo | URL, init?: RequestInit) =>
			new Promise((_, reject) => {
				init?.signal?.addEventListener("abort", () => reject(init.signal?.reason));
			})) as typeof fetch;
		const started = Date.now();
		await expect(
			fetchPythPrices("http://h", [SOL], { fetch: hang, timeoutMs: 30 }),
		).rejects.toThrow("Pyth Hermes did not answer within 30 ms");
		expect(Date.now() - started).toBeLessThan(2_000);
	});

	it("wraps network failures", async () => {
		const down = (async () => {
			throw new TypeError("fetch failed");
		}) as typeof fetch;
		await expect(fetchPythPrices("http://h", [SOL], { fetch: down })).rejects.toThrow(
			"Pyth Hermes request failed: fetch failed",
		);
	});
});

/** A source serving fixed prices; prices not listed are missing. */
function source(prices: Record<string, Partial<PythPrice> & { price: bigint; expo: number }>) {
	const calls: string[][] = [];
	const src: PriceSource = {
		name: "pyth",
		async latest(ids) {
			calls.push(ids);
			const out = new Map<string, PythPrice>();
			for (const id of ids) {
				const p = prices[id];
				if (p) out.set(id, { conf: 0n, publishTime: NOW, ...p });
			}
			return out;
		},
	};
	return { src, calls };
}

const DEFAULT_PRICES = {
	[SOL]: { price: 15000000000n, expo: -8 },
	[USDC]: { price: 100000000n, expo: -8 },
	[EUR]: { price: 108000n, expo: -5 },
	[JPY]: { price: 155000n, expo: -3 },
};

function request(over: Partial<TokenRateRequest> = {}): TokenRateRequest {
	return {
		token: "SOL",
		priceCurrency: "usd",
		now: NOW,
		maxStalenessSeconds: 60,
		source: source(DEFAULT_PRICES).src,
		...over,
	};
}

describe("getTokenRate", () => {
	it("prices SOL in cents per lamport exactly: $25.00 is 166666667 lamports", async () => {
		const rate = await getTokenRate(request());
		expect(rate).toEqual({
			numerator: 3n,
			denominator: 200000n,
			source: "pyth",
			publishTime: NOW,
			token: "SOL",
			priceCurrency: "usd",
		});
		// 2500 cents / 15000 cents per SOL = 0.1666… SOL, rounded up to the lamport.
		expect(tokenAmountForPrice(2500n, rate)).toBe(166666667n);
	});

	it("prices USDC: $25.00 is 25000000 base units", async () => {
		const rate = await getTokenRate(request({ token: "USDC" }));
		expect(rate).toMatchObject({ numerator: 1n, denominator: 10000n });
		expect(tokenAmountForPrice(2500n, rate)).toBe(25000000n);
	});

	it("combines SOL/USD with EUR/USD for euro prices", async () => {
		const { src, calls } = source(DEFAULT_PRICES);
		const rate = await getTokenRate(request({ priceCurrency: "eur", source: src }));
		expect(calls).toEqual([[SOL, EUR]]);
		// €25.00 × 1.08 $/€ / 150 $/SOL = 0.18 SOL exactly.
		expect(tokenAmountForPrice(2500n, rate)).toBe(180000000n);
		expect(tokenAmountForPrice(2501n, rate)).toBe(180072000n);
	});

	it("combines SOL/USD with USD/JPY for yen prices (no minor units)", async () => {
		const rate = await getTokenRate(request({ priceCurrency: "jpy" }));
		// 150 $/SOL × 155 ¥/$ = 23250 ¥ per SOL = 23250 yen per 10^9 lamports.
		expect(rate).toMatchObject(reduceRate(23250n, 10n ** 9n));
		expect(tokenAmountForPrice(2500n, rate)).toBe(107526882n);
	});

	it("handles three-digit currencies such as kwd through a supplied feed table", async () => {
		const KWD = "ab".repeat(32);
		const feeds: FeedTable = {
			tokens: DEFAULT_FEEDS.tokens,
			fx: { kwd: { name: "USD/KWD", id: KWD, usdIsQuote: false } },
		};
		const { src } = source({ ...DEFAULT_PRICES, [KWD]: { price: 30700n, expo: -5 } });
		const rate = await getTokenRate(request({ priceCurrency: "kwd", source: src, feeds }));
		// 150 $ × 0.307 KWD/$ = 46.050 KWD = 46050 fils per SOL.
		expect(rate).toMatchObject(reduceRate(46050n, 10n ** 9n));
		expect(tokenAmountForPrice(25_000n, rate)).toBe((25_000n * 10n ** 9n + 46049n) / 46050n);
		expect(tokenAmountForPrice(25_000n, rate)).toBe(542888166n);
	});

	it("refuses a price older than maxStalenessSeconds, naming the feed", async () => {
		const stale = {
			...DEFAULT_PRICES,
			[SOL]: { price: 15000000000n, expo: -8, publishTime: NOW - 61 },
		};
		const error = await getTokenRate(request({ source: source(stale).src })).catch(
			(e: unknown) => e,
		);
		expect(error).toBeInstanceOf(RateStaleError);
		expect(error).toMatchObject({
			reason: "stale",
			feed: "SOL/USD",
			ageSeconds: 61,
			maxStalenessSeconds: 60,
			message: "SOL/USD price is 61 s old, over the 60 s limit",
		});
		const api = (error as RateStaleError).toApiError();
		expect([api.status, api.code]).toEqual([503, "service_unavailable"]);

		const edge = { ...stale, [SOL]: { price: 15000000000n, expo: -8, publishTime: NOW - 60 } };
		await expect(getTokenRate(request({ source: source(edge).src }))).resolves.toBeTruthy();
	});

	it("checks the FX feed's age too and reports the older publish time", async () => {
		const old = { ...DEFAULT_PRICES, [EUR]: { price: 108000n, expo: -5, publishTime: NOW - 90 } };
		await expect(
			getTokenRate(request({ priceCurrency: "eur", source: source(old).src })),
		).rejects.toThrow("EUR/USD price is 90 s old");
		const rate = await getTokenRate(
			request({ priceCurrency: "eur", source: source(old).src, maxStalenessSeconds: 120 }),
		);
		expect(rate.publishTime).toBe(NOW - 90);
	});

	it.each([
		["missing", { [EUR]: DEFAULT_PRICES[EUR] }, {}],
		["invalid", { [SOL]: { price: 0n, expo: -8 } }, {}],
		["invalid", { [SOL]: { price: -1n, expo: -8 } }, {}],
		["uncertain", { [SOL]: { price: 10000n, conf: 101n, expo: -8 } }, { maxConfidenceBps: 100 }],
	] as const)("is unavailable (%s) for a bad SOL price", async (reason, prices, extra) => {
		const error = await getTokenRate(request({ source: source(prices).src, ...extra })).catch(
			(e: unknown) => e,
		);
		expect(error).toBeInstanceOf(RateUnavailableError);
		expect(error).toMatchObject({ reason });
	});

	it.each([
		[{ token: "BONK" }],
		[{ priceCurrency: "xyz" }],
		[{ priceCurrency: "EUR" }],
		[{ priceCurrency: "chf" }],
		[{ token: "constructor" }],
	])("is unsupported for %j", async (over) => {
		await expect(getTokenRate(request(over))).rejects.toMatchObject({ reason: "unsupported" });
	});

	it("turns a failing source into fetch_failed, keeping the cause", async () => {
		const cause = new PriceFeedError("Pyth Hermes did not answer within 3000 ms");
		const failing: PriceSource = { name: "pyth", latest: () => Promise.reject(cause) };
		const error = await getTokenRate(request({ source: failing })).catch((e: unknown) => e);
		expect(error).toMatchObject({ reason: "fetch_failed", cause, message: cause.message });
	});

	it("refuses a millisecond clock", async () => {
		await expect(getTokenRate(request({ now: NOW * 1000 }))).rejects.toThrow(RangeError);
	});
});

describe("tokenAmountForPrice", () => {
	const rate: ExactRate = { numerator: 3n, denominator: 200000n };

	it("rounds up only when the division is inexact", () => {
		expect(tokenAmountForPrice(0n, rate)).toBe(0n);
		expect(tokenAmountForPrice(3n, rate)).toBe(200000n);
		expect(tokenAmountForPrice(1n, rate)).toBe(66667n);
	});

	it("refuses negative prices, empty rates and amounts past u64", () => {
		expect(() => tokenAmountForPrice(-1n, rate)).toThrow(MoneyError);
		expect(() => tokenAmountForPrice(1n, { numerator: 0n, denominator: 1n })).toThrow(RangeError);
		expect(() => tokenAmountForPrice(2n, { numerator: 1n, denominator: U64_MAX })).toThrow(
			/u64 maximum/,
		);
		expect(tokenAmountForPrice(1n, { numerator: 1n, denominator: U64_MAX })).toBe(U64_MAX);
	});

	it("is never less than the price and less than the price plus one base unit", () => {
		const scaled = fc.record({
			mantissa: fc.bigInt({ min: 1n, max: 10n ** 15n }),
			expo: fc.integer({ min: -12, max: 2 }),
		});
		fc.assert(
			fc.property(
				fc.bigInt({ min: 0n, max: BigInt(MAX_MINOR_UNITS) }),
				scaled,
				fc.integer({ min: 0, max: 12 }),
				fc.constantFrom(0, 2, 3, 4),
				fc.option(fc.record({ price: scaled, usdIsQuote: fc.boolean() }), { nil: undefined }),
				(minor, tokenUsd, tokenDecimals, currencyExponent, fx) => {
					const r = composeTokenRate({
						tokenUsd,
						tokenDecimals,
						currencyExponent,
						...(fx === undefined ? {} : { fx }),
					});
					let amount: bigint;
					try {
						amount = tokenAmountForPrice(minor, r);
					} catch (error) {
						// Only a true amount past u64 may be refused.
						expect(error).toMatchObject({ code: "amount_too_large" });
						expect(minor * r.denominator > U64_MAX * r.numerator).toBe(true);
						return;
					}
					// amount × rate ≥ minor, and (amount − 1) × rate < minor, compared exactly.
					expect(amount * r.numerator >= minor * r.denominator).toBe(true);
					if (amount > 0n) expect((amount - 1n) * r.numerator < minor * r.denominator).toBe(true);
					else expect(minor).toBe(0n);
				},
			),
			{ numRuns: 2_000 },
		);
	});
});

describe("FX reference rates", () => {
	it("keeps JSON numbers as exact decimals", () => {
		const value = parseLosslessJson('{"a":[0.1, 155.0, 1e-05, -2.5E+3, true, null, "x\\u00e9"]}');
		const n = (raw: string) => new JsonNumber(raw);
		expect(value).toEqual({
			a: [n("0.1"), n("155.0"), n("1e-05"), n("-2.5E+3"), true, null, "xé"],
		});
		const decimals = ["0.1", "155.0", "1e-05", "-2.5E+3", "0.30000000000000000001"].map((raw) =>
			parseJsonDecimal(new JsonNumber(raw)),
		);
		expect(decimals).toEqual([
			{ mantissa: 1n, expo: -1 },
			{ mantissa: 1550n, expo: -1 },
			{ mantissa: 1n, expo: -5 },
			{ mantissa: -25n, expo: 2 },
			{ mantissa: 30000000000000000001n, expo: -20 },
		]);
		expect(Object.getPrototypeOf(parseLosslessJson('{"__proto__":1}'))).toBeNull();
	});

	it.each(['{"a":1', "01", '{"a":1} x', '"\\x"', '"a\nb"', "[".repeat(100)])(
		"rejects invalid JSON %j",
		(text) => {
			expect(() => parseLosslessJson(text)).toThrow(SyntaxError);
		},
	);

	it("fetches and parses a Frankfurter-style answer", async () => {
		const text =
			'{"amount":1.0,"base":"USD","date":"2025-06-13","rates":{"EUR":0.92593,"JPY":155.0}}';
		const { fetch, urls } = fakeFetch(() => ({ body: text }));
		const rates = await fetchReferenceRates(
			"http://fx.test/",
			{ base: "usd", symbols: ["eur", "jpy"] },
			{
				fetch,
			},
		);
		expect(urls).toEqual(["http://fx.test/latest?base=USD&symbols=EUR%2CJPY"]);
		expect(rates).toEqual({
			base: "usd",
			date: "2025-06-13",
			rates: new Map([
				["eur", { mantissa: 92593n, expo: -5 }],
				["jpy", { mantissa: 1550n, expo: -1 }],
			]),
		});
	});

	it.each([
		['{"amount":10,"base":"USD","date":"2025-06-13","rates":{}}', /amount is not 1/],
		['{"amount":1,"base":"EUR","date":"2025-06-13","rates":{}}', /base is "EUR"/],
		['{"amount":1,"base":"USD","date":"13/06/2025","rates":{}}', /date/],
		['{"amount":1,"base":"USD","date":"2025-06-13","rates":{"EUR":"0.9"}}', /not a number/],
		['{"amount":1,"base":"USD","date":"2025-06-13","rates":{"EUR":0}}', /not positive/],
	])("rejects %s", async (body, message) => {
		const { fetch } = fakeFetch(() => ({ body }));
		await expect(
			fetchReferenceRates("http://fx", { base: "usd", symbols: ["eur"] }, { fetch }),
		).rejects.toThrow(message);
	});
});
