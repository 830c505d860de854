import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { address } from "@solana/kit";
import { findAssociatedTokenPda } from "@solana-program/token";
import type { RpcCallEvent } from "../sandbox/solana/simulator.js";
import { USDC } from "../sandbox/solana/tokens.js";
import { idTime } from "../src/domain/ids.js";
import {
	fundedPayer,
	fundedSolPayer,
	sendOverRpc,
	signTransactionRequest,
	signTransferRequest,
} from "./lib/payer.js";
import {
	type ApiPayment,
	GatewayApiFailure,
	PAYMENT_BODY,
	PipelineHarness,
} from "./lib/pipeline-stack.js";
import {
	type CreationRun,
	firstLook,
	type PaidSample,
	type PayPath,
	rpcWindow,
	type WindowRun,
} from "./lib/scale-analysis.js";
import { writeScaleResult } from "./lib/scale-report.js";
import { SlotClock } from "./lib/slot-clock.js";
import { pool } from "./lib/stats.js";

// `npm run bench:scale`: what watching the chain costs with many open payments. Through the real
// gateway (wrangler dev) and the sandbox's chain (400 ms slots), it opens 1,000 unpaid Solana
// payments (SOL and USDC), counts every RPC call the sandbox serves for a measured window, and
// meanwhile pays a few of them by the wallet path (transaction request; with and without the
// checkout reporting the signature) and by the QR path (a plain transfer), timing each from
// `confirmed` to GET /v1/payments/:id reading `succeeded`. Then it tops the open payments up to
// 10,000 and measures again. Writes bench/results/scale.json; see docs/benchmarks.md, "Scale".

const { values: args } = parseArgs({
	options: {
		sizes: { type: "string", default: "1000,10000" },
		"window-s": { type: "string", default: "120" },
		paid: { type: "string", default: "30" },
		concurrency: { type: "string", default: "8" },
		"poll-ms": { type: "string", default: "50" },
		"cron-every-s": { type: "string", default: "60" },
		"hard-stop-minutes": { type: "string", default: "15" },
		"log-file": { type: "string" },
		"no-write": { type: "boolean", default: false },
		verbose: { type: "boolean", default: false },
	},
	strict: true,
});

function int(value: string | undefined, name: string, min: number, max: number): number {
	const n = Number(value);
	if (!Number.isInteger(n) || n < min || n > max) {
		process.stderr.write(`[scale] --${name} must be an integer from ${min} to ${max}\n`);
		process.exit(2);
	}
	return n;
}

const sizes = (args.sizes ?? "").split(",").map((s) => int(s.trim(), "sizes", 1, 20_000));
const settings = {
	sizes,
	windowMs: int(args["window-s"], "window-s", 10, 600) * 1000,
	paid: int(args.paid, "paid", 0, 100),
	concurrency: int(args.concurrency, "concurrency", 1, 64),
	pollMs: int(args["poll-ms"], "poll-ms", 10, 1000),
	cronEveryMs: int(args["cron-every-s"], "cron-every-s", 5, 600) * 1000,
	hardStopMs: int(args["hard-stop-minutes"], "hard-stop-minutes", 2, 30) * 60_000,
	slotMs: 400,
	confirmedLag: 1,
};
/** What is kept back from the hard stop for the last window, the report and shutting down. */
const RESERVE_MS = 60_000;
const DETECTION_DEADLINE_MS = 30_000;
const SOL_BODY = { ...PAYMENT_BODY, solana: { token: "SOL" } };
const PATHS: PayPath[] = ["checkout_wallet", "wallet", "qr"];

function say(line: string): void {
	process.stdout.write(`[scale] ${line}\n`);
}

const rpcCalls: RpcCallEvent[] = [];
const slots = new SlotClock();
const harness = new PipelineHarness({
	name: "bench-scale",
	solana: { slotMs: settings.slotMs, confirmedLag: settings.confirmedLag, finalizedLag: 32 },
	webhooks: false,
	...(args["log-file"] ? { logFile: args["log-file"] } : {}),
	say,
	onSandbox: (sandbox) => {
		slots.attach(sandbox);
		sandbox.solana.events.on("rpc", (e: RpcCallEvent) => rpcCalls.push(e));
	},
	onGatewayExit: (message) => void fail(message),
});

async function fail(message: string): Promise<never> {
	process.stderr.write(`[scale] ${message}\n${harness.stack.logTail()}\n`);
	await harness.stop();
	process.exit(1);
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
	process.on(signal, () => void fail(`${signal} received`));
}

// ── creating open payments ──────────────────────────────────────────────────────────────────

/** Open payments by token, in creation order (the ones paid are taken off). */
const open = { USDC: [] as ApiPayment[], SOL: [] as ApiPayment[] };
const references = new Set<string>();
let created = 0;
let refusals = 0;

async function createOne(index: number): Promise<void> {
	const body = index % 2 === 0 ? PAYMENT_BODY : SOL_BODY;
	for (;;) {
		try {
			const payment = await harness.createPayment(body);
			references.add(payment.solana.reference);
			open[payment.solana.token === "SOL" ? "SOL" : "USDC"].push(payment);
			created += 1;
			return;
		} catch (error) {
			if (!(error instanceof GatewayApiFailure && error.status === 429)) throw error;
			refusals += 1;
			await sleep(1_000);
		}
	}
}

async function openUntil(size: number, deadline: number): Promise<CreationRun> {
	const openNow = open.USDC.length + open.SOL.length;
	const need = Math.max(0, size - openNow);
	const startedAt = Date.now();
	const createdBefore = created;
	const refusalsBefore = refusals;
	const marks: number[] = [];
	let stopped = false;
	say(`creating ${need} payments (${openNow} open), ${settings.concurrency} at a time`);
	await pool([...Array(need).keys()], settings.concurrency, async (i) => {
		if (stopped || Date.now() > deadline) {
			stopped = true;
			return;
		}
		await createOne(createdBefore + i);
		const done = created - createdBefore;
		if (done % 1000 === 0) {
			marks.push(Date.now());
			const rate = done / ((Date.now() - startedAt) / 1000);
			say(`${done} created, ${rate.toFixed(1)}/s`);
		}
	});
	const endedAt = Date.now();
	const seconds = (endedAt - startedAt) / 1000;
	const made = created - createdBefore;
	return {
		target_open: size,
		reached_open: open.USDC.length + open.SOL.length,
		created: made,
		seconds: Math.round(seconds * 10) / 10,
		payments_per_s: Math.round((made / seconds) * 10) / 10,
		seconds_per_1000: marks.map(
			(t, i) => Math.round((t - (i === 0 ? startedAt : (marks[i - 1] as number))) / 100) / 10,
		),
		stopped_for_time: stopped,
		rate_limited: refusals - refusalsBefore,
		rpc: rpcWindow(rpcCalls, startedAt, endedAt, references, new Set()),
	};
}

// ── paying a few during the window ──────────────────────────────────────────────────────────

async function settlementAccount(payment: ApiPayment): Promise<string> {
	if (!payment.solana.mint) return payment.solana.recipient;
	const [ata] = await findAssociatedTokenPda({
		owner: address(payment.solana.recipient),
		mint: address(payment.solana.mint),
		tokenProgram: address(USDC.programId),
	});
	return ata;
}

async function readSucceeded(id: string, deadline: number): Promise<number | null> {
	while (Date.now() < deadline) {
		const payment = await harness.getPayment(id);
		if (payment.status === "succeeded") return Date.now();
		await sleep(settings.pollMs);
	}
	return null;
}

async function pay(payment: ApiPayment, path: PayPath, size: number, n: number) {
	const sandbox = harness.stack.sandbox;
	const amount = BigInt(payment.solana.amount);
	const payer = payment.solana.mint
		? await fundedPayer(sandbox, amount)
		: await fundedSolPayer(sandbox, amount);
	// Each payer's wallet or browser calls from its own address, as on the internet.
	const ip = { "cf-connecting-ip": `10.77.${size % 256}.${n}` };
	let wire: string;
	if (path === "qr") {
		// The payer's browser shows the checkout with its QR code; the wallet pays it on its own.
		const page = await fetch(new URL(`/checkout/${payment.id}`, harness.stack.gatewayUrl), {
			headers: ip,
		});
		await page.text();
		wire = await signTransferRequest(sandbox, payer, payment);
	} else {
		const { transaction } = await harness.api<{ transaction: string }>(
			"POST",
			`/solana-pay/${payment.id}`,
			{ account: payer.address },
			ip,
		);
		wire = await signTransactionRequest(payer, transaction);
	}
	const signature = await sendOverRpc(sandbox.urls.solana, wire);
	if (path === "checkout_wallet") {
		// Not awaited, as the checkout page does not wait for it either.
		void fetch(new URL(`/checkout/${payment.id}/signature`, harness.stack.gatewayUrl), {
			method: "POST",
			headers: { ...ip, "content-type": "application/json" },
			body: JSON.stringify({ signature }),
			signal: harness.stack.signal,
		})
			.then((r) => r.text())
			.catch(() => undefined);
	}
	const deadline = Date.now() + DETECTION_DEADLINE_MS;
	const read = readSucceeded(payment.id, deadline);
	const record = sandbox.solana.chain.ledger.get(signature);
	if (!record) throw new Error(`${signature} was not executed`);
	const confirmedAt = await slots.reachedAt(
		record.slot + settings.confirmedLag,
		harness.stack.signal,
	);
	const readAt = await read;
	const events = await harness.api<{ data: { id: string }[] }>(
		"GET",
		`/v1/events?object_id=${payment.id}&type=payment.succeeded&limit=1`,
	);
	const committedAt = events.data[0] ? idTime(events.data[0].id) : null;
	const sample: PaidSample = {
		size,
		path,
		token: payment.solana.token,
		payment: payment.id,
		signature,
		slot: record.slot,
		confirmed_at: confirmedAt,
		read_succeeded_at: readAt,
		committed_at: committedAt,
		looked_at:
			firstLook(rpcCalls, await settlementAccount(payment), confirmedAt, committedAt ?? deadline) ??
			null,
		...(readAt === null ? { error: `not succeeded within ${DETECTION_DEADLINE_MS / 1000} s` } : {}),
	};
	if (args.verbose) {
		say(
			`${path} ${sample.token} ${payment.id}: read ${readAt === null ? "never" : `${readAt - confirmedAt} ms`}, committed ${committedAt === null ? "?" : `${committedAt - confirmedAt} ms`} after confirmed`,
		);
	}
	return sample;
}

/**
 * The measured window: every call the sandbox serves is counted, and `paid` of the open payments
 * are paid at random moments spread over it (one in each equal slice), taking the three paths in
 * turn and, within each, USDC and SOL.
 */
async function measureWindow(size: number): Promise<WindowRun> {
	const openAtStart = open.USDC.length + open.SOL.length;
	const from = Date.now();
	const slice = settings.windowMs / Math.max(1, settings.paid);
	const paidSignatures = new Set<string>();
	say(`window: ${settings.windowMs / 1000} s at ${openAtStart} open, paying ${settings.paid}`);
	const runs = Array.from({ length: settings.paid }, async (_, n) => {
		const path = PATHS[n % PATHS.length] as PayPath;
		const token = Math.floor(n / PATHS.length) % 2 === 0 ? "USDC" : "SOL";
		// The newest open payment in that token (still well inside its quote).
		const payment = open[token].pop();
		if (!payment) throw new Error(`no open ${token} payment left to pay`);
		await sleep(n * slice + Math.random() * slice * 0.8, undefined, {
			signal: harness.stack.signal,
		});
		const sample = await pay(payment, path, size, n).catch(
			(error: unknown): PaidSample => ({
				size,
				path,
				token,
				payment: payment.id,
				signature: "",
				slot: 0,
				confirmed_at: 0,
				read_succeeded_at: null,
				committed_at: null,
				looked_at: null,
				error: error instanceof Error ? error.message : String(error),
			}),
		);
		if (sample.error) say(`${path} ${token} ${payment.id} failed: ${sample.error}`);
		paidSignatures.add(sample.signature);
		return sample;
	});
	const samples = await Promise.all(runs);
	const to = from + settings.windowMs;
	await sleep(Math.max(0, to - Date.now()));
	return {
		open_payments: openAtStart,
		rpc: rpcWindow(rpcCalls, from, to, references, paidSignatures),
		samples,
	};
}

// ── the run ─────────────────────────────────────────────────────────────────────────────────

async function main(): Promise<void> {
	const startedAt = Date.now();
	const hardStopAt = startedAt + settings.hardStopMs;
	const hardStop = setTimeout(
		() => void fail(`hard stop: still running after ${settings.hardStopMs / 60_000} minutes`),
		settings.hardStopMs,
	);
	hardStop.unref();
	await harness.start();
	say(`stack ready in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
	// wrangler dev never fires cron triggers; production fires the minute cron once a minute.
	const cron = setInterval(
		() => void harness.stack.runCron().catch(() => {}),
		settings.cronEveryMs,
	);
	cron.unref();

	const creations: CreationRun[] = [];
	const windows: WindowRun[] = [];
	for (const size of settings.sizes) {
		const creation = await openUntil(size, hardStopAt - settings.windowMs - RESERVE_MS);
		creations.push(creation);
		say(
			`${creation.reached_open} open after ${creation.seconds} s (${creation.payments_per_s}/s)${creation.stopped_for_time ? "; stopped: no time left for a window" : ""}`,
		);
		const measured = await measureWindow(size);
		windows.push(measured);
		say(
			`${measured.open_payments} open: ${measured.rpc.calls_per_min} RPC calls/min (${Object.entries(
				measured.rpc.by_method,
			)
				.map(([m, v]) => `${m} ${v.per_min}`)
				.join(", ")})`,
		);
		if (creation.stopped_for_time) break;
	}
	clearInterval(cron);
	const totalS = Math.round((Date.now() - startedAt) / 1000);
	say(`done in ${totalS} s`);
	if (!args["no-write"]) {
		writeScaleResult({ settings, creations, windows, totalS });
		say("wrote bench/results/scale.json");
	}
	clearTimeout(hardStop);
}

main()
	.then(async () => {
		await harness.stop();
		process.exit(0);
	})
	.catch((error: unknown) =>
		fail(error instanceof Error ? (error.stack ?? error.message) : String(error)),
	);
