import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpus } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Webhook } from "standardwebhooks";
import { LocalStack } from "../scripts/lib/local-stack.js";
import { REPO_ROOT } from "../scripts/lib/paths.js";
import { type ReceivedWebhook, WebhookReceiver } from "../scripts/lib/webhook-receiver.js";
import { idTime } from "../src/domain/ids.js";
import { writeResult } from "./lib/report.js";
import { pool, summarize } from "./lib/stats.js";

// `npm run bench:webhooks`: how fast the real gateway (wrangler dev: workerd, D1, Durable Objects
// and its local Queues) delivers webhooks. N payments are created through the API; each one's
// payment.created event leaves the payment's outbox, fans out on the webhooks queue and is POSTed
// to a receiver in this process. Lag = receipt time − the event's creation time (the millisecond
// time inside its id, stamped by the Durable Object at commit; one machine, one clock). Two
// phases: a burst (N payments as fast as 10 clients can create them) and a paced run (5 a second).
// Writes bench/results/webhooks.json. See bench/README.md.

const RESULT_FILE = join("bench", "results", "webhooks.json");
const PAYMENT_BODY = { amount: 2500, currency: "usd" } as const;
const SINK = "bench";

function fail(message: string): never {
	process.stderr.write(`[bench] ${message}\n`);
	process.exit(2);
}

const { values: args } = parseArgs({
	options: {
		events: { type: "string", default: "500" },
		concurrency: { type: "string", default: "10" },
		paced: { type: "string", default: "50" },
		"paced-rate": { type: "string", default: "5" },
		"timeout-s": { type: "string", default: "300" },
		"log-file": { type: "string" },
		"no-write": { type: "boolean", default: false },
	},
	strict: true,
});

function num(
	name: "events" | "concurrency" | "paced" | "paced-rate" | "timeout-s",
	min: number,
	max: number,
): number {
	const value = Number(args[name]);
	if (!Number.isInteger(value) || value < min || value > max)
		fail(`--${name} must be an integer from ${min} to ${max}`);
	return value;
}

const settings = {
	events: num("events", 1, 10_000),
	concurrency: num("concurrency", 1, 100),
	paced: num("paced", 1, 1000),
	pacedRate: num("paced-rate", 1, 100),
	timeoutS: num("timeout-s", 10, 3600),
};

function say(line: string): void {
	process.stdout.write(`[bench] ${line}\n`);
}

/** The commit measured, and whether the gateway's code differed from it (uncommitted edits). */
function gatewaySource(): { commit: string | null; uncommitted_changes: string[] } {
	const git = (...argv: string[]) =>
		spawnSync("git", argv, { cwd: REPO_ROOT, encoding: "utf8" }).stdout?.trim() ?? "";
	const changed = git(
		"status",
		"--porcelain",
		"--",
		"src",
		"durable-objects",
		"wrangler.toml",
		"migrations",
	)
		.split("\n")
		.filter(Boolean)
		.map((line) => line.slice(3));
	return { commit: git("rev-parse", "HEAD") || null, uncommitted_changes: changed };
}

const stack = new LocalStack({
	name: "bench-webhooks",
	vars: { ENCRYPTION_KEYS: `bench:${randomBytes(32).toString("base64")}` },
	readyTimeoutMs: 90_000,
	...(args["log-file"] ? { logFile: args["log-file"] } : {}),
	say,
	onGatewayExit: (message) => void abortWith(1, message),
});
let receiver: WebhookReceiver | undefined;
let cleaning: Promise<void> | undefined;

function cleanup(): Promise<void> {
	cleaning ??= (async () => {
		await stack.stop();
		await receiver?.close();
	})();
	return cleaning;
}

async function abortWith(code: number, message: string): Promise<never> {
	process.stderr.write(`[bench] ${message}\n`);
	if (code !== 0 && code !== 130) process.stderr.write(`[bench] ${stack.logTail()}\n`);
	await cleanup();
	process.exit(code);
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
	process.on(signal, () => void abortWith(130, `${signal} received; cleaning up`));
}

async function api<T>(secret: string, path: string, body?: unknown): Promise<T> {
	const res = await fetch(new URL(path, stack.gatewayUrl), {
		method: body === undefined ? "GET" : "POST",
		headers: {
			accept: "application/json",
			authorization: `Bearer ${secret}`,
			...(body !== undefined ? { "content-type": "application/json" } : {}),
		},
		body: body === undefined ? undefined : JSON.stringify(body),
		signal: AbortSignal.any([stack.signal, AbortSignal.timeout(20_000)]),
	});
	const text = await res.text();
	if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
	return JSON.parse(text) as T;
}

/** Resolves once `n` distinct events reached the sink (or throws at the deadline). */
function waitForEvents(
	received: Map<string, ReceivedWebhook>,
	n: number,
	deadline: number,
): Promise<void> {
	return new Promise((resolve, reject) => {
		const check = setInterval(() => {
			if (received.size >= n) {
				clearInterval(check);
				resolve();
			} else if (Date.now() > deadline) {
				clearInterval(check);
				reject(new Error(`only ${received.size} of ${n} webhooks arrived in time`));
			}
		}, 20);
	});
}

interface Phase {
	events: number;
	received_distinct: number;
	creation: { seconds: number; payments_per_s: number };
	delivery: { seconds: number; events_per_s: number };
	lag_ms: ReturnType<typeof summarize>;
}

/** Creates `count` payments (by `create`) and waits for each one's webhook; measures the phase. */
async function phase(
	first: Map<string, ReceivedWebhook>,
	count: number,
	create: () => Promise<void>,
): Promise<Phase> {
	first.clear();
	const createStart = Date.now();
	await create();
	const createEnd = Date.now();
	say(`created in ${((createEnd - createStart) / 1000).toFixed(1)} s; waiting for the webhooks`);
	await waitForEvents(first, count, Date.now() + settings.timeoutS * 1000);
	const hooks = [...first.entries()];
	const firstEvent = Math.min(...hooks.map(([id]) => idTime(id)));
	const lastReceipt = Math.max(...hooks.map(([, hook]) => hook.receivedAt));
	const deliverySeconds = (lastReceipt - firstEvent) / 1000;
	const createSeconds = (createEnd - createStart) / 1000;
	const round = (n: number) => Math.round(n * 10) / 10;
	return {
		events: count,
		received_distinct: first.size,
		creation: { seconds: round(createSeconds), payments_per_s: round(count / createSeconds) },
		delivery: { seconds: round(deliverySeconds), events_per_s: round(count / deliverySeconds) },
		lag_ms: summarize(hooks.map(([id, hook]) => hook.receivedAt - idTime(id))),
	};
}

async function main(): Promise<void> {
	receiver = await WebhookReceiver.start();
	await stack.start();
	const merchant = await stack.createMerchant("Webhook Bench");
	const endpoint = await api<{ id: string; secret: string }>(
		merchant.secretKey,
		"/v1/webhook_endpoints",
		{ url: receiver.sinkUrl(SINK), enabled_events: ["payment.created"] },
	);
	const verifier = new Webhook(endpoint.secret);
	const first = new Map<string, ReceivedWebhook>();
	let deliveries = 0;
	let invalid = 0;
	receiver.onReceive((hook) => {
		deliveries++;
		try {
			verifier.verify(hook.body, hook.headers);
		} catch {
			invalid++;
		}
		const id = hook.headers["webhook-id"] as string;
		if (!first.has(id)) first.set(id, hook);
	});
	const createPayment = async () => {
		await api(merchant.secretKey, "/v1/payments", PAYMENT_BODY);
	};

	say("warm-up: one payment, its webhook");
	await phase(first, 1, createPayment);
	const deliveriesBefore = deliveries;

	say(`burst: ${settings.events} payments, ${settings.concurrency} at a time`);
	const burst = await phase(first, settings.events, async () => {
		await pool(Array.from({ length: settings.events }), settings.concurrency, createPayment);
	});
	const burstDeliveries = deliveries - deliveriesBefore;

	say(`paced: ${settings.paced} payments, ${settings.pacedRate} a second`);
	const paced = await phase(first, settings.paced, async () => {
		const started = Date.now();
		await Promise.all(
			Array.from({ length: settings.paced }, async (_, i) => {
				const at = started + (i * 1000) / settings.pacedRate;
				await new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));
				await createPayment();
			}),
		);
	});
	const totalEvents = settings.events + settings.paced + 1;

	const attempts = await api<{ data: { status: string; attempt: number }[] }>(
		merchant.secretKey,
		`/v1/webhook_endpoints/${endpoint.id}/attempts?limit=100`,
	);
	const report = {
		measured_at: new Date().toISOString(),
		gateway_source: gatewaySource(),
		machine: {
			cores: cpus().length,
			cpu: cpus()[0]?.model ?? "unknown",
			platform: `${process.platform} ${process.arch}`,
			node: process.version,
			note: "gateway (wrangler dev), its local queues, receiver and bench share this machine; loopback only",
		},
		settings: {
			gateway: "wrangler dev (local workerd, D1, Durable Objects, Queues)",
			payment: PAYMENT_BODY,
			endpoint: {
				enabled_events: ["payment.created"],
				receiver: "Node http in the bench process, answers 200 at once",
			},
			queue:
				"webhooks: max_batch_size 25, max_batch_timeout 1 s (wrangler.toml); wrangler dev's local queue runs one batch at a time, and waits up to the timeout for a batch that is not full",
			path: "PaymentObject outbox → events row + {kind: event} message → fan-out batch → {kind: delivery} message → POST",
			burst: { events: settings.events, create_concurrency: settings.concurrency },
			paced: { events: settings.paced, per_second: settings.pacedRate },
			warmup_events: 1,
		},
		definitions: {
			lag_ms: "receipt at the receiver − the event id's time (the Durable Object's commit)",
			delivery_events_per_s: "events / (last receipt − first event's creation)",
		},
		results: {
			burst: { ...burst, deliveries: burstDeliveries },
			paced,
			all_events: {
				events: totalEvents,
				deliveries,
				duplicate_deliveries: deliveries - totalEvents,
				invalid_signatures: invalid,
			},
			latest_100_attempts: {
				not_first_attempt: attempts.data.filter((a) => a.attempt > 1).length,
				failed: attempts.data.filter((a) => a.status === "failed").length,
			},
		},
	};
	const line = (name: string, p: Phase) =>
		`${name}  created ${p.creation.payments_per_s}/s; delivered ${p.delivery.events_per_s} events/s; lag median ${p.lag_ms.median} ms, p95 ${p.lag_ms.p95} ms, max ${p.lag_ms.max} ms`;
	process.stdout.write(
		[
			"",
			`Webhooks: wrangler dev + local queues, ${cpus().length} cores, payment.created to one endpoint`,
			line(`burst (${settings.events}, ${settings.concurrency} at a time)`, burst),
			line(`paced (${settings.paced} at ${settings.pacedRate}/s)`, paced),
			`deliveries ${deliveries} for ${totalEvents} events; invalid signatures ${invalid}`,
			"",
		].join("\n"),
	);
	if (!args["no-write"]) {
		const row = (name: string, p: Phase) => [
			name,
			p.events,
			p.creation.payments_per_s,
			p.delivery.events_per_s,
			p.lag_ms.median,
			p.lag_ms.p95,
			p.lag_ms.max,
		];
		writeResult({
			name: "webhooks",
			title: "Webhook delivery through wrangler dev's local queues (payment.created, one endpoint)",
			tables: [
				{
					title: "Delivery from the Durable Object's commit to the receiver",
					columns: [
						"Phase",
						"events",
						"created/s",
						"delivered events/s",
						"lag median ms",
						"lag p95 ms",
						"lag max ms",
					],
					rows: [
						row(`burst (${settings.concurrency} clients)`, burst),
						row(`paced (${settings.pacedRate}/s)`, paced),
					],
					notes: [
						`${deliveries} deliveries for ${totalEvents} events, ${invalid} invalid signatures. The local queue runs one batch at a time and waits up to 1 s for a batch that is not full; an event crosses it twice.`,
					],
				},
			],
			data: report,
		});
		say(`wrote ${RESULT_FILE}`);
	}
}

main()
	.then(async () => {
		await cleanup();
		process.exit(0);
	})
	.catch(async (error: unknown) => {
		await abortWith(1, error instanceof Error ? (error.stack ?? error.message) : String(error));
	});
