import { type Router, sendJson, sendText } from "../http.js";
import { normalizeFeedId } from "./feeds.js";
import type { FeedSnapshot, PriceStore } from "./store.js";

// Pyth's Hermes price service, `GET /v2/updates/price/latest`, mounted under /hermes on the
// control server. Prices travel as decimal integer strings with a separate exponent, as Hermes
// sends them.

/** Query keys Hermes reads ids from: `ids[]=` (also sent as `ids%5B%5D=`) and `ids[0]=`. */
const IDS_KEY = /^ids\[\d*\]$/;

/** "PNAU": the magic Hermes' accumulator updates start with. */
const UPDATE_MAGIC = Buffer.from("504e4155", "hex");

interface ParsedPrice {
	price: string;
	conf: string;
	expo: number;
	publish_time: number;
}

interface ParsedUpdate {
	id: string;
	price: ParsedPrice;
	ema_price: ParsedPrice;
	metadata: { slot: number; proof_available_time: number; prev_publish_time: number };
}

export interface HermesResponse {
	binary: { encoding: "hex" | "base64"; data: string[] };
	parsed: ParsedUpdate[];
}

function parsedUpdate(s: FeedSnapshot): ParsedUpdate {
	return {
		id: s.feed.id,
		price: {
			price: s.price.toString(),
			conf: s.conf.toString(),
			expo: s.expo,
			publish_time: s.publishTime,
		},
		ema_price: {
			price: s.emaPrice.toString(),
			conf: s.emaConf.toString(),
			expo: s.expo,
			publish_time: s.publishTime,
		},
		metadata: {
			slot: s.slot,
			proof_available_time: s.proofAvailableTime,
			prev_publish_time: s.prevPublishTime,
		},
	};
}

/**
 * Stands in for the signed update a client would post on chain. It carries the same numbers
 * as `parsed` but no Wormhole signatures: the gateway reads `parsed` and never verifies it.
 */
function updateData(snapshots: readonly FeedSnapshot[]): Buffer {
	const parts: Buffer[] = [UPDATE_MAGIC];
	for (const s of snapshots) {
		const record = Buffer.alloc(32 + 8 + 8 + 4 + 8);
		Buffer.from(s.feed.id, "hex").copy(record, 0);
		record.writeBigInt64BE(s.price, 32);
		record.writeBigUInt64BE(s.conf, 40);
		record.writeInt32BE(s.expo, 48);
		record.writeBigInt64BE(BigInt(s.publishTime), 52);
		parts.push(record);
	}
	return Buffer.concat(parts);
}

type LatestResult =
	| { ok: true; body: HermesResponse }
	| { ok: false; status: number; text: string };

/** The whole endpoint as a pure function of the query, for the route and for tests. */
export function latestPriceUpdates(store: PriceStore, query: URLSearchParams): LatestResult {
	const raw: string[] = [];
	for (const [key, value] of query) if (IDS_KEY.test(key)) raw.push(value);
	if (raw.length === 0) {
		return {
			ok: false,
			status: 400,
			text: "Failed to deserialize query string: missing field `ids`",
		};
	}
	const encoding = query.get("encoding") ?? "hex";
	if (encoding !== "hex" && encoding !== "base64") {
		return {
			ok: false,
			status: 400,
			text: `Failed to deserialize query string: unknown variant \`${encoding}\`, expected \`hex\` or \`base64\``,
		};
	}
	const ignoreInvalid = query.get("ignore_invalid_price_ids") === "true";

	const ids: string[] = [];
	const missing: string[] = [];
	for (const value of raw) {
		const id = normalizeFeedId(value);
		if (id === undefined) {
			return {
				ok: false,
				status: 400,
				text: `Failed to deserialize query string: invalid price id ${JSON.stringify(value)}`,
			};
		}
		if (ids.includes(id)) continue;
		if (store.find(id) === undefined) missing.push(id);
		else ids.push(id);
	}
	if (missing.length > 0 && !ignoreInvalid) {
		return {
			ok: false,
			status: 404,
			text: `Price ids not found: ${missing.map((id) => `0x${id}`).join(", ")}`,
		};
	}

	const snapshots = ids.map((id) => store.snapshot(id));
	return {
		ok: true,
		body: {
			binary: {
				encoding,
				data: snapshots.length === 0 ? [] : [updateData(snapshots).toString(encoding)],
			},
			parsed: snapshots.map(parsedUpdate),
		},
	};
}

export function registerHermesRoutes(router: Router, store: PriceStore, prefix = "/hermes"): void {
	router.get(`${prefix}/v2/updates/price/latest`, ({ res, url }) => {
		const result = latestPriceUpdates(store, url.searchParams);
		if (result.ok) sendJson(res, 200, result.body);
		else sendText(res, result.status, result.text);
	});
}
