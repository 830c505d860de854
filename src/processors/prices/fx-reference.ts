/**
 * Fiat reference rates from a Frankfurter-style feed (ECB reference rates):
 * `GET {base}/latest?base=USD&symbols=EUR,JPY` →
 * `{"amount":1.0,"base":"USD","date":"2025-01-31","rates":{"EUR":0.92593,"JPY":155.0}}`.
 * The provider sends rates as JSON numbers; they are read from the raw text into exact decimals
 * (src/lib/lossless-json.ts), never through JSON.parse's doubles or any float arithmetic.
 */
import {
	type JsonDecimal,
	JsonNumber,
	type LosslessJson,
	parseJsonDecimal,
	parseLosslessJson,
} from "../../lib/lossless-json";
import { type FetchTextOptions, fetchText, PriceFeedError } from "./fetch-text";

export interface ReferenceRates {
	/** Lowercase ISO 4217, as on the gateway's wire. */
	base: string;
	/** The provider's rate date, YYYY-MM-DD (the last publication day, not today). */
	date: string;
	/** Units of each currency per one unit of `base`, keyed by lowercase code. */
	rates: Map<string, JsonDecimal>;
}

const CODE = /^[a-z]{3}$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

function malformed(detail: string): PriceFeedError {
	return new PriceFeedError(`malformed FX reference response: ${detail}`);
}

function isObject(value: LosslessJson | undefined): value is { [key: string]: LosslessJson } {
	return (
		typeof value === "object" &&
		value !== null &&
		!Array.isArray(value) &&
		!(value instanceof JsonNumber)
	);
}

export async function fetchReferenceRates(
	baseUrl: string,
	query: { base: string; symbols: string[] },
	opts: FetchTextOptions = {},
): Promise<ReferenceRates> {
	for (const code of [query.base, ...query.symbols]) {
		if (!CODE.test(code)) throw new RangeError(`invalid currency code ${JSON.stringify(code)}`);
	}
	const params = new URLSearchParams({ base: query.base.toUpperCase() });
	if (query.symbols.length > 0) params.set("symbols", query.symbols.join(",").toUpperCase());
	const url = `${baseUrl.replace(/\/+$/, "")}/latest?${params}`;
	const text = await fetchText("FX reference feed", url, opts);
	return parseReferenceBody(text, query.base);
}

/** Parses the provider's body; exported for tests. */
export function parseReferenceBody(text: string, expectedBase: string): ReferenceRates {
	let body: LosslessJson;
	try {
		body = parseLosslessJson(text);
	} catch (error) {
		throw malformed(error instanceof Error ? error.message : "body is not JSON");
	}
	if (!isObject(body)) throw malformed("body is not an object");
	const { amount, base, date, rates } = body;
	if (!(amount instanceof JsonNumber) || !isOne(parseJsonDecimal(amount))) {
		throw malformed("amount is not 1");
	}
	if (typeof base !== "string" || base.toLowerCase() !== expectedBase) {
		throw malformed(`base is ${JSON.stringify(base)}, asked for ${expectedBase.toUpperCase()}`);
	}
	if (typeof date !== "string" || !DATE.test(date)) throw malformed("date is not YYYY-MM-DD");
	if (!isObject(rates)) throw malformed("rates is not an object");
	const parsed = new Map<string, JsonDecimal>();
	for (const [code, value] of Object.entries(rates)) {
		const lower = code.toLowerCase();
		if (!CODE.test(lower) || !(value instanceof JsonNumber)) {
			throw malformed(`rate ${JSON.stringify(code)} is not a number`);
		}
		let decimal: JsonDecimal;
		try {
			decimal = parseJsonDecimal(value);
		} catch (error) {
			throw malformed(error instanceof Error ? error.message : `bad rate for ${code}`);
		}
		if (decimal.mantissa <= 0n) throw malformed(`rate for ${code} is not positive`);
		parsed.set(lower, decimal);
	}
	return { base: expectedBase, date, rates: parsed };
}

function isOne({ mantissa, expo }: JsonDecimal): boolean {
	if (expo >= 0) return mantissa * 10n ** BigInt(expo) === 1n;
	return mantissa === 10n ** BigInt(-expo);
}
