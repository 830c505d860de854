import { Agent, request } from "node:http";
import { quantile } from "./stats.js";

// A closed-loop HTTP load generator on node:http: `connections` keep-alive connections, each
// sending its next request as soon as the last answer is read, for a fixed time and at most a
// fixed number of requests. Loopback only; it always stops by itself.

export interface LoadRequest {
	method: "GET" | "POST";
	path: string;
	headers?: Record<string, string>;
	body?: string;
}

export interface LoadOptions {
	/** `http://127.0.0.1:<port>`; anything not on loopback is refused. */
	baseUrl: string;
	connections: number;
	durationMs: number;
	/** Hard cap on requests sent in the measured phase. */
	maxRequests: number;
	/** Unmeasured traffic first (JIT, connection set-up, caches), same requests. */
	warmupMs?: number;
	/** A request taking longer than this is aborted and counted as an error. */
	requestTimeoutMs?: number;
	/** The i-th request of the run (i counts across connections). */
	next: (i: number) => LoadRequest;
	/** Stops the run early (the benchmark's hard stop). */
	signal?: AbortSignal;
}

export interface LoadResult {
	requests: number;
	/** Answers with a 2xx status. */
	ok: number;
	/** Everything else: non-2xx statuses by code ("429", "500", …), and "network"/"timeout". */
	errors: Record<string, number>;
	error_count: number;
	duration_ms: number;
	rps: number;
	/** Milliseconds, over every measured request (errors included). */
	latency_ms: { p50: number; p95: number; p99: number; max: number; mean: number };
	connections: number;
}

interface Sample {
	ms: number;
	outcome: string;
}

function send(agent: Agent, base: URL, req: LoadRequest, timeoutMs: number): Promise<Sample> {
	return new Promise((resolve) => {
		const started = process.hrtime.bigint();
		const done = (outcome: string) =>
			resolve({ ms: Number(process.hrtime.bigint() - started) / 1e6, outcome });
		const headers: Record<string, string> = { ...req.headers };
		if (req.body !== undefined) {
			headers["content-type"] ??= "application/json";
			headers["content-length"] = String(Buffer.byteLength(req.body));
		}
		const r = request(
			{
				agent,
				host: base.hostname,
				port: base.port,
				method: req.method,
				path: req.path,
				headers,
				timeout: timeoutMs,
			},
			(res) => {
				res.on("data", () => {});
				res.on("error", () => done("network"));
				res.on("end", () => {
					const status = res.statusCode ?? 0;
					done(status >= 200 && status < 300 ? "ok" : String(status));
				});
			},
		);
		r.on("timeout", () => {
			r.destroy();
			done("timeout");
		});
		r.on("error", () => done("network"));
		r.end(req.body);
	});
}

async function phase(
	options: LoadOptions,
	agent: Agent,
	base: URL,
	durationMs: number,
	maxRequests: number,
	counter: { i: number },
): Promise<{ samples: Sample[]; elapsedMs: number }> {
	const samples: Sample[] = [];
	const started = performance.now();
	const deadline = started + durationMs;
	let sent = 0;
	const timeout = options.requestTimeoutMs ?? 10_000;
	const loop = async () => {
		while (performance.now() < deadline && sent < maxRequests && !options.signal?.aborted) {
			sent++;
			samples.push(await send(agent, base, options.next(counter.i++), timeout));
		}
	};
	await Promise.all(Array.from({ length: options.connections }, loop));
	return { samples, elapsedMs: performance.now() - started };
}

/** Runs the warm-up, then the measured phase, and summarises the measured one. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
	const base = new URL(options.baseUrl);
	if (!["127.0.0.1", "localhost", "[::1]"].includes(base.hostname)) {
		throw new Error(`load generator: loopback only, not ${base.hostname}`);
	}
	const agent = new Agent({ keepAlive: true, maxSockets: options.connections });
	const counter = { i: 0 };
	try {
		if (options.warmupMs) {
			await phase(options, agent, base, options.warmupMs, options.maxRequests, counter);
		}
		const { samples, elapsedMs } = await phase(
			options,
			agent,
			base,
			options.durationMs,
			options.maxRequests,
			counter,
		);
		return summarizeLoad(samples, elapsedMs, options.connections);
	} finally {
		agent.destroy();
	}
}

export function summarizeLoad(
	samples: Sample[],
	elapsedMs: number,
	connections: number,
): LoadResult {
	const sorted = samples.map((s) => s.ms).sort((a, b) => a - b);
	const errors: Record<string, number> = {};
	let ok = 0;
	for (const s of samples) {
		if (s.outcome === "ok") ok++;
		else errors[s.outcome] = (errors[s.outcome] ?? 0) + 1;
	}
	const round = (v: number) => Math.round(v * 100) / 100;
	const mean = sorted.reduce((sum, v) => sum + v, 0) / Math.max(1, sorted.length);
	return {
		requests: samples.length,
		ok,
		errors,
		error_count: samples.length - ok,
		duration_ms: Math.round(elapsedMs),
		rps: Math.round((samples.length / elapsedMs) * 1000 * 10) / 10,
		latency_ms: {
			p50: round(quantile(sorted, 0.5)),
			p95: round(quantile(sorted, 0.95)),
			p99: round(quantile(sorted, 0.99)),
			max: round(sorted.at(-1) ?? Number.NaN),
			mean: round(mean),
		},
		connections,
	};
}
