import type { IncomingMessage, RequestListener, Server, ServerResponse } from "node:http";
import { isIPv4 } from "node:net";

// Shared plumbing for the sandbox's node:http servers: body reading, JSON replies, a tiny
// router, and listen/close helpers that behave well with port 0 and keep-alive clients.

export type Log = (line: string) => void;

/** Generous for JSON-RPC batches and form bodies, small enough to refuse runaway uploads. */
export const MAX_BODY_BYTES = 1024 * 1024;

export class BodyTooLargeError extends Error {
	constructor(readonly limit: number) {
		super(`request body exceeds ${limit} bytes`);
		this.name = "BodyTooLargeError";
	}
}

export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<string> {
	const chunks: Buffer[] = [];
	let size = 0;
	for await (const chunk of req) {
		const buf = chunk as Buffer;
		size += buf.length;
		if (size > limit) throw new BodyTooLargeError(limit);
		chunks.push(buf);
	}
	return Buffer.concat(chunks).toString("utf8");
}

export function sendJson(
	res: ServerResponse,
	status: number,
	body: unknown,
	headers: Record<string, string> = {},
): void {
	const payload = JSON.stringify(body);
	res.writeHead(status, {
		"content-type": "application/json; charset=utf-8",
		"content-length": Buffer.byteLength(payload),
		...headers,
	});
	res.end(payload);
}

export function sendText(
	res: ServerResponse,
	status: number,
	text: string,
	headers: Record<string, string> = {},
): void {
	res.writeHead(status, {
		"content-type": "text/plain; charset=utf-8",
		"content-length": Buffer.byteLength(text),
		...headers,
	});
	res.end(text);
}

export interface RouteContext {
	req: IncomingMessage;
	res: ServerResponse;
	url: URL;
	params: Record<string, string>;
}

export type RouteHandler = (ctx: RouteContext) => void | Promise<void>;

interface Route {
	method: string;
	segments: string[];
	handler: RouteHandler;
}

/**
 * Exact-segment router: `/v1/payment_intents/:id` matches one segment per `:name`, and a
 * trailing slash is a different path (as on Stripe, where `/v1/refunds/` is unrecognized).
 */
export class Router {
	private readonly routes: Route[] = [];

	on(method: string, pattern: string, handler: RouteHandler): this {
		this.routes.push({ method: method.toUpperCase(), segments: pattern.split("/"), handler });
		return this;
	}

	get(pattern: string, handler: RouteHandler): this {
		return this.on("GET", pattern, handler);
	}

	post(pattern: string, handler: RouteHandler): this {
		return this.on("POST", pattern, handler);
	}

	delete(pattern: string, handler: RouteHandler): this {
		return this.on("DELETE", pattern, handler);
	}

	match(
		method: string,
		pathname: string,
	): { handler: RouteHandler; params: Record<string, string> } | undefined {
		const parts = pathname.split("/");
		for (const route of this.routes) {
			if (route.method !== method.toUpperCase()) continue;
			const params = matchSegments(route.segments, parts);
			if (params) return { handler: route.handler, params };
		}
		return undefined;
	}
}

function matchSegments(pattern: string[], parts: string[]): Record<string, string> | undefined {
	if (pattern.length !== parts.length) return undefined;
	const params: Record<string, string> = {};
	for (let i = 0; i < pattern.length; i++) {
		const want = pattern[i] ?? "";
		const got = parts[i] ?? "";
		if (want.startsWith(":")) {
			if (got === "") return undefined;
			try {
				params[want.slice(1)] = decodeURIComponent(got);
			} catch {
				return undefined;
			}
		} else if (want !== got) {
			return undefined;
		}
	}
	return params;
}

export interface RouterListenerOptions {
	notFound: (ctx: RouteContext) => void;
	/** Called when a handler throws; must answer the request if headers are not yet sent. */
	onError: (ctx: RouteContext, error: unknown) => void;
}

export function routerListener(router: Router, options: RouterListenerOptions): RequestListener {
	return (req, res) => {
		// The Host header is client-controlled; only the path and query matter here.
		const url = new URL(req.url ?? "/", "http://sandbox.invalid");
		const found = router.match(req.method ?? "GET", url.pathname);
		const ctx: RouteContext = { req, res, url, params: found?.params ?? {} };
		if (!found) {
			options.notFound(ctx);
			return;
		}
		Promise.resolve()
			.then(() => found.handler(ctx))
			.catch((error: unknown) => options.onError(ctx, error));
	};
}

export function errorMessage(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}

/** Loopback only: the sandbox fakes money movement and has no auth, so it must never be exposed. */
export function isLoopbackHost(host: string): boolean {
	if (host === "localhost" || host === "::1") return true;
	return isIPv4(host) && host.startsWith("127.");
}

export function formatUrl(host: string, port: number): string {
	return `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/** Resolves with the bound port, which differs from `port` when it is 0. */
export function listen(server: Server, port: number, host: string): Promise<number> {
	return new Promise((resolve, reject) => {
		const onError = (error: Error) => {
			server.off("listening", onListening);
			reject(error);
		};
		const onListening = () => {
			server.off("error", onError);
			const address = server.address();
			if (address === null || typeof address === "string") {
				reject(new Error("server is not bound to a TCP port"));
				return;
			}
			resolve(address.port);
		};
		server.once("error", onError);
		server.once("listening", onListening);
		server.listen(port, host);
	});
}

/** Stops accepting, drops keep-alive sockets (fetch keeps them open), resolves once unbound. */
export function closeServer(server: Server): Promise<void> {
	if (!server.listening) return Promise.resolve();
	return new Promise((resolve, reject) => {
		server.close((error) => (error ? reject(error) : resolve()));
		server.closeAllConnections();
	});
}

/** A control-API request the caller got wrong: answered 400 with its message. */
export class BadRequest extends Error {}

/** A control-API body: one JSON object (an empty body reads as {}), else BadRequest. */
export async function readJsonObject(req: IncomingMessage): Promise<Record<string, unknown>> {
	let text: string;
	try {
		text = await readBody(req);
	} catch (error) {
		if (error instanceof BodyTooLargeError) throw new BadRequest(error.message);
		throw error;
	}
	let body: unknown;
	try {
		body = text.trim() === "" ? {} : JSON.parse(text);
	} catch {
		throw new BadRequest("body must be JSON");
	}
	if (typeof body !== "object" || body === null || Array.isArray(body)) {
		throw new BadRequest("body must be a JSON object");
	}
	return body as Record<string, unknown>;
}
