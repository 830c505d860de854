import { parseArgs } from "node:util";
import type { RpcCallEvent } from "../sandbox/solana/simulator.js";
import { fundedPayer, sendOverRpc, signTransactionRequest } from "./lib/payer.js";
import { PipelineHarness, pollUntil } from "./lib/pipeline-stack.js";
import { writeResult } from "./lib/report.js";
import { pool, summarize } from "./lib/stats.js";

// `npm run bench:pipeline`: the whole payment pipeline of the real gateway (wrangler dev: workerd,
// D1, one Durable Object per payment, local Queues) against the sandbox's Solana network. N
// payments are created through the API; concurrent payers, each a funded keypair, ask for the
// transaction request, sign it and send it over JSON-RPC; the gateway confirms each payment, the
// conversions queue converts it into the merchant's dollars, and every event reaches a verifying,
// deduplicating webhook receiver in this process. Writes bench/results/pipeline.json.

const { values: args } = parseArgs({
	options: {
		payments: { type: "string", default: "200" },
		concurrency: { type: "string", default: "20" },
		"slot-ms": { type: "string", default: "400" },
		"hard-stop-minutes": { type: "string", default: "5" },
		"no-write": { type: "boolean", default: false },
	},
	strict: true,
});

function int(
	name: "payments" | "concurrency" | "slot-ms" | "hard-stop-minutes",
	min: number,
	max: number,
) {
	const value = Number(args[name]);
	if (!Number.isInteger(value) || value < min || value > max) {
		process.stderr.write(`[pipeline] --${name} must be an integer from ${min} to ${max}\n`);
		process.exit(2);
	}
	return value;
}

const settings = {
	payments: int("payments", 1, 2000),
	concurrency: int("concurrency", 1, 100),
	slotMs: int("slot-ms", 50, 2000),
	hardStopMinutes: int("hard-stop-minutes", 1, 30),
};
/** Per payment, from its send to its conversion.completed webhook. */
const PAYMENT_DEADLINE_MS = 120_000;
/** The payers' own calls; everything else the sandbox served was the gateway's. */
const PAYER_METHODS = new Set(["sendTransaction"]);

function say(line: string): void {
	process.stdout.write(`[pipeline] ${line}\n`);
}

const rpcCalls: RpcCallEvent[] = [];
const harness = new PipelineHarness({
	name: "bench-pipeline",
	solana: { slotMs: settings.slotMs, confirmedLag: 1, finalizedLag: 32 },
	say,
	onSandbox: (sandbox) => sandbox.solana.events.on("rpc", (e: RpcCallEvent) => rpcCalls.push(e)),
	onGatewayExit: (message) => void fail(message),
});

async function fail(message: string): Promise<never> {
	process.stderr.write(`[pipeline] ${message}\n${harness.stack.logTail()}\n`);
	await harness.stop();
	process.exit(1);
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
	process.on(signal, () => void fail(`${signal} received`));
}

interface Sample {
	payment: string;
	sentAt: number;
	succeededMs: number;
	convertedMs: number;
}

async function payOne(index: number): Promise<Sample> {
	const payment = await harness.createPayment();
	const payer = await fundedPayer(harness.stack.sandbox, BigInt(payment.solana.amount));
	const { transaction } = await harness.api<{ transaction: string }>(
		"POST",
		`/solana-pay/${payment.id}`,
		{ account: payer.address },
		// Each payer's wallet calls from its own address, as on the internet (the transaction
		// request endpoint is rate-limited per client IP).
		{ "cf-connecting-ip": `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}` },
	);
	const wire = await signTransactionRequest(payer, transaction);
	await sendOverRpc(harness.stack.sandbox.urls.solana, wire);
	const sentAt = Date.now();
	const deadline = sentAt + PAYMENT_DEADLINE_MS;
	const { sink } = harness;
	await sink.until(
		() => sink.find(payment.id, "conversion.completed") !== undefined,
		deadline,
		`${payment.id} conversion.completed`,
	);
	await sink.until(
		() => sink.find(payment.id, "payment.succeeded") !== undefined,
		deadline,
		`${payment.id} payment.succeeded`,
	);
	return {
		payment: payment.id,
		sentAt,
		succeededMs: (sink.find(payment.id, "payment.succeeded")?.firstAt ?? 0) - sentAt,
		convertedMs: (sink.find(payment.id, "conversion.completed")?.firstAt ?? 0) - sentAt,
	};
}

async function main(): Promise<void> {
	const hardStop = setTimeout(
		() => void fail(`hard stop: still running after ${settings.hardStopMinutes} minutes`),
		settings.hardStopMinutes * 60_000,
	);
	hardStop.unref();
	const startedAt = Date.now();
	await harness.start();
	say(`stack ready in ${((Date.now() - startedAt) / 1000).toFixed(1)} s; warm-up payment`);
	await payOne(0);

	const from = Date.now();
	const rpcFrom = rpcCalls.length;
	const requestsFrom = harness.sink.requests;
	say(`${settings.payments} payments, ${settings.concurrency} payers at a time`);
	const samples = await pool([...Array(settings.payments).keys()], settings.concurrency, (i) =>
		payOne(i + 1),
	);
	const lastReceipt = Math.max(...samples.map((s) => s.sentAt + s.convertedMs));
	const elapsedMs = lastReceipt - from;

	// Every event the API lists reached the receiver (after dedup), nothing else did.
	const events = await pollUntil("every listed event delivered", Date.now() + 60_000, async () => {
		const listed = await harness.listEvents();
		return listed.every((e) => harness.sink.events.has(e.id)) ? listed : undefined;
	});
	const listedIds = new Set(events.map((e) => e.id));
	const unlisted = [...harness.sink.events.keys()].filter((id) => !listedIds.has(id)).length;

	const window = rpcCalls.slice(rpcFrom).filter((c) => !PAYER_METHODS.has(c.method));
	const byMethod: Record<string, number> = {};
	for (const c of window) byMethod[c.method] = (byMethod[c.method] ?? 0) + 1;
	const perPayment = (n: number) => Math.round((n / settings.payments) * 100) / 100;
	const succeeded = summarize(samples.map((s) => s.succeededMs));
	const converted = summarize(samples.map((s) => s.convertedMs));
	const perMinute = Math.round((settings.payments / elapsedMs) * 60_000 * 10) / 10;
	const duplicates = harness.sink.duplicateRequests();
	const requests = harness.sink.requests - requestsFrom;

	const result = {
		payments: settings.payments,
		concurrency: settings.concurrency,
		slot_ms: settings.slotMs,
		elapsed_s: Math.round(elapsedMs / 100) / 10,
		payments_per_minute: perMinute,
		send_to_payment_succeeded_webhook_ms: succeeded,
		send_to_conversion_completed_webhook_ms: converted,
		rpc_calls_per_payment: perPayment(window.length),
		rpc_calls_per_payment_by_method: Object.fromEntries(
			Object.entries(byMethod).map(([m, n]) => [m, perPayment(n)]),
		),
		webhook_requests: requests,
		events_listed: events.length,
		events_delivered_after_dedup: harness.sink.events.size,
		events_delivered_not_listed: unlisted,
		duplicate_requests_absorbed: duplicates,
		signatures_rejected: harness.sink.rejected,
	};
	say(JSON.stringify(result, null, 2));

	if (!args["no-write"]) {
		const ms = (v: number) => `${Math.round(v)} ms`;
		writeResult({
			name: "pipeline",
			title: `Payment pipeline: ${settings.payments} USDC payments from API to converted and webhooked, ${settings.concurrency} concurrent payers (wrangler dev + sandbox)`,
			targets: [
				{
					name: "every event delivered once after dedup",
					met: events.length === harness.sink.events.size && unlisted === 0,
					detail: `${harness.sink.events.size} of ${events.length} listed events delivered, ${duplicates} duplicate requests absorbed, ${harness.sink.rejected} bad signatures`,
				},
				{
					name: "bounded run (< 5 min)",
					met: Date.now() - startedAt < 5 * 60_000,
					detail: `${Math.round((Date.now() - startedAt) / 1000)} s including start-up`,
				},
			],
			tables: [
				{
					title: "Pipeline throughput and latency",
					columns: [
						"payments",
						"payers",
						"payments/min",
						"to payment.succeeded (median / p95)",
						"to conversion.completed (median / p95)",
						"RPC calls/payment",
						"duplicates",
					],
					rows: [
						[
							settings.payments,
							settings.concurrency,
							perMinute,
							`${ms(succeeded.median)} / ${ms(succeeded.p95)}`,
							`${ms(converted.median)} / ${ms(converted.p95)}`,
							perPayment(window.length),
							duplicates,
						],
					],
					notes: [
						"Latency: from the payer's sendTransaction returning to the first receipt of the webhook, verified (Standard Webhooks) and deduplicated by webhook-id.",
						`RPC calls per payment: every call the sandbox served to the gateway during the run ÷ payments (by method: ${Object.entries(
							result.rpc_calls_per_payment_by_method,
						)
							.map(([m, n]) => `${m} ${n}`)
							.join(", ")}).`,
						`Slots every ${settings.slotMs} ms, confirmed one slot later; gateway, sandbox, payers and receiver share one machine.`,
					],
				},
			],
			data: { ...result, samples },
		});
		say("wrote bench/results/pipeline.json");
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
