import { getConfig } from "../../config";
import type { Env } from "../../env";
import { parseJsonWithBigInts } from "../../lib/lossless-json";

/**
 * A small Solana JSON-RPC client for the Worker: several endpoints with failover, a timeout on
 * every call, and backoff hints when an endpoint is rate limiting or down. It speaks plain
 * JSON-RPC over fetch so the gateway controls each of those behaviours exactly.
 */
export class SolanaRpcError extends Error {
	constructor(
		message: string,
		/** True when trying again later (or elsewhere) may succeed: timeouts, 429, 5xx, node lag. */
		readonly retryable: boolean,
		readonly code?: number,
	) {
		super(message);
		this.name = "SolanaRpcError";
	}
}

export interface SolanaRpcOptions {
	urls: string[];
	timeoutMs?: number;
	fetch?: typeof fetch;
}

/** JSON-RPC error codes a node returns while it lags or is unhealthy. */
const RETRYABLE_RPC_CODES = new Set([-32004, -32005, -32007, -32014, -32016]);

export class SolanaRpc {
	private readonly urls: string[];
	private readonly timeoutMs: number;
	private readonly fetcher: typeof fetch;
	/** Calls made, for the benchmark and for per-payment cost accounting. */
	calls = 0;

	constructor(options: SolanaRpcOptions) {
		if (options.urls.length === 0) throw new Error("At least one Solana RPC URL is required");
		this.urls = options.urls;
		this.timeoutMs = options.timeoutMs ?? 5000;
		this.fetcher = options.fetch ?? ((input, init) => fetch(input, init));
	}

	/**
	 * Calls `method`, moving to the next endpoint on a retryable failure. A result that is
	 * missing, or fails `check` (the shape the caller relies on), is the node's fault: a
	 * retryable SolanaRpcError, never a TypeError further in.
	 */
	async call<T>(
		method: string,
		params: unknown[],
		check: (result: unknown) => boolean = RESULT_SHAPES[method] ?? (() => true),
	): Promise<T> {
		let lastError: SolanaRpcError | undefined;
		for (const url of this.urls) {
			try {
				const result = await this.callOne<T>(url, method, params);
				if (!check(result)) {
					throw new SolanaRpcError(`${method}: unexpected result from ${new URL(url).host}`, true);
				}
				return result;
			} catch (err) {
				if (!(err instanceof SolanaRpcError) || !err.retryable) throw err;
				lastError = err;
			}
		}
		throw lastError ?? new SolanaRpcError(`${method} failed`, true);
	}

	private async callOne<T>(url: string, method: string, params: unknown[]): Promise<T> {
		this.calls++;
		let response: Response;
		try {
			response = await this.fetcher(url, {
				method: "POST",
				headers: { "Content-Type": "application/json" },
				body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
				signal: AbortSignal.timeout(this.timeoutMs),
			});
		} catch (err) {
			const reason =
				err instanceof Error && err.name === "TimeoutError" ? "timed out" : "unreachable";
			throw new SolanaRpcError(`${method}: ${new URL(url).host} ${reason}`, true);
		}
		if (response.status === 429 || response.status >= 500) {
			await response.body?.cancel();
			throw new SolanaRpcError(
				`${method}: HTTP ${response.status} from ${new URL(url).host}`,
				true,
				response.status,
			);
		}
		let body: { result?: T; error?: { code: number; message: string } };
		try {
			// Lossless: u64 values past 2^53 (lamports, balances, fees) come back as bigint.
			const parsed = parseJsonWithBigInts(await response.text());
			if (typeof parsed !== "object" || parsed === null) throw new TypeError("not an object");
			body = parsed as typeof body;
		} catch {
			throw new SolanaRpcError(`${method}: malformed response from ${new URL(url).host}`, true);
		}
		if (body.error) {
			throw new SolanaRpcError(
				`${method}: ${body.error.message}`,
				RETRYABLE_RPC_CODES.has(body.error.code),
				body.error.code,
			);
		}
		if (!("result" in body)) {
			throw new SolanaRpcError(`${method}: no result from ${new URL(url).host}`, true);
		}
		return body.result as T;
	}
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;
const hasArrayValue = (v: unknown) => isObject(v) && Array.isArray(v.value);
/** Integers above 2^53 come back as bigint, the rest as number. */
const isInteger = (v: unknown) => typeof v === "bigint" || Number.isSafeInteger(v);
/** `{context: {slot}, value}`, the shape of every read at a commitment. */
const hasSlotContext = (v: unknown): v is { context: { slot: unknown }; value: unknown } =>
	isObject(v) && isObject(v.context) && isInteger(v.context.slot);
const everyItem = (v: unknown, check: (item: unknown) => boolean) =>
	Array.isArray(v) && v.every(check);

/** The parts of each method's result the gateway reads, checked before anything reads them. */
const RESULT_SHAPES: Record<string, (result: unknown) => boolean> = {
	getLatestBlockhash: (v) =>
		isObject(v) &&
		isObject(v.value) &&
		typeof v.value.blockhash === "string" &&
		typeof v.value.lastValidBlockHeight === "number",
	getSignaturesForAddress: (v) =>
		Array.isArray(v) && v.every((i) => isObject(i) && typeof i.signature === "string"),
	getTransaction: (v) => v === null || (isObject(v) && isObject(v.transaction)),
	getSignatureStatuses: hasArrayValue,
	getBlockHeight: (v) => typeof v === "number",
	sendTransaction: (v) => typeof v === "string",
	isBlockhashValid: (v) => isObject(v) && typeof v.value === "boolean",
	getBalance: (v) => hasSlotContext(v) && isInteger(v.value),
	getMultipleAccounts: (v) =>
		hasSlotContext(v) && everyItem(v.value, (a) => a === null || isObject(a)),
	getTokenAccountsByOwner: (v) =>
		hasSlotContext(v) && everyItem(v.value, (a) => isObject(a) && isObject(a.account)),
};

export function rpcFromEnv(env: Env): SolanaRpc {
	const config = getConfig(env);
	return new SolanaRpc({ urls: config.SOLANA_RPC_URLS, timeoutMs: config.SOLANA_RPC_TIMEOUT_MS });
}
