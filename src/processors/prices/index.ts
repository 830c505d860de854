export {
	type JsonDecimal,
	parseJsonDecimal,
	parseLosslessJson,
} from "../../lib/lossless-json";
export {
	DEFAULT_FEEDS,
	type FeedTable,
	FX_FEEDS,
	type FxFeed,
	isTokenSymbol,
	PYTH_FEED_IDS,
	TOKENS,
	type TokenInfo,
	type TokenSymbol,
} from "./feeds";
export { DEFAULT_PRICE_TIMEOUT_MS, type FetchTextOptions, PriceFeedError } from "./fetch-text";
export { fetchReferenceRates, type ReferenceRates } from "./fx-reference";
export { fetchPythPrices, normalizePythFeedId, type PythPrice } from "./pyth";
export {
	getTokenRate,
	type PriceSource,
	pythSource,
	RateError,
	type RateErrorReason,
	RateStaleError,
	RateUnavailableError,
	type TokenRate,
	type TokenRateRequest,
} from "./rates";
