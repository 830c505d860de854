import type { Router } from "../http.js";
import type { PriceStore } from "./store.js";

// A fiat reference-rate feed in the shape of Frankfurter (ECB reference rates):
// `GET /fx/latest?base=USD&symbols=EUR,JPY` →
// `{"amount":1.0,"base":"USD","date":"2025-01-31","rates":{"EUR":0.92593,"JPY":155.0}}`.
// The provider sends rates as JSON numbers. The sandbox computes them exactly from the Pyth FX
// mantissas, rounds half up to RATE_PLACES decimals and writes the digits into the body itself,
// so the numbers on the wire are exactly the decimals intended; clients must read them from the
// raw text, not through a float.

/** Decimal places of the published rates. */
export const RATE_PLACES = 5;

interface Ratio {
	num: bigint;
	den: bigint;
}

/** US dollars per one unit of each currency, from the Pyth FX feed that prices it. */
const USD_VALUE: Record<string, { feed: string; usdIsQuote: boolean } | null> = {
	USD: null,
	EUR: { feed: "EUR/USD", usdIsQuote: true },
	GBP: { feed: "GBP/USD", usdIsQuote: true },
	JPY: { feed: "USD/JPY", usdIsQuote: false },
};

export const REFERENCE_CURRENCIES: readonly string[] = Object.freeze(Object.keys(USD_VALUE));

type Valuation = { ok: true; value: Ratio; publishTime: number | undefined } | { ok: false };

function usdValue(store: PriceStore, currency: string): Valuation {
	const source = USD_VALUE[currency];
	if (source === null || source === undefined) {
		return { ok: true, value: { num: 1n, den: 1n }, publishTime: undefined };
	}
	const s = store.snapshot(source.feed);
	if (s.price <= 0n) return { ok: false };
	const scale = 10n ** BigInt(-s.expo);
	const value = source.usdIsQuote ? { num: s.price, den: scale } : { num: scale, den: s.price };
	return { ok: true, value, publishTime: s.publishTime };
}

/** num/den rounded half up to `places` decimals, printed like a float ("155.0", "0.92593"). */
export function formatRate(ratio: Ratio, places = RATE_PLACES): string {
	const scale = 10n ** BigInt(places);
	const scaled = (ratio.num * scale * 2n + ratio.den) / (ratio.den * 2n);
	const digits = scaled.toString().padStart(places + 1, "0");
	const whole = digits.slice(0, -places);
	const fraction = digits.slice(-places).replace(/0+$/, "");
	return `${whole}.${fraction === "" ? "0" : fraction}`;
}

type ReferenceResult = { status: number; body: string };

function message(status: number, text: string): ReferenceResult {
	return { status, body: JSON.stringify({ message: text }) };
}

/** The whole endpoint as a pure function of the query; the body is the raw JSON text. */
export function latestReferenceRates(store: PriceStore, query: URLSearchParams): ReferenceResult {
	// Frankfurter defaults to the ECB's base, the euro, and accepts from/to as aliases.
	const base = (query.get("base") ?? query.get("from") ?? "EUR").toUpperCase();
	const symbolsParam = query.get("symbols") ?? query.get("to");
	const symbols =
		symbolsParam === null
			? REFERENCE_CURRENCIES.filter((c) => c !== base)
			: [...new Set(symbolsParam.split(",").map((s) => s.trim().toUpperCase()))];
	const amount = query.get("amount");
	if (amount !== null && !/^1(?:\.0*)?$/.test(amount)) {
		return message(422, "the sandbox reference feed only serves amount=1");
	}
	for (const code of [base, ...symbols]) {
		if (!Object.hasOwn(USD_VALUE, code)) return message(404, "not found");
	}

	const baseValue = usdValue(store, base);
	if (!baseValue.ok) return message(503, `no reference rate for ${base}`);
	let oldest = baseValue.publishTime ?? Math.floor(store.now() / 1000);
	const rates: string[] = [];
	for (const code of symbols) {
		if (code === base) continue;
		const value = usdValue(store, code);
		if (!value.ok) return message(503, `no reference rate for ${code}`);
		if (value.publishTime !== undefined) oldest = Math.min(oldest, value.publishTime);
		const rate = formatRate({
			num: baseValue.value.num * value.value.den,
			den: baseValue.value.den * value.value.num,
		});
		rates.push(`${JSON.stringify(code)}:${rate}`);
	}
	// The date of the oldest rate used, so a stale FX feed shows up as an old reference date.
	const date = new Date(oldest * 1000).toISOString().slice(0, 10);
	const body = `{"amount":1.0,"base":${JSON.stringify(base)},"date":"${date}","rates":{${rates.join(",")}}}`;
	return { status: 200, body };
}

export function registerFxReferenceRoutes(router: Router, store: PriceStore, prefix = "/fx"): void {
	router.get(`${prefix}/latest`, ({ res, url }) => {
		const { status, body } = latestReferenceRates(store, url.searchParams);
		res.writeHead(status, {
			"content-type": "application/json; charset=utf-8",
			"content-length": Buffer.byteLength(body),
		});
		res.end(body);
	});
}
