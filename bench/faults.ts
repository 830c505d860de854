import { parseArgs } from "node:util";
import {
	doubleConfirmation,
	duplicateMessages,
	gatewayKilled,
	receiverDown,
	rpcErrors,
	rpcOutage,
	type ScenarioResult,
	settledPayments,
} from "./lib/fault-scenarios.js";
import { PipelineHarness } from "./lib/pipeline-stack.js";
import { writeResult } from "./lib/report.js";

// `npm run bench:faults`: scripted faults against the real gateway (wrangler dev + sandbox), one
// scenario after another on one stack: an RPC outage during confirmation, RPC errors, the webhook
// receiver down, wrangler dev killed mid-flow and restarted on its state, duplicate webhook and
// conversion messages, and one payment confirmed twice concurrently. Each ends by checking, through
// the API and the local D1, that every payment reached its final state, every event reached the
// receiver exactly once after dedup, nothing was posted twice and the ledger balances. Writes
// bench/results/faults.json.

const { values: args } = parseArgs({
	options: {
		only: { type: "string" },
		"outage-s": { type: "string", default: "30" },
		"hard-stop-minutes": { type: "string", default: "12" },
		"log-file": { type: "string" },
		"no-write": { type: "boolean", default: false },
	},
	strict: true,
});
const only = args.only ? new Set(args.only.split(",")) : null;
const outageMs = Number(args["outage-s"]) * 1000;
const hardStopMinutes = Number(args["hard-stop-minutes"]);
if (
	!(outageMs >= 1000 && outageMs <= 120_000) ||
	!(hardStopMinutes >= 1 && hardStopMinutes <= 30)
) {
	process.stderr.write("[faults] --outage-s must be 1–120 and --hard-stop-minutes 1–30\n");
	process.exit(2);
}
/** Production's cron runs every minute; wrangler dev never fires it, so the bench does. */
const CRON_EVERY_MS = 20_000;

function say(line: string): void {
	process.stdout.write(`[faults] ${line}\n`);
}

const harness = new PipelineHarness({
	name: "bench-faults",
	solana: { slotMs: 400, confirmedLag: 1, finalizedLag: 32 },
	...(args["log-file"] ? { logFile: args["log-file"] } : {}),
	say,
	onGatewayExit: (message) => void fail(message),
});

async function fail(message: string): Promise<never> {
	process.stderr.write(`[faults] ${message}\n${harness.stack.logTail()}\n`);
	await harness.stop();
	process.exit(1);
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
	process.on(signal, () => void fail(`${signal} received`));
}

function summary(r: ScenarioResult): string {
	return `${r.key}. ${r.name}: ${r.survived ? "SURVIVED" : "NOT SURVIVED"} — payments ${r.succeeded}/${r.payments} succeeded, ${r.converted} converted, ${r.projected} projected; events ${r.events.delivered}/${r.events.expected} delivered, ${r.events.duplicate_requests} duplicate requests absorbed, ${r.events.duplicates_after_dedup} duplicates after dedup; ledger ${r.ledger.imbalanced_transfers} imbalanced transfers, ${r.ledger.payments_with_wrong_transfers} payments with wrong transfers (${r.duration_s} s)`;
}

async function main(): Promise<void> {
	const startedAt = Date.now();
	const hardStop = setTimeout(
		() => void fail(`hard stop: still running after ${hardStopMinutes} minutes`),
		hardStopMinutes * 60_000,
	);
	hardStop.unref();
	await harness.start();
	say(`stack ready in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
	const cron = setInterval(() => void harness.stack.runCron().catch(() => {}), CRON_EVERY_MS);
	cron.unref();

	const results: ScenarioResult[] = [];
	const run = async (key: string, scenario: () => Promise<ScenarioResult>) => {
		if (only && !only.has(key)) return;
		say(`scenario ${key} …`);
		const result = await scenario();
		results.push(result);
		say(summary(result));
	};
	let settledIds: string[] = [];
	await run("a", () => rpcOutage(harness, outageMs));
	await run("b", () => rpcErrors(harness));
	await run("c", () => receiverDown(harness));
	await run("d", () => gatewayKilled(harness));
	await run("f", () => doubleConfirmation(harness));
	// Duplicates last, on payments of the earlier scenarios: the cron only republishes events
	// older than 30 s.
	if (!only || only.has("e")) {
		// Payments paid once (not scenario f's, paid twice), already converted and delivered.
		settledIds = results
			.filter((r) => r.key === "a" || r.key === "b")
			.flatMap((r) => r.payment_ids)
			.slice(0, 6);
		// Run alone: payments of its own, old enough for the cron to republish their events.
		if (settledIds.length === 0) settledIds = await settledPayments(harness, 4);
	}
	await run("e", () => duplicateMessages(harness, settledIds));
	clearInterval(cron);
	const totalS = Math.round((Date.now() - startedAt) / 1000);
	say(`all scenarios done in ${totalS} s`);

	if (!args["no-write"] && !only) {
		writeResult({
			name: "faults",
			title:
				"Fault scenarios against the payment pipeline (wrangler dev + sandbox): nothing lost, nothing twice, ledger balanced",
			targets: [
				...results.map((r) => ({
					name: `${r.key}. ${r.name}`,
					met: r.survived,
					detail: summary(r),
				})),
				{ name: "bounded run (< 12 min)", met: totalS < 12 * 60, detail: `${totalS} s` },
			],
			tables: [
				{
					title: "Fault scenarios",
					columns: [
						"scenario",
						"result",
						"payments succeeded / converted",
						"events delivered / expected",
						"duplicate requests absorbed",
						"duplicates after dedup",
						"ledger imbalance",
						"time",
					],
					rows: results.map((r) => [
						`${r.key}. ${r.name}`,
						r.survived ? "survived" : "NOT survived",
						`${r.succeeded} / ${r.converted} of ${r.payments}`,
						`${r.events.delivered} / ${r.events.expected}`,
						r.events.duplicate_requests,
						r.events.duplicates_after_dedup,
						r.ledger.imbalanced_transfers +
							Object.values(r.ledger.totals).filter((t) => t !== "0").length,
						`${r.duration_s} s`,
					]),
					notes: [
						"Each scenario ends with: every payment succeeded and converted (GET /v1/payments/:id, GET /v1/conversions), its D1 projection succeeded, every event GET /v1/events lists delivered to the receiver exactly once after dedup by webhook-id (at most one payment.succeeded / conversion.completed per payment), one received, one settled and one conversion transfer per payment, and every transfer's postings summing to zero per currency (local D1).",
						"Ledger imbalance: transfers whose postings do not sum to zero plus currencies whose postings do not sum to zero.",
					],
				},
			],
			data: { total_s: totalS, outage_s: outageMs / 1000, scenarios: results },
		});
		say("wrote bench/results/faults.json");
	}
	clearTimeout(hardStop);
	if (results.some((r) => !r.survived)) process.exitCode = 1;
}

main()
	.then(async () => {
		await harness.stop();
		process.exit(process.exitCode ?? 0);
	})
	.catch((error: unknown) =>
		fail(error instanceof Error ? (error.stack ?? error.message) : String(error)),
	);
