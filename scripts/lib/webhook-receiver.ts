import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

// A local webhook receiver for tests and benchmarks: records every request under a "sink" name
// (`/hooks/<sink>`) and answers as scripted (status, delay), default 200. Tests inside workerd
// drive it over HTTP: `POST /control/<sink>/script` [{status, delay_ms}], `GET
// /control/<sink>/received`.

export interface ReceivedWebhook {
	sink: string;
	headers: Record<string, string>;
	body: string;
	/** Date.now() when the request's body had fully arrived. */
	receivedAt: number;
}

export interface ScriptedResponse {
	status: number;
	/** Wait this long before answering (to make the sender time out). */
	delayMs?: number;
}

const SINK = /^\/hooks\/([A-Za-z0-9_-]{1,100})(?:\/.*)?$/;
const CONTROL = /^\/control\/([A-Za-z0-9_-]{1,100})\/(script|received)$/;

export class WebhookReceiver {
	readonly url: string;
	readonly #server: Server;
	readonly #received = new Map<string, ReceivedWebhook[]>();
	readonly #scripts = new Map<string, ScriptedResponse[]>();
	readonly #defaults = new Map<string, ScriptedResponse>();
	readonly #listeners = new Set<(hook: ReceivedWebhook) => void>();

	private constructor(server: Server, url: string) {
		this.#server = server;
		this.url = url;
	}

	/** Listens on 127.0.0.1 (a free port unless given). */
	static async start(port = 0): Promise<WebhookReceiver> {
		let receiver: WebhookReceiver | undefined;
		const server = createServer((req, res) => {
			receiver?.handle(req, res).catch(() => {
				if (!res.headersSent) res.writeHead(500).end();
			});
		});
		// Keep-alive sockets must not hold close() up.
		server.keepAliveTimeout = 1000;
		await new Promise<void>((resolve, reject) => {
			server.once("error", reject);
			server.listen(port, "127.0.0.1", () => resolve());
		});
		const { port: bound } = server.address() as AddressInfo;
		receiver = new WebhookReceiver(server, `http://127.0.0.1:${bound}`);
		return receiver;
	}

	/** The URL a webhook endpoint points at to land in `sink`. */
	sinkUrl(sink: string): string {
		return `${this.url}/hooks/${sink}`;
	}

	received(sink: string): ReceivedWebhook[] {
		return [...(this.#received.get(sink) ?? [])];
	}

	/** Queues responses for the next requests to `sink`; after them, 200. */
	script(sink: string, responses: ScriptedResponse[]): void {
		this.#scripts.set(sink, [...(this.#scripts.get(sink) ?? []), ...responses]);
	}

	/**
	 * The answer to `sink`'s requests once its script is used up (200 unless set): e.g. a 503 for
	 * as long as a receiver is down. `null` restores 200.
	 */
	setDefault(sink: string, response: ScriptedResponse | null): void {
		if (response) this.#defaults.set(sink, response);
		else this.#defaults.delete(sink);
	}

	/** Calls `listener` for every request from now on; returns the unsubscribe function. */
	onReceive(listener: (hook: ReceivedWebhook) => void): () => void {
		this.#listeners.add(listener);
		return () => this.#listeners.delete(listener);
	}

	close(): Promise<void> {
		return new Promise((resolve) => {
			this.#server.close(() => resolve());
			this.#server.closeAllConnections();
		});
	}

	private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
		const path = new URL(req.url ?? "/", this.url).pathname;
		const body = await readBody(req);
		const sink = SINK.exec(path)?.[1];
		if (sink && req.method === "POST") {
			const hook: ReceivedWebhook = {
				sink,
				headers: Object.fromEntries(
					Object.entries(req.headers).map(([name, value]) => [
						name,
						Array.isArray(value) ? value.join(", ") : (value ?? ""),
					]),
				),
				body,
				receivedAt: Date.now(),
			};
			const list = this.#received.get(sink) ?? [];
			list.push(hook);
			this.#received.set(sink, list);
			for (const listener of this.#listeners) listener(hook);
			const next = this.#scripts.get(sink)?.shift() ?? this.#defaults.get(sink) ?? { status: 200 };
			if (next.delayMs) await new Promise((resolve) => setTimeout(resolve, next.delayMs));
			if (!res.destroyed) res.writeHead(next.status, { "Content-Type": "text/plain" }).end("ok");
			return;
		}
		const control = CONTROL.exec(path);
		if (control) {
			const [, name, action] = control as unknown as [string, string, string];
			if (action === "received" && req.method === "GET") {
				return json(res, 200, this.received(name));
			}
			if (action === "script" && req.method === "POST") {
				const responses = JSON.parse(body) as { status: number; delay_ms?: number }[];
				this.script(
					name,
					responses.map((r) => ({
						status: r.status,
						...(r.delay_ms ? { delayMs: r.delay_ms } : {}),
					})),
				);
				return json(res, 200, { ok: true });
			}
		}
		json(res, 404, { error: "not found" });
	}
}

function json(res: ServerResponse, status: number, value: unknown): void {
	res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(value));
}

function readBody(req: IncomingMessage): Promise<string> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		req.on("data", (chunk: Buffer) => chunks.push(chunk));
		req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
		req.on("error", reject);
	});
}
