import { readdirSync, readFileSync } from "node:fs";

// CPU profiles of the Worker under load, through the inspector port `wrangler dev` opens
// (LocalStack passes `--inspector-port`): Chrome DevTools protocol Profiler.start/stop over its
// WebSocket, summarised as self time per function and per source file.

interface CpuProfileNode {
	id: number;
	callFrame: { functionName: string; url: string; lineNumber: number };
	hitCount?: number;
	children?: number[];
}

export interface CpuProfile {
	nodes: CpuProfileNode[];
	startTime: number;
	endTime: number;
	samples?: number[];
	timeDeltas?: number[];
}

/** The `--inspector-port` of the `wrangler dev` whose `--persist-to` is `persistDir` (Linux /proc). */
export function findInspectorPort(persistDir: string): number | null {
	for (const pid of readdirSync("/proc")) {
		if (!/^\d+$/.test(pid)) continue;
		let argv: string[];
		try {
			argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
		} catch {
			continue;
		}
		const persist = argv.indexOf("--persist-to");
		const port = argv.indexOf("--inspector-port");
		if (argv.includes("dev") && persist > 0 && argv[persist + 1] === persistDir && port > 0) {
			return Number(argv[port + 1]);
		}
	}
	return null;
}

/** Profiles the Worker while `during` runs; samples every `intervalUs` microseconds. */
export async function profileWhile(
	inspectorPort: number,
	during: () => Promise<void>,
	intervalUs = 200,
): Promise<CpuProfile> {
	const WS = (globalThis as { WebSocket?: typeof WebSocket }).WebSocket;
	if (!WS)
		throw new Error(
			"profiling needs a global WebSocket (Node 22, or node --experimental-websocket)",
		);
	const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json()) as {
		webSocketDebuggerUrl: string;
		title?: string;
	}[];
	const target = targets.find((t) => t.webSocketDebuggerUrl) ?? null;
	if (!target) throw new Error(`no inspector target on port ${inspectorPort}`);
	// wrangler's inspector proxy wants a loopback Origin from a client that sends a User-Agent
	// (undici's WebSocket takes headers as an extension of the standard constructor).
	const ws = new WS(target.webSocketDebuggerUrl, {
		headers: { Origin: `http://127.0.0.1:${inspectorPort}` },
	} as unknown as string[]);
	await new Promise<void>((resolve, reject) => {
		ws.addEventListener("open", () => resolve(), { once: true });
		ws.addEventListener("error", () => reject(new Error("inspector WebSocket failed")), {
			once: true,
		});
	});
	let nextId = 1;
	const pending = new Map<number, (result: unknown) => void>();
	ws.addEventListener("message", (event) => {
		const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown };
		if (message.id !== undefined) pending.get(message.id)?.(message.result);
	});
	const call = (method: string, params: object = {}) =>
		new Promise<unknown>((resolve) => {
			const id = nextId++;
			pending.set(id, resolve);
			ws.send(JSON.stringify({ id, method, params }));
		});
	try {
		await call("Profiler.enable");
		await call("Profiler.setSamplingInterval", { interval: intervalUs });
		await call("Profiler.start");
		await during();
		const { profile } = (await call("Profiler.stop")) as { profile: CpuProfile };
		return profile;
	} finally {
		ws.close();
	}
}

export interface ProfileSummary {
	total_ms: number;
	idle_ms: number;
	/** Self time, largest first. */
	functions: { name: string; where: string; self_ms: number; share: number }[];
	files: { file: string; self_ms: number; share: number }[];
}

function shortUrl(url: string): string {
	if (!url) return "(native)";
	const src = url.lastIndexOf("/src/");
	if (src >= 0) return url.slice(src + 1);
	const nm = url.lastIndexOf("node_modules/");
	if (nm >= 0) return url.slice(nm + "node_modules/".length);
	return url.split("/").slice(-2).join("/");
}

/** Self time per function and per file, from the samples and their time deltas. */
export function summarizeProfile(profile: CpuProfile, top = 25): ProfileSummary {
	const byId = new Map(profile.nodes.map((n) => [n.id, n]));
	const self = new Map<number, number>();
	const samples = profile.samples ?? [];
	const deltas = profile.timeDeltas ?? [];
	for (let i = 0; i < samples.length; i++) {
		const id = samples[i] as number;
		self.set(id, (self.get(id) ?? 0) + (deltas[i + 1] ?? deltas[i] ?? 0) / 1000);
	}
	const total = (profile.endTime - profile.startTime) / 1000;
	const fns = new Map<string, { name: string; where: string; self_ms: number }>();
	const files = new Map<string, number>();
	let idle = 0;
	for (const [id, ms] of self) {
		const node = byId.get(id);
		if (!node) continue;
		const name = node.callFrame.functionName || "(anonymous)";
		if (name === "(idle)" || name === "(program)") {
			if (name === "(idle)") idle += ms;
		}
		const where = `${shortUrl(node.callFrame.url)}:${node.callFrame.lineNumber + 1}`;
		const key = `${name} ${where}`;
		const entry = fns.get(key) ?? { name, where, self_ms: 0 };
		entry.self_ms += ms;
		fns.set(key, entry);
		const file = shortUrl(node.callFrame.url);
		files.set(file, (files.get(file) ?? 0) + ms);
	}
	const share = (ms: number) => Math.round((ms / Math.max(1, total)) * 1000) / 10;
	const r = (ms: number) => Math.round(ms * 10) / 10;
	return {
		total_ms: r(total),
		idle_ms: r(idle),
		functions: [...fns.values()]
			.sort((a, b) => b.self_ms - a.self_ms)
			.slice(0, top)
			.map((f) => ({ ...f, self_ms: r(f.self_ms), share: share(f.self_ms) })),
		files: [...files.entries()]
			.sort((a, b) => b[1] - a[1])
			.slice(0, top)
			.map(([file, ms]) => ({ file, self_ms: r(ms), share: share(ms) })),
	};
}
