import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { generateKeyPairSigner, type KeyPairSigner } from "@solana/kit";
import type { Sandbox } from "../sandbox/server.js";
import type { RpcCallEvent } from "../sandbox/solana/simulator.js";
import { LocalStack } from "../scripts/lib/local-stack.js";
import { REPO_ROOT } from "../scripts/lib/paths.js";
import { idTime } from "../src/domain/ids.js";
import {
	fundedPayer as fundPayer,
	signTransactionRequest,
	signTransferRequestUrl,
} from "./lib/payer.js";
import { writeResult } from "./lib/report.js";
import { pool, type Summary, summarize } from "./lib/stats.js";

// `npm run bench:solana`: how fast the real gateway (wrangler dev: workerd, D1, one Durable Object
// per payment polling by alarm) notices a Solana payment on the sandbox's local network with a real
// slot clock, and how many RPC calls it spends per payment, paid and unpaid. Measured, not
// modelled: confirmation times come from the sandbox's slot events, success times from the
// gateway's payment.succeeded event ids, RPC calls from the sandbox's per-call accounting.
// Writes bench/results/solana-detection.json. See bench/README.md.

const RESULT_FILE = join("bench", "results", "solana-detection.json");
const PAYMENT_BODY = {
	amount: 2500,
	currency: "usd",
	payment_method_types: ["solana"],
	solana: { token: "USDC" },
} as const;
/** The Solana Pay point-of-sale example polls findReference every 250 ms. */
const REFERENCE_POLL_MS = 250;
const REFERENCE_CALLS_PER_15_MIN = (15 * 60 * 1000) / REFERENCE_POLL_MS;
const TARGET_UNPAID_CALLS_PER_15_MIN = 360;
const TARGET_MEDIAN_DETECTION_MS = 1000;
const CHECKOUT_REOPEN_MS = 2 * 60 * 1000;
const GATEWAY_READY_MS = 90_000;
const PAYMENT_TIMEOUT_MS = 60_000;
/** Calls the gateway makes on a payment's behalf (the bench itself only sends transactions). */
const GATEWAY_METHODS = [
	"getSignaturesForAddress",
	"getTransaction",
	"getSignatureStatuses",
	"getLatestBlockhash",
] as const;

// ── options ─────────────────────────────────────────────────────────────────────────────────

function fail(message: string): never {
	process.stderr.write(`[bench] ${message}\n`);
	process.exit(2);
}

const { values: args } = parseArgs({
	options: {
		paid: { type: "string", default: "50" },
		qr: { type: "string", default: "20" },
		concurrency: { type: "string", default: "5" },
		"unpaid-minutes": { type: "string", default: "5" },
		"slot-ms": { type: "string", default: "400" },
		"confirmed-lag": { type: "string", default: "1" },
		"finalized-lag": { type: "string", default: "32" },
		"event-poll-ms": { type: "string", default: "500" },
		"think-max-ms": { type: "string", default: "4000" },
		"arrival-jitter-ms": { type: "string", default: "1000" },
		"hard-stop-minutes": { type: "string", default: "12" },
		"no-write": { type: "boolean", default: false },
		verbose: { type: "boolean", default: false },
	},
	strict: true,
});

function num(name: keyof typeof args, min: number, max: number, integer = true): number {
	const value = Number(args[name]);
	if (
		!Number.isFinite(value) ||
		value < min ||
		value > max ||
		(integer && !Number.isInteger(value))
	)
		fail(`--${name} must be ${integer ? "an integer" : "a number"} from ${min} to ${max}`);
	return value;
}

const settings = {
	paid: num("paid", 1, 1000),
	qr: num("qr", 0, 1000),
	concurrency: num("concurrency", 1, 50),
	unpaidMinutes: num("unpaid-minutes", 0, 15, false),
	slotMs: num("slot-ms", 50, 5000),
	confirmedLag: num("confirmed-lag", 1, 32),
	finalizedLag: num("finalized-lag", 1, 1000),
	eventPollMs: num("event-poll-ms", 50, 5000),
	// A transaction request's blockhash lasts 150 slots (60 s at 400 ms): think less than that.
	thinkMaxMs: num("think-max-ms", 0, 55_000),
	arrivalJitterMs: num("arrival-jitter-ms", 0, 30_000),
	hardStopMinutes: num("hard-stop-minutes", 1, 60, false),
};
if (settings.finalizedLag < settings.confirmedLag)
	fail("--finalized-lag must be ≥ --confirmed-lag");

// ── small helpers ───────────────────────────────────────────────────────────────────────────

function say(line: string): void {
	process.stdout.write(`[bench] ${line}\n`);
}

function verbose(line: string): void {
	if (args.verbose) say(line);
}

function pick({ min, median, p95, max, mean }: Summary) {
	return { median, p95, max, min, mean };
}

// ── lifecycle: sandbox, wrangler dev and its temp state; cleaned up on every exit path ────────

const lifetime = new AbortController();
const stack = new LocalStack({
	name: "bench",
	solana: {
		slotMs: settings.slotMs,
		confirmedLag: settings.confirmedLag,
		finalizedLag: settings.finalizedLag,
	},
	readyTimeoutMs: GATEWAY_READY_MS,
	say,
	onSandbox: watchSandbox,
	onGatewayExit: (message) => void abortWith(1, message),
});
let cleaning: Promise<void> | undefined;

function cleanup(): Promise<void> {
	cleaning ??= (async () => {
		lifetime.abort();
		await stack.stop();
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

// ── gateway HTTP ────────────────────────────────────────────────────────────────────────────

async function api<T>(
	path: string,
	options: { method?: "GET" | "POST"; token?: string; body?: unknown; idempotent?: boolean } = {},
): Promise<T> {
	const headers: Record<string, string> = { accept: "application/json" };
	if (options.token) headers.authorization = `Bearer ${options.token}`;
	if (options.body !== undefined) headers["content-type"] = "application/json";
	if (options.idempotent) headers["idempotency-key"] = randomBytes(12).toString("hex");
	const res = await fetch(new URL(path, stack.gatewayUrl), {
		method: options.method ?? "GET",
		headers,
		body: options.body === undefined ? undefined : JSON.stringify(options.body),
		signal: AbortSignal.any([lifetime.signal, AbortSignal.timeout(20_000)]),
	});
	const text = await res.text();
	if (!res.ok)
		throw new Error(`${options.method ?? "GET"} ${path}: HTTP ${res.status} ${text.slice(0, 300)}`);
	return (text ? JSON.parse(text) : undefined) as T;
}

interface Payment {
	id: string;
	status: string;
	solana: {
		amount: string;
		decimals: number;
		mint: string | null;
		token_program: string | null;
		recipient: string;
		reference: string;
		memo: string;
		solana_pay_url: string;
		required_commitment: string;
	};
}

async function createPayment(secret: string): Promise<Payment> {
	const payment = await api<Payment>("/v1/payments", {
		method: "POST",
		token: secret,
		body: PAYMENT_BODY,
		idempotent: true,
	});
	if (payment.solana.required_commitment !== "confirmed") {
		throw new Error(
			`expected required_commitment confirmed for ${PAYMENT_BODY.amount} ${PAYMENT_BODY.currency}, got ${payment.solana.required_commitment}`,
		);
	}
	return payment;
}

/** GET /checkout/:id as a payer's browser would (HTML; the gateway marks the payment watched). */
async function openCheckout(id: string): Promise<void> {
	const res = await fetch(new URL(`/checkout/${id}`, stack.gatewayUrl), {
		signal: AbortSignal.any([lifetime.signal, AbortSignal.timeout(20_000)]),
	});
	await res.text();
	if (res.status !== 200) throw new Error(`GET /checkout/${id}: HTTP ${res.status}`);
}

/** The payment.succeeded event's id time (ms), polled at a modest rate; the id is what counts. */
async function waitForSucceeded(
	secret: string,
	id: string,
): Promise<{ eventId: string; at: number }> {
	const deadline = Date.now() + PAYMENT_TIMEOUT_MS;
	for (;;) {
		const page = await api<{ data: { id: string; type: string }[] }>(
			`/v1/events?object_id=${id}&type=payment.succeeded&limit=1`,
			{ token: secret },
		);
		const event = page.data[0];
		if (event) return { eventId: event.id, at: idTime(event.id) };
		if (Date.now() > deadline)
			throw new Error(`${id} did not succeed within ${PAYMENT_TIMEOUT_MS / 1000}s`);
		await sleep(settings.eventPollMs, undefined, { signal: lifetime.signal });
	}
}

// ── chain side: the sandbox in-process ──────────────────────────────────────────────────────

const slotTimes = new Map<number, number>();
const slotWaiters = new Map<number, (() => void)[]>();
const rpcCalls: RpcCallEvent[] = [];
/** References and signatures of every payment the bench made, to check nothing is unattributed. */
const knownKeys = new Set<string>();
/** POSTs to /solana-pay/:id; each makes the gateway call getLatestBlockhash once. */
let transactionRequestCount = 0;

function watchSandbox(sb: Sandbox): void {
	sb.solana.events.on("slot", (event: { slot: number }) => {
		const at = Date.now();
		slotTimes.set(event.slot, at);
		for (const [slot, waiters] of slotWaiters) {
			if (slot <= event.slot) {
				slotWaiters.delete(slot);
				for (const wake of waiters) wake();
			}
		}
	});
	sb.solana.events.on("rpc", (event: RpcCallEvent) => rpcCalls.push(event));
}

/** Wall-clock ms at which the tip reached `slot` (waits for it if it is still ahead). */
async function slotReachedAt(slot: number): Promise<number> {
	if (!slotTimes.has(slot)) {
		await new Promise<void>((resolve) => {
			const list = slotWaiters.get(slot) ?? [];
			list.push(resolve);
			slotWaiters.set(slot, list);
		});
	}
	return slotTimes.get(slot) as number;
}

async function sendRaw(wire: string): Promise<string> {
	const res = await fetch(sandboxRpcUrl(), {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: JSON.stringify({
			jsonrpc: "2.0",
			id: 1,
			method: "sendTransaction",
			params: [wire, { encoding: "base64" }],
		}),
		signal: AbortSignal.any([lifetime.signal, AbortSignal.timeout(20_000)]),
	});
	const body = (await res.json()) as { result?: string; error?: { message: string } };
	if (body.error || !body.result) throw new Error(`sendTransaction: ${body.error?.message}`);
	return body.result;
}

function sandboxRpcUrl(): string {
	return stack.sandbox.urls.solana;
}

function theSandbox(): Sandbox {
	return stack.sandbox;
}

/** A new wallet with SOL for fees and exactly the tokens it will pay. */
function fundedPayer(tokens: bigint): Promise<KeyPairSigner> {
	return fundPayer(theSandbox(), tokens);
}

/**
 * Pays a Solana Pay transfer request the way a wallet does from a QR code. The blockhash is read
 * in-process, so the only getLatestBlockhash calls the sandbox counts are the gateway's.
 */
async function payTransferRequest(
	payer: KeyPairSigner,
	url: string,
	decimals: number,
): Promise<string> {
	return sendRaw(await signTransferRequestUrl(theSandbox(), payer, url, decimals));
}

/** The wallet's POST to the transaction request endpoint: the unsigned transaction (base64). */
async function requestTransaction(payer: KeyPairSigner, id: string): Promise<string> {
	transactionRequestCount += 1;
	const { transaction } = await api<{ transaction: string }>(`/solana-pay/${id}`, {
		method: "POST",
		body: { account: payer.address },
	});
	return transaction;
}

/** Signs a transaction request's answer as the wallet would, and sends it. */
async function signAndSend(payer: KeyPairSigner, transaction: string): Promise<string> {
	return sendRaw(await signTransactionRequest(payer, transaction));
}

// ── one paid payment ────────────────────────────────────────────────────────────────────────

type PathName = "transaction_request" | "transfer_request";

interface PaidSample {
	path: PathName;
	payment: string;
	reference: string;
	signature: string;
	createdAt: number;
	thinkMs: number;
	requestedAt: number | null;
	sentAt: number;
	txSlot: number;
	confirmedAt: number;
	succeededAt: number;
	detectionMs: number;
}

async function paidPayment(path: PathName, secret: string, index: number): Promise<PaidSample> {
	// Payers arrive at random moments: without this, each payment would start in step with the
	// previous one's finish (itself in step with a slot tick), and the gateway's poll phase
	// relative to the slot clock would be an artefact of the bench instead of uniform.
	await sleep(Math.random() * settings.arrivalJitterMs, undefined, { signal: lifetime.signal });
	const payment = await createPayment(secret);
	const createdAt = idTime(payment.id);
	const payer = await fundedPayer(BigInt(payment.solana.amount));
	// The payer takes a moment (approving in the wallet, scanning the QR code) before the
	// transaction goes out; random, so confirmations fall anywhere in the gateway's poll cycle.
	const thinkMs = Math.round(Math.random() * settings.thinkMaxMs);
	let requestedAt: number | null = null;
	let signature: string;
	if (path === "transaction_request") {
		requestedAt = Date.now();
		const transaction = await requestTransaction(payer, payment.id);
		await sleep(thinkMs, undefined, { signal: lifetime.signal });
		signature = await signAndSend(payer, transaction);
	} else {
		// The payer's browser shows the checkout (and its QR code) once, right after creation.
		await openCheckout(payment.id);
		await sleep(thinkMs, undefined, { signal: lifetime.signal });
		signature = await payTransferRequest(
			payer,
			payment.solana.solana_pay_url,
			payment.solana.decimals,
		);
	}
	const sentAt = Date.now();
	knownKeys.add(payment.solana.reference);
	knownKeys.add(signature);
	const record = theSandbox().solana.chain.ledger.get(signature);
	if (!record) throw new Error(`${signature} was not executed`);
	const confirmedAt = await slotReachedAt(record.slot + settings.confirmedLag);
	const { at: succeededAt } = await waitForSucceeded(secret, payment.id);
	const sample: PaidSample = {
		path,
		payment: payment.id,
		reference: payment.solana.reference,
		signature,
		createdAt,
		thinkMs,
		requestedAt,
		sentAt,
		txSlot: record.slot,
		confirmedAt,
		succeededAt,
		detectionMs: succeededAt - confirmedAt,
	};
	verbose(
		`${path} ${index < 0 ? "warm-up" : `#${index + 1}`} ${payment.id}: think ${thinkMs} ms, detected ${sample.detectionMs} ms after confirmed`,
	);
	return sample;
}

// ── unpaid payments ─────────────────────────────────────────────────────────────────────────

type UnpaidScenario =
	| "idle"
	| "checkout_once"
	| "checkout_every_2_min"
	| "transaction_requested_never_sent";

const UNPAID_SCENARIOS: UnpaidScenario[] = [
	"idle",
	"checkout_once",
	"checkout_every_2_min",
	"transaction_requested_never_sent",
];

interface UnpaidRun {
	scenario: UnpaidScenario;
	payment: string;
	reference: string;
	createdAt: number;
	windowMs: number;
	checkoutOpens: number[];
	transactionRequests: number[];
}

async function unpaidPayment(
	scenario: UnpaidScenario,
	secret: string,
	windowMs: number,
): Promise<UnpaidRun> {
	const payment = await createPayment(secret);
	const createdAt = idTime(payment.id);
	knownKeys.add(payment.solana.reference);
	const end = createdAt + windowMs;
	const checkoutOpens: number[] = [];
	const transactionRequests: number[] = [];
	const open = async () => {
		checkoutOpens.push(Date.now());
		await openCheckout(payment.id);
	};
	if (scenario === "checkout_once" || scenario === "checkout_every_2_min") await open();
	if (scenario === "checkout_every_2_min") {
		for (let next = createdAt + CHECKOUT_REOPEN_MS; next < end; next += CHECKOUT_REOPEN_MS) {
			await sleep(Math.max(0, next - Date.now()), undefined, { signal: lifetime.signal });
			await open();
		}
	}
	if (scenario === "transaction_requested_never_sent") {
		// A wallet scans the transaction request QR code, fetches the transaction, and the payer
		// walks away: the worst case for the gateway's fast (400 ms) polling minute.
		transactionRequests.push(Date.now());
		await requestTransaction(await generateKeyPairSigner(), payment.id);
	}
	await sleep(Math.max(0, end - Date.now()), undefined, { signal: lifetime.signal });
	return {
		scenario,
		payment: payment.id,
		reference: payment.solana.reference,
		createdAt,
		windowMs,
		checkoutOpens,
		transactionRequests,
	};
}

// ── analysis ────────────────────────────────────────────────────────────────────────────────

function callsOn(key: string, methods: readonly string[], from = 0, to = Number.POSITIVE_INFINITY) {
	return rpcCalls.filter(
		(c) => methods.includes(c.method) && c.at >= from && c.at <= to && c.keys.includes(key),
	);
}

function intervals(times: number[]): number[] {
	return times.slice(1).map((t, i) => t - (times[i] as number));
}

function analysePath(samples: PaidSample[], latestBlockhashPerRequest: number) {
	const detection = summarize(samples.map((s) => s.detectionMs));
	// Where the time goes: waiting for the object's next look, then reading and settling.
	const waits: number[] = [];
	const processing: number[] = [];
	const pollIntervals: number[] = [];
	const calls: number[] = [];
	const byMethod: Record<string, number> = {};
	for (const s of samples) {
		const looks = callsOn(s.reference, ["getSignaturesForAddress"]).map((c) => c.at);
		const seenBy = looks.filter((t) => t >= s.confirmedAt && t <= s.succeededAt).at(0);
		if (seenBy !== undefined) {
			waits.push(seenBy - s.confirmedAt);
			processing.push(s.succeededAt - seenBy);
		}
		const from = s.requestedAt ?? s.createdAt;
		pollIntervals.push(...intervals(looks.filter((t) => t >= from && t <= s.succeededAt)));
		const own = [
			...callsOn(s.reference, GATEWAY_METHODS),
			...callsOn(s.signature, GATEWAY_METHODS).filter((c) => !c.keys.includes(s.reference)),
		];
		for (const c of own) byMethod[c.method] = (byMethod[c.method] ?? 0) + 1;
		calls.push(own.length + (s.path === "transaction_request" ? latestBlockhashPerRequest : 0));
	}
	if (samples[0]?.path === "transaction_request") {
		byMethod.getLatestBlockhash = latestBlockhashPerRequest * samples.length;
	}
	const perPayment = summarize(calls);
	return {
		n: samples.length,
		detection_ms: pick(detection),
		breakdown_ms: {
			confirmed_to_next_look: pick(summarize(waits)),
			look_to_succeeded_event: pick(summarize(processing)),
		},
		observed_poll_interval_ms: {
			median: summarize(pollIntervals).median,
			p95: summarize(pollIntervals).p95,
		},
		confirmation_ms_after_send: summarize(samples.map((s) => s.confirmedAt - s.sentAt)).median,
		seconds_from_create_to_send: summarize(samples.map((s) => (s.sentAt - s.createdAt) / 1000))
			.median,
		rpc_calls_per_paid_payment: {
			mean: perPayment.mean,
			max: perPayment.max,
			by_method_mean: Object.fromEntries(
				Object.entries(byMethod).map(([m, n]) => [m, Math.round((n / samples.length) * 100) / 100]),
			),
		},
		samples_detection_ms: samples.map((s) => s.detectionMs),
	};
}

/** Consecutive poll intervals grouped into runs of about the same length: the observed cadence. */
function cadence(times: number[]): { interval_ms: number; count: number; from_s: number }[] {
	const runs: { values: number[]; from: number }[] = [];
	for (const [i, gap] of intervals(times).entries()) {
		const last = runs.at(-1);
		const typical = last ? summarize(last.values).median : 0;
		if (last && Math.abs(gap - typical) <= typical * 0.2) last.values.push(gap);
		else runs.push({ values: [gap], from: times[i] as number });
	}
	return runs.map((r) => ({
		interval_ms: summarize(r.values).median,
		count: r.values.length,
		from_s: Math.round((r.from - (times[0] ?? 0)) / 100) / 10,
	}));
}

function analyseUnpaid(run: UnpaidRun, latestBlockhashPerRequest: number) {
	const end = run.createdAt + run.windowMs;
	const looks = callsOn(run.reference, GATEWAY_METHODS, run.createdAt, end).map((c) => c.at);
	const blockhashCalls = run.transactionRequests.length * latestBlockhashPerRequest;
	const calls = looks.length + blockhashCalls;
	const lifeMs = 15 * 60_000;
	const runs = cadence(looks);
	// Scaled, not measured: the measured rates carried to a 15-minute life, with no knowledge of
	// the gateway's schedule beyond what the window showed.
	// linear: the window's average rate (an upper bound when the window starts busy, ends idle).
	const linear = (calls / run.windowMs) * lifeMs;
	// by_phase: a payment viewed every 2 minutes repeats itself, so the rate over whole 2-minute
	// periods is carried on; any other payment is busy at first and then settles into its
	// slowest cadence for good, so the calls of the busy start are kept as measured and the rate
	// of that final, slowest run is carried over the rest of the 15 minutes.
	let byPhase = linear;
	let method = "linear (window too short for a phase)";
	let busyCalls: number | null = null;
	let idleIntervalMs: number | null = null;
	const tail = runs.at(-1);
	if (run.scenario === "checkout_every_2_min") {
		const periods = Math.floor(run.windowMs / CHECKOUT_REOPEN_MS);
		if (periods > 0) {
			const inPeriods = looks.filter((t) => t < run.createdAt + periods * CHECKOUT_REOPEN_MS);
			byPhase = (inPeriods.length / (periods * CHECKOUT_REOPEN_MS)) * lifeMs;
			method = `rate over ${periods} whole 2-minute view cycles`;
		}
	} else if (
		tail &&
		runs.length > 1 &&
		tail.count >= 3 &&
		runs.every((r) => r.interval_ms <= tail.interval_ms)
	) {
		const idleFrom = looks.length - 1 - tail.count;
		const idleStart = looks[idleFrom] as number;
		const lastLook = looks.at(-1) as number;
		busyCalls = idleFrom + blockhashCalls;
		idleIntervalMs = tail.interval_ms;
		byPhase =
			busyCalls +
			1 +
			(tail.count / (lastLook - idleStart)) * (lifeMs - (idleStart - run.createdAt));
		method = `busy start as measured (${Math.round((idleStart - run.createdAt) / 1000)} s), then the measured idle rate`;
	}
	return {
		scenario: run.scenario,
		checkout_views: run.checkoutOpens.length,
		transaction_requests: run.transactionRequests.length,
		window_minutes: Math.round((run.windowMs / 60_000) * 100) / 100,
		calls_measured: Math.round(calls * 100) / 100,
		get_latest_blockhash_calls: blockhashCalls,
		busy_start_calls: busyCalls,
		idle_interval_ms: idleIntervalMs,
		observed_cadence: runs,
		per_15_min_scaled_linear: Math.round(linear),
		per_15_min_scaled_by_phase: Math.round(byPhase),
		by_phase_method: method,
	};
}

/** "1.5 s ×30, 5 s ×15, …": the cadence, short enough for a table cell. */
function cadenceText(runs: { interval_ms: number; count: number }[], max = 5): string {
	const text = runs
		.slice(0, max)
		.map((r) => `${Math.round(r.interval_ms / 100) / 10} s ×${r.count}`)
		.join(", ");
	return runs.length > max ? `${text}, …` : text;
}

// ── report ──────────────────────────────────────────────────────────────────────────────────

function table(rows: string[][]): string {
	const widths =
		rows[0]?.map((_, col) => Math.max(...rows.map((r) => (r[col] ?? "").length))) ?? [];
	return rows
		.map((r) =>
			r
				.map((cell, col) =>
					col === 0 ? cell.padEnd(widths[col] ?? 0) : cell.padStart(widths[col] ?? 0),
				)
				.join("  "),
		)
		.join("\n");
}

function ms(value: number): string {
	return Number.isNaN(value) ? "–" : `${Math.round(value)} ms`;
}

/** The commit measured, and whether the gateway's code differed from it (uncommitted edits). */
function gatewaySource(): { commit: string | null; uncommitted_changes: string[] } {
	const git = (...argv: string[]) =>
		spawnSync("git", argv, { cwd: REPO_ROOT, encoding: "utf8" }).stdout?.trim() ?? "";
	const commit = git("rev-parse", "HEAD") || null;
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
	return { commit, uncommitted_changes: changed };
}

// ── main ────────────────────────────────────────────────────────────────────────────────────

async function main(): Promise<void> {
	const startedAt = Date.now();
	const hardStop = setTimeout(
		() => void abortWith(1, `hard stop: still running after ${settings.hardStopMinutes} minutes`),
		settings.hardStopMinutes * 60_000,
	);
	hardStop.unref();

	await stack.start();
	say(`gateway ready after ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);

	const { secretKey: secret } = await stack.createMerchant("Bench Merchant");

	// Unpaid payments run alongside the paid ones, for the whole window.
	const windowMs = settings.unpaidMinutes * 60_000;
	const unpaid =
		windowMs > 0
			? Promise.all(UNPAID_SCENARIOS.map((s) => unpaidPayment(s, secret, windowMs)))
			: Promise.resolve([]);
	unpaid.catch(() => {}); // Awaited below; keep an early rejection from going unhandled.
	if (windowMs > 0)
		say(
			`${UNPAID_SCENARIOS.length} unpaid payments watched for ${settings.unpaidMinutes} min (in the background)`,
		);

	// Warm-up: the first payment pays for bundling caches, the settlement ATA and JIT; not counted.
	await paidPayment("transaction_request", secret, -1);

	say(`transaction-request path: ${settings.paid} payments, ${settings.concurrency} at a time`);
	const txSamples = await pool([...Array(settings.paid).keys()], settings.concurrency, (i) =>
		paidPayment("transaction_request", secret, i),
	);
	say(`transfer-request (QR) path: ${settings.qr} payments, ${settings.concurrency} at a time`);
	const qrSamples = await pool([...Array(settings.qr).keys()], settings.concurrency, (i) =>
		paidPayment("transfer_request", secret, i),
	);
	if (windowMs > 0) say("waiting for the unpaid window to end");
	const unpaidRuns = await unpaid;
	// Let any look already in flight land before counting.
	await sleep(1_000);

	const latestBlockhashCalls = rpcCalls.filter((c) => c.method === "getLatestBlockhash").length;
	const txRequests = transactionRequestCount;
	const latestBlockhashPerRequest = latestBlockhashCalls / Math.max(1, txRequests);
	const tx = analysePath(txSamples, latestBlockhashPerRequest);
	const qr = qrSamples.length > 0 ? analysePath(qrSamples, 0) : undefined;
	const unpaidResults = unpaidRuns.map((run) => analyseUnpaid(run, latestBlockhashPerRequest));
	// Every gateway call should concern one of the bench's payments (or build a transaction).
	const unattributed = rpcCalls.filter(
		(c) =>
			(GATEWAY_METHODS as readonly string[]).includes(c.method) &&
			c.method !== "getLatestBlockhash" &&
			!c.keys.some((k) => knownKeys.has(k)),
	).length;
	const methodTotals: Record<string, number> = {};
	for (const c of rpcCalls) methodTotals[c.method] = (methodTotals[c.method] ?? 0) + 1;
	const gatewayWarnings = readFileSync(stack.logPath, "utf8")
		.split("\n")
		.filter((l) => l.includes("chain poll failed") || l.includes("outbox flush failed")).length;

	const targets = {
		median_detection_ms: TARGET_MEDIAN_DETECTION_MS,
		unpaid_calls_per_15_min: TARGET_UNPAID_CALLS_PER_15_MIN,
		unpaid_judged_on: "per_15_min_scaled_by_phase",
		met: {
			median_detection_transaction_request: tx.detection_ms.median <= TARGET_MEDIAN_DETECTION_MS,
			median_detection_transfer_request: qr
				? qr.detection_ms.median <= TARGET_MEDIAN_DETECTION_MS
				: null,
			unpaid_calls: Object.fromEntries(
				unpaidResults.map((u) => [
					u.scenario,
					u.per_15_min_scaled_by_phase <= TARGET_UNPAID_CALLS_PER_15_MIN,
				]),
			),
		},
	};
	const wranglerVersion = (
		JSON.parse(
			readFileSync(join(REPO_ROOT, "node_modules", "wrangler", "package.json"), "utf8"),
		) as {
			version: string;
		}
	).version;
	const report = {
		measured_at: new Date().toISOString(),
		gateway_source: gatewaySource(),
		duration_s: Math.round((Date.now() - startedAt) / 1000),
		machine: {
			cores: cpus().length,
			cpu: cpus()[0]?.model ?? "unknown",
			platform: `${process.platform} ${process.arch}`,
			node: process.version,
			wrangler: wranglerVersion,
			note: "gateway, sandbox and bench share this machine; loopback only",
		},
		settings: {
			gateway: "wrangler dev (local workerd, D1, Durable Object alarms)",
			slot_ms: settings.slotMs,
			confirmed_lag: settings.confirmedLag,
			finalized_lag: settings.finalizedLag,
			payment: PAYMENT_BODY,
			required_commitment: "confirmed",
			concurrency: settings.concurrency,
			event_poll_ms: settings.eventPollMs,
			arrival_jitter_ms: `uniform 0–${settings.arrivalJitterMs} before each paid payment is created`,
			payer_think_ms: `uniform 0–${settings.thinkMaxMs} between the transaction request (or checkout view) and sending`,
			unpaid_window_minutes: settings.unpaidMinutes,
			warmup_payments: 1,
		},
		detection: {
			definition:
				"payment.succeeded event id time (gateway clock) minus the wall-clock moment the sandbox's tip reached tx slot + confirmed_lag",
			transaction_request: tx,
			...(qr ? { transfer_request: qr } : {}),
		},
		rpc: {
			definition:
				"calls served by the sandbox whose first parameter is the payment's reference or signature (getSignaturesForAddress, getTransaction, getSignatureStatuses), plus getLatestBlockhash per transaction request (all getLatestBlockhash calls / transaction requests; the bench never calls it)",
			latest_blockhash_calls: latestBlockhashCalls,
			transaction_requests: txRequests,
			unattributed_gateway_calls: unattributed,
			all_calls_by_method: methodTotals,
			gateway_warnings_logged: gatewayWarnings,
		},
		unpaid: {
			note: "calls measured over the window; the per_15_min figures are SCALED from the measured rates, not measured over 15 minutes. linear: the window's average rate × 15 min (an upper bound when the window starts busy and ends idle). by_phase: see by_phase_method (whole 2-minute view cycles for the reopened checkout; otherwise the busy start as measured, then the rate of the final, slowest cadence). The target is judged on by_phase",
			scenarios: unpaidResults,
		},
		reference_point: {
			what: "Solana Pay point-of-sale example: findReference every 250 ms",
			calls_per_15_min: REFERENCE_CALLS_PER_15_MIN,
		},
		targets,
	};

	// ── stdout ──
	const paths: [string, typeof tx][] = [["transaction request", tx]];
	if (qr) paths.push(["transfer request (QR)", qr]);
	const rowsDetection = [
		["path", "n", "median", "p95", "max", "confirmed→look", "look→succeeded", "poll interval"],
		...paths.map(([name, r]) => [
			name,
			String(r.n),
			ms(r.detection_ms.median),
			ms(r.detection_ms.p95),
			ms(r.detection_ms.max),
			ms(r.breakdown_ms.confirmed_to_next_look.median),
			ms(r.breakdown_ms.look_to_succeeded_event.median),
			ms(r.observed_poll_interval_ms.median),
		]),
	];
	const rowsPaidRpc = [
		["path", "calls/payment mean", "max", "by method (mean)"],
		...paths.map(([name, r]) => [
			name,
			String(r.rpc_calls_per_paid_payment.mean),
			String(r.rpc_calls_per_paid_payment.max),
			Object.entries(r.rpc_calls_per_paid_payment.by_method_mean)
				.map(([m, n]) => `${m} ${n}`)
				.join(", "),
		]),
	];
	const rowsUnpaid = [
		[
			"scenario",
			"window",
			"calls",
			"observed cadence",
			"15 min linear",
			"15 min by phase",
			"≤ 360",
		],
		...unpaidResults.map((u) => [
			u.scenario,
			`${u.window_minutes} min`,
			String(u.calls_measured),
			cadenceText(u.observed_cadence),
			String(u.per_15_min_scaled_linear),
			String(u.per_15_min_scaled_by_phase),
			targets.met.unpaid_calls[u.scenario] ? "yes" : "NO",
		]),
	];
	process.stdout.write(
		[
			"",
			`Solana payment detection: wrangler dev + sandbox (slot ${settings.slotMs} ms, confirmedLag ${settings.confirmedLag}, finalizedLag ${settings.finalizedLag}), ${cpus().length} cores`,
			"Detection = payment.succeeded event time − moment the transaction reached `confirmed`",
			table(rowsDetection),
			"",
			`RPC calls per paid payment (payer sends 0–${settings.thinkMaxMs / 1000} s after the request or checkout view)`,
			table(rowsPaidRpc),
			"",
			`Unpaid payments (measured ${settings.unpaidMinutes} min; the 15-min figures are SCALED from the measured rates; the target is judged by phase)`,
			table(rowsUnpaid),
			`Reference: Solana Pay POS example, findReference every ${REFERENCE_POLL_MS} ms = ${REFERENCE_CALLS_PER_15_MIN} calls / 15 min`,
			"",
			`Target median detection ≤ ${TARGET_MEDIAN_DETECTION_MS} ms: transaction request ${targets.met.median_detection_transaction_request ? "met" : "NOT met"}${qr ? `, transfer request ${targets.met.median_detection_transfer_request ? "met" : "NOT met"}` : ""}`,
			`Target ≤ ${TARGET_UNPAID_CALLS_PER_15_MIN} calls per unpaid payment per 15 min: ${Object.values(targets.met.unpaid_calls).every(Boolean) ? "met" : "NOT met"} (${Object.entries(
				targets.met.unpaid_calls,
			)
				.map(([s, ok]) => `${s} ${ok ? "yes" : "no"}`)
				.join(", ")})`,
			unattributed > 0
				? `${unattributed} gateway RPC calls concerned none of the bench's payments`
				: "",
			gatewayWarnings > 0
				? `Gateway logged ${gatewayWarnings} poll/flush warnings (see wrangler log)`
				: "",
			"",
		].join("\n"),
	);

	if (!args["no-write"]) {
		const asTable = (title: string, rows: string[][], notes?: string[]) => ({
			title,
			columns: rows[0] ?? [],
			rows: rows.slice(1),
			...(notes ? { notes } : {}),
		});
		const detectionTarget = (name: string, r: typeof tx, met: boolean) => ({
			name: `${name}: median detection ≤ ${TARGET_MEDIAN_DETECTION_MS} ms after confirmed`,
			met,
			detail: `median ${ms(r.detection_ms.median)}, p95 ${ms(r.detection_ms.p95)} (n=${r.n})`,
		});
		writeResult({
			name: "solana-detection",
			title: `Solana payment detection through wrangler dev and the sandbox's chain (slot ${settings.slotMs} ms)`,
			targets: [
				detectionTarget(
					"transaction request",
					tx,
					targets.met.median_detection_transaction_request,
				),
				...(qr
					? [
							detectionTarget(
								"transfer request (QR)",
								qr,
								targets.met.median_detection_transfer_request === true,
							),
						]
					: []),
				...unpaidResults.map((u) => ({
					name: `${u.scenario}: ≤ ${TARGET_UNPAID_CALLS_PER_15_MIN} RPC calls per unpaid payment per 15 min`,
					met: targets.met.unpaid_calls[u.scenario] ?? false,
					detail: `${u.per_15_min_scaled_by_phase} scaled by phase from ${u.calls_measured} calls in ${u.window_minutes} min`,
				})),
			],
			tables: [
				asTable(
					"Detection: payment.succeeded − the moment the transaction reached confirmed",
					rowsDetection,
				),
				asTable(
					`RPC calls per paid payment (payer sends 0–${settings.thinkMaxMs / 1000} s after the request or view)`,
					rowsPaidRpc,
				),
				asTable(
					`Unpaid payments (measured ${settings.unpaidMinutes} min; 15-min figures SCALED from measured rates)`,
					rowsUnpaid,
					[
						`Reference: the Solana Pay point-of-sale example polls every ${REFERENCE_POLL_MS} ms, ${REFERENCE_CALLS_PER_15_MIN} calls in 15 min.`,
					],
				),
			],
			data: report,
		});
		say(`wrote ${RESULT_FILE}`);
	}
	clearTimeout(hardStop);
}

main()
	.then(async () => {
		await cleanup();
		process.exit(0);
	})
	.catch(async (error: unknown) => {
		if (lifetime.signal.aborted && cleaning) return;
		await abortWith(1, error instanceof Error ? (error.stack ?? error.message) : String(error));
	});
