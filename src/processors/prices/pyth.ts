/**
 * Client for Pyth's Hermes price service (`GET /v2/updates/price/latest`). Runs in a Worker:
 * fetch only. Hermes sends prices as decimal integer strings with an exponent; they become
 * bigints here and are never read through a float.
 */
import { type FetchTextOptions, fetchText, PriceFeedError } from "./fetch-text";

export interface PythPrice {
	/** Price = price × 10^expo; Pyth's i64. */
	price: bigint;
	/** Confidence interval at the same exponent; Pyth's u64. */
	conf: bigint;
	expo: number;
	/** Unix seconds. */
	publishTime: number;
}

export type FetchPythOptions = FetchTextOptions;

const FEED_ID = /^(?:0x)?([0-9a-fA-F]{64})$/;
const SIGNED_INT = /^-?(?:0|[1-9][0-9]{0,18})$/;
const UNSIGNED_INT = /^(?:0|[1-9][0-9]{0,19})$/;
const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const U64_MAX = 2n ** 64n - 1n;
/** Bounds 10^expo for callers; Pyth feeds use -12..0. */
const MAX_ABS_EXPO = 32;

/** Lowercase hex without 0x: the form Hermes answers with and the map is keyed by. */
export function normalizePythFeedId(id: string): string {
	const hex = FEED_ID.exec(id)?.[1];
	if (hex === undefined) {
		throw new PriceFeedError(`invalid Pyth feed id ${JSON.stringify(id.slice(0, 80))}`);
	}
	return hex.toLowerCase();
}

/**
 * Latest prices for `feedIds` (hex, with or without 0x), keyed by normalized id. Ids Hermes
 * leaves out are absent from the map; callers decide whether that is an error. Throws
 * PriceFeedError on timeout, network failure, a non-200 answer or a malformed body.
 */
export async function fetchPythPrices(
	baseUrl: string,
	feedIds: string[],
	opts: FetchPythOptions = {},
): Promise<Map<string, PythPrice>> {
	const ids = [...new Set(feedIds.map(normalizePythFeedId))];
	if (ids.length === 0) return new Map();
	const query = new URLSearchParams();
	for (const id of ids) query.append("ids[]", id);
	const url = `${baseUrl.replace(/\/+$/, "")}/v2/updates/price/latest?${query}`;
	const text = await fetchText("Pyth Hermes", url, opts);
	return parseHermesBody(text, new Set(ids));
}

function malformed(detail: string): PriceFeedError {
	return new PriceFeedError(`malformed Pyth Hermes response: ${detail}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
	return typeof value === "object" && value !== null && !Array.isArray(value);
}

function parsePrice(value: unknown, where: string): PythPrice {
	if (!isRecord(value)) throw malformed(`${where} is not an object`);
	const { price, conf, expo, publish_time: publishTime } = value;
	if (
		typeof price !== "string" ||
		!SIGNED_INT.test(price) ||
		!inRange(BigInt(price), I64_MIN, I64_MAX)
	) {
		throw malformed(`${where}.price is not an i64 decimal string`);
	}
	if (typeof conf !== "string" || !UNSIGNED_INT.test(conf) || BigInt(conf) > U64_MAX) {
		throw malformed(`${where}.conf is not a u64 decimal string`);
	}
	if (typeof expo !== "number" || !Number.isInteger(expo) || Math.abs(expo) > MAX_ABS_EXPO) {
		throw malformed(`${where}.expo is not a small integer`);
	}
	if (typeof publishTime !== "number" || !Number.isSafeInteger(publishTime) || publishTime < 0) {
		throw malformed(`${where}.publish_time is not a unix timestamp`);
	}
	return { price: BigInt(price), conf: BigInt(conf), expo, publishTime };
}

function inRange(value: bigint, min: bigint, max: bigint): boolean {
	return value >= min && value <= max;
}

/** Parses Hermes' JSON, keeping only requested ids; exported for tests. */
export function parseHermesBody(
	text: string,
	requested: ReadonlySet<string>,
): Map<string, PythPrice> {
	let body: unknown;
	try {
		body = JSON.parse(text);
	} catch {
		throw malformed("body is not JSON");
	}
	if (!isRecord(body) || !Array.isArray(body.parsed)) {
		throw malformed("no parsed array (was parsed=false sent?)");
	}
	const prices = new Map<string, PythPrice>();
	body.parsed.forEach((entry: unknown, i) => {
		if (!isRecord(entry) || typeof entry.id !== "string") {
			throw malformed(`parsed[${i}] has no id`);
		}
		const hex = FEED_ID.exec(entry.id)?.[1]?.toLowerCase();
		if (hex === undefined) throw malformed(`parsed[${i}].id is not a feed id`);
		if (!requested.has(hex)) return;
		const price = parsePrice(entry.price, `parsed[${i}].price`);
		const seen = prices.get(hex);
		// Keep the newest if an id repeats.
		if (seen === undefined || price.publishTime > seen.publishTime) prices.set(hex, price);
	});
	return prices;
}
