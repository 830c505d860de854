import { createServer, type Server, type ServerResponse } from "node:http";
import { setTimeout as delay } from "node:timers/promises";
import { BodyTooLargeError, errorMessage, type Log, readBody, sendText } from "../http.js";
import { parseJson, stringifyJson } from "./json.js";

// Solana JSON-RPC 2.0 over HTTP, shaped like a validator's RPC port. Methods live in a
// registry so the LiteSVM-backed ones (getBalance, sendTransaction, ...) drop in as entries.

/** A u64 id past 2^53 stays exact as a bigint and is echoed back as written. */
export type JsonRpcId = string | number | bigint | null;

/** Handlers receive the request's `params` as sent (array, object or undefined). */
export type RpcHandler = (params: unknown) => unknown | Promise<unknown>;

export type RpcMethods = Map<string, RpcHandler>;

/** All the dispatcher needs from a registry, so a gate can answer every method alike. */
export type RpcMethodLookup = Pick<RpcMethods, "get">;

export const RPC_PARSE_ERROR = -32700;
export const RPC_INVALID_REQUEST = -32600;
export const RPC_METHOD_NOT_FOUND = -32601;
export const RPC_INVALID_PARAMS = -32602;
export const RPC_INTERNAL_ERROR = -32603;

/** Throw from a handler to answer with a specific JSON-RPC error (e.g. Solana's -32002). */
export class JsonRpcError extends Error {
	constructor(
		readonly code: number,
		message: string,
		readonly data?: unknown,
	) {
		super(message);
		this.name = "JsonRpcError";
	}
}

export interface JsonRpcErrorObject {
	code: number;
	message: string;
	data?: unknown;
}

export type JsonRpcResponse =
	| { jsonrpc: "2.0"; result: unknown; id: JsonRpcId }
	| { jsonrpc: "2.0"; error: JsonRpcErrorObject; id: JsonRpcId };

export const SOLANA_CORE_VERSION = "2.2.0";
/** Real nodes report a hash of their active feature set; any stable u32 satisfies clients. */
export const FEATURE_SET = 3_294_202_862;

export function createDefaultMethods(): RpcMethods {
	return new Map<string, RpcHandler>([
		["getHealth", () => "ok"],
		["getVersion", () => ({ "solana-core": SOLANA_CORE_VERSION, "feature-set": FEATURE_SET })],
	]);
}

function errorResponse(id: JsonRpcId, code: number, message: string, data?: unknown) {
	const error: JsonRpcErrorObject =
		data === undefined ? { code, message } : { code, message, data };
	return { jsonrpc: "2.0", error, id } satisfies JsonRpcResponse;
}

function isRecord(value: unknown): value is Record<string, unknown> {
	return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isValidId(value: unknown): value is JsonRpcId {
	return (
		value === null ||
		typeof value === "string" ||
		typeof value === "number" ||
		typeof value === "bigint"
	);
}

/** Returns undefined for notifications (no `id`), which get no response per JSON-RPC 2.0. */
async function handleOne(
	request: unknown,
	methods: RpcMethodLookup,
	log: Log,
): Promise<JsonRpcResponse | undefined> {
	if (!isRecord(request)) return errorResponse(null, RPC_INVALID_REQUEST, "Invalid request");
	const hasId = "id" in request;
	const id = hasId && isValidId(request.id) ? request.id : null;
	// Arrays and objects per the spec; null is tolerated like Solana's own parser does.
	const { params } = request;
	if (
		request.jsonrpc !== "2.0" ||
		typeof request.method !== "string" ||
		(hasId && !isValidId(request.id)) ||
		(params !== undefined && typeof params !== "object")
	) {
		return errorResponse(id, RPC_INVALID_REQUEST, "Invalid request");
	}
	const handler = methods.get(request.method);
	let response: JsonRpcResponse;
	if (!handler) {
		response = errorResponse(id, RPC_METHOD_NOT_FOUND, "Method not found");
	} else {
		try {
			response = { jsonrpc: "2.0", result: await handler(params), id };
		} catch (error) {
			if (error instanceof JsonRpcError) {
				response = errorResponse(id, error.code, error.message, error.data);
			} else {
				log(`solana rpc: ${request.method} failed: ${errorMessage(error)}`);
				response = errorResponse(id, RPC_INTERNAL_ERROR, "Internal error");
			}
		}
	}
	return hasId ? response : undefined;
}

/**
 * Answers one HTTP body: a response object, an array for batches, or undefined when
 * nothing is owed (only notifications).
 */
export async function handleJsonRpcBody(
	body: string,
	methods: RpcMethodLookup,
	log: Log = () => {},
): Promise<JsonRpcResponse | JsonRpcResponse[] | undefined> {
	let parsed: unknown;
	try {
		// Lossless, so u64 amounts past 2^53 (requestAirdrop, simulator_mintTokens) stay exact.
		parsed = parseJson(body);
	} catch {
		return errorResponse(null, RPC_PARSE_ERROR, "Parse error");
	}
	if (!Array.isArray(parsed)) return handleOne(parsed, methods, log);
	if (parsed.length === 0) return errorResponse(null, RPC_INVALID_REQUEST, "Invalid request");
	// Sequential on purpose: later stateful methods (sendTransaction) must apply in batch order.
	const responses: JsonRpcResponse[] = [];
	for (const request of parsed) {
		const response = await handleOne(request, methods, log);
		if (response) responses.push(response);
	}
	return responses.length > 0 ? responses : undefined;
}

/** What a gate wants done with one HTTP request before (or instead of) dispatching it. */
export interface RequestGateDecision {
	delayMs?: number;
	/** Answer the HTTP request itself: a JSON body, or plain text when a string. */
	http?: { status: number; body: unknown };
	/** Answer every JSON-RPC request in the body with this error (HTTP 200). */
	rpcError?: JsonRpcErrorObject;
}

/** Sees the method names of each request (["getHealth"] for GET /health); fault injection. */
export type RequestGate = (methods: string[]) => RequestGateDecision | undefined;

export interface SolanaRpcServerOptions {
	methods?: RpcMethods;
	gate?: RequestGate;
	log?: Log;
	/** Told of each request about to be dispatched to a registered method (call accounting). */
	onCall?: (method: string, params: unknown) => void;
}

function methodNames(body: string): string[] {
	try {
		const parsed: unknown = JSON.parse(body);
		const list = Array.isArray(parsed) ? parsed : [parsed];
		return list.flatMap((r) => (isRecord(r) && typeof r.method === "string" ? [r.method] : []));
	} catch {
		return [];
	}
}

function sendRpcJson(res: ServerResponse, status: number, body: unknown): void {
	const payload = stringifyJson(body);
	res.writeHead(status, {
		"content-type": "application/json; charset=utf-8",
		"content-length": Buffer.byteLength(payload),
	});
	res.end(payload);
}

function sendHttpDecision(res: ServerResponse, http: { status: number; body: unknown }): void {
	if (typeof http.body === "string") sendText(res, http.status, http.body);
	else sendRpcJson(res, http.status, http.body);
}

async function answer(
	body: string,
	methods: RpcMethodLookup,
	gate: RequestGate | undefined,
	log: Log,
): Promise<{ status: number; body: unknown } | undefined> {
	const decision = gate?.(methodNames(body));
	if (decision?.delayMs) await delay(decision.delayMs);
	if (decision?.http) return decision.http;
	const rpcError = decision?.rpcError;
	const lookup: RpcMethodLookup = rpcError
		? {
				get: () => () => {
					throw new JsonRpcError(rpcError.code, rpcError.message, rpcError.data);
				},
			}
		: methods;
	const payload = await handleJsonRpcBody(body, lookup, log);
	return payload === undefined ? undefined : { status: 200, body: payload };
}

export function createSolanaRpcServer(options: SolanaRpcServerOptions = {}): Server {
	const registry = options.methods ?? createDefaultMethods();
	const { gate, onCall } = options;
	const methods: RpcMethodLookup = onCall
		? {
				get(name) {
					const handler = registry.get(name);
					return (
						handler &&
						((params: unknown) => {
							onCall(name, params);
							return handler(params);
						})
					);
				},
			}
		: registry;
	const log = options.log ?? (() => {});
	return createServer((req, res) => {
		const path = (req.url ?? "/").split("?")[0];
		if (path === "/health" && (req.method === "GET" || req.method === "HEAD")) {
			const http = gate?.(["getHealth"])?.http;
			if (http) sendHttpDecision(res, http);
			else sendText(res, 200, "ok");
			return;
		}
		if (path !== "/") {
			sendText(res, 404, "Not Found");
			return;
		}
		if (req.method !== "POST") {
			sendText(res, 405, "Method Not Allowed", { allow: "POST" });
			return;
		}
		readBody(req)
			.then((body) => answer(body, methods, gate, log))
			.then((reply) => {
				// JSON-RPC errors still travel as HTTP 200, as on a real validator.
				if (reply === undefined) {
					res.writeHead(204).end();
				} else {
					sendHttpDecision(res, reply);
				}
			})
			.catch((error: unknown) => {
				if (error instanceof BodyTooLargeError) {
					sendText(res, 413, "Payload Too Large", { connection: "close" });
					return;
				}
				log(`solana rpc: request failed: ${errorMessage(error)}`);
				if (!res.headersSent)
					sendRpcJson(res, 500, errorResponse(null, RPC_INTERNAL_ERROR, "Internal error"));
			});
	});
}
