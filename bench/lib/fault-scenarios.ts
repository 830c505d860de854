import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import {
	checkEvents,
	checkLedger,
	type EventCounts,
	eventsExactlyOnce,
	type LedgerCheck,
	ledgerBalanced,
	waitForFinalStates,
} from "./fault-checks.js";
import { fundedPayer, sendDirect, signTransactionRequest, signTransferRequest } from "./payer.js";
import { type ApiPayment, type PipelineHarness, pollUntil, SINK } from "./pipeline-stack.js";

// The scripted fault scenarios of `npm run bench:faults`, each against the running pipeline
// harness, each ending with the same checks (fault-checks.ts).

/** What a settlement watcher logs each time a scan fails and it backs off. */
export const SCAN_FAILED = "settlement scan failed";

export interface ScenarioResult {
	key: string;
	name: string;
	method: string;
	survived: boolean;
	payments: number;
	succeeded: number;
	converted: number;
	/** Payments whose D1 projection (the flushed outbox) shows them succeeded. */
	projected: number;
	events: EventCounts;
	ledger: LedgerCheck;
	duration_s: number;
	details: Record<string, unknown>;
	payment_ids: string[];
}

export interface Finish {
	expectedReceived?: number;
	deadlineMs?: number;
	details?: Record<string, unknown>;
}

/** The end of every scenario: final states, exactly-once delivery, projection and ledger. */
export async function finish(
	harness: PipelineHarness,
	meta: { key: string; name: string; method: string; startedAt: number },
	ids: string[],
	options: Finish = {},
): Promise<ScenarioResult> {
	const deadline = Date.now() + (options.deadlineMs ?? 150_000);
	const states = await waitForFinalStates(harness, ids, deadline);
	const events = await checkEvents(harness, ids, Math.max(deadline, Date.now() + 30_000));
	const ledger = await checkLedger(harness, ids, options.expectedReceived ?? 1);
	const rows = await harness.stack.queryD1<{ n: number }>(
		`SELECT COUNT(*) AS n FROM payments WHERE status = 'succeeded' AND id IN (${ids.map((id) => `'${id}'`).join(", ")})`,
	);
	const projected = rows[0]?.n ?? 0;
	return {
		...meta,
		survived:
			states.succeeded === ids.length &&
			states.converted === ids.length &&
			projected === ids.length &&
			eventsExactlyOnce(events) &&
			ledgerBalanced(ledger),
		payments: ids.length,
		succeeded: states.succeeded,
		converted: states.converted,
		projected,
		events,
		ledger,
		duration_s: Math.round((Date.now() - meta.startedAt) / 1000),
		details: options.details ?? {},
		payment_ids: ids,
	};
}

export async function createPayments(harness: PipelineHarness, n: number): Promise<ApiPayment[]> {
	return Promise.all(Array.from({ length: n }, () => harness.createPayment()));
}

/** A payer's wallet pays the transfer request (QR) through its own RPC provider. */
export async function payDirect(harness: PipelineHarness, payment: ApiPayment): Promise<string> {
	const sandbox = harness.stack.sandbox;
	const payer = await fundedPayer(sandbox, BigInt(payment.solana.amount));
	return sendDirect(sandbox, await signTransferRequest(sandbox, payer, payment));
}

export function logSize(harness: PipelineHarness): number {
	return readFileSync(harness.stack.logPath, "utf8").length;
}

/** Lines of the stack's log (wrangler's output) holding `text`, written since `from`. */
export function logLinesSince(harness: PipelineHarness, from: number, text: string): number {
	const log = readFileSync(harness.stack.logPath, "utf8").slice(from);
	return log.split("\n").filter((line) => line.includes(text)).length;
}

async function failedAttempts(harness: PipelineHarness): Promise<number> {
	const [row] = await harness.stack.queryD1<{ n: number }>(
		"SELECT COUNT(*) AS n FROM webhook_attempts WHERE status = 'failed'",
	);
	return row?.n ?? 0;
}

export async function rpcOutage(harness: PipelineHarness, outageMs = 30_000) {
	const meta = {
		key: "a",
		name: "Solana RPC outage during confirmation",
		method: `8 payments created, then the gateway's RPC answers every call with HTTP 503 for ${outageMs / 1000} s (sandbox outage); the payers pay during the outage through their own RPC`,
		startedAt: Date.now(),
	};
	const payments = await createPayments(harness, 8);
	const logFrom = logSize(harness);
	harness.stack.sandbox.solana.setFaults({ outage: true });
	try {
		await Promise.all(payments.map((p) => payDirect(harness, p)));
		await sleep(outageMs);
	} finally {
		harness.stack.sandbox.solana.clearFaults();
	}
	const during = await Promise.all(payments.map((p) => harness.getPayment(p.id)));
	const recoveredFrom = Date.now();
	const ids = payments.map((p) => p.id);
	const result = await finish(harness, meta, ids, {
		details: { succeeded_during_outage: during.filter((p) => p.status === "succeeded").length },
	});
	result.details.recovery_s = Math.round((Date.now() - recoveredFrom) / 1000);
	result.details.scans_failed_logged = logLinesSince(harness, logFrom, SCAN_FAILED);
	return result;
}

export async function rpcErrors(harness: PipelineHarness) {
	const meta = {
		key: "b",
		name: "RPC errors 20 % of the time",
		method:
			"12 payments created and paid while the gateway's RPC fails 20 % of its calls (HTTP 429 or -32005 node unhealthy, seeded)",
		startedAt: Date.now(),
	};
	const served = harness.stack.sandbox.solana.rpcStats().total;
	const logFrom = logSize(harness);
	harness.stack.sandbox.solana.setFaults({ errorRate: 0.2, seed: 20 });
	try {
		const payments = await createPayments(harness, 12);
		await Promise.all(payments.map((p) => payDirect(harness, p)));
		const result = await finish(
			harness,
			meta,
			payments.map((p) => p.id),
		);
		result.details = {
			rpc_calls_served: harness.stack.sandbox.solana.rpcStats().total - served,
			scans_failed_logged: logLinesSince(harness, logFrom, SCAN_FAILED),
		};
		return result;
	} finally {
		harness.stack.sandbox.solana.clearFaults();
	}
}

export async function receiverDown(harness: PipelineHarness) {
	const meta = {
		key: "c",
		name: "Webhook receiver down, then back",
		method:
			"10 payments created in two bursts 1 s apart while the receiver answers 503 for 3 s, then refuses connections (port closed) for 1.5 s; it comes back and the payments are paid",
		startedAt: Date.now(),
	};
	const failedBefore = await failedAttempts(harness);
	let answered503 = 0;
	harness.sink.detach();
	const stopCounting = harness.receiver.onReceive((hook) => {
		if (hook.sink === SINK) answered503 += 1;
	});
	harness.receiver.setDefault(SINK, { status: 503 });
	// An event's first attempt comes about 2 s after it (the queue's batch window, twice): the
	// first payments' land in the 503s, the second's on the closed port, and every retry (5 s
	// later) after the receiver is back.
	const phase = Date.now();
	const first = await createPayments(harness, 5);
	await sleep(Math.max(0, phase + 1_000 - Date.now()));
	const second = await createPayments(harness, 5);
	await sleep(Math.max(0, phase + 3_000 - Date.now()));
	stopCounting();
	await harness.closeReceiver();
	await sleep(Math.max(0, phase + 4_500 - Date.now()));
	await harness.reopenReceiver();
	const payments = [...first, ...second];
	await Promise.all(payments.map((p) => payDirect(harness, p)));
	const result = await finish(
		harness,
		meta,
		payments.map((p) => p.id),
	);
	result.details = {
		answered_503: answered503,
		failed_attempts: (await failedAttempts(harness)) - failedBefore,
	};
	result.survived &&= (result.details.failed_attempts as number) > 0;
	return result;
}

export async function gatewayKilled(harness: PipelineHarness) {
	const meta = {
		key: "d",
		name: "wrangler dev killed (SIGKILL) mid-flow, restarted on the same state",
		method:
			"12 payments paid in three waves; right after the last wave wrangler dev and workerd get SIGKILL (payments confirming, outboxes flushing, conversions and deliveries queued), then it restarts on the same port and persisted state",
		startedAt: Date.now(),
	};
	const payments = await createPayments(harness, 12);
	await Promise.all(payments.slice(0, 4).map((p) => payDirect(harness, p)));
	await sleep(1_500);
	await Promise.all(payments.slice(4, 8).map((p) => payDirect(harness, p)));
	await sleep(500);
	await Promise.all(payments.slice(8).map((p) => payDirect(harness, p)));
	const killedAt = Date.now();
	await harness.stack.killGateway();
	await sleep(3_000);
	await harness.stack.restartGateway();
	const downS = Math.round((Date.now() - killedAt) / 100) / 10;
	return finish(
		harness,
		meta,
		payments.map((p) => p.id),
		{
			deadlineMs: 180_000,
			details: { gateway_down_s: downS },
		},
	);
}

/** Paid, converted payments whose events are older than the cron's 30 s publishing grace. */
export async function settledPayments(harness: PipelineHarness, n: number): Promise<string[]> {
	const payments = await createPayments(harness, n);
	await Promise.all(payments.map((p) => payDirect(harness, p)));
	const ids = payments.map((p) => p.id);
	await waitForFinalStates(harness, ids, Date.now() + 60_000);
	await sleep(32_000);
	return ids;
}

export async function duplicateMessages(harness: PipelineHarness, ids: string[]) {
	const meta = {
		key: "e",
		name: "Duplicate webhook and conversion messages",
		method:
			"for payments already converted and delivered: every event redelivered (POST /v1/events/:id/redeliver: a second webhook message per endpoint), and every event marked unpublished as a crash between queue send and mark would leave it, so the cron's publishPendingEvents sends the webhook fan-out and the conversion message again",
		startedAt: Date.now(),
	};
	const before = await checkLedger(harness, ids);
	const [transfersBefore] = await harness.stack.queryD1<{ n: number }>(
		"SELECT COUNT(*) AS n FROM ledger_transfers",
	);
	const events = (await harness.listEvents()).filter((e) => {
		const o = e.data.object as { id?: string; payment?: string };
		return ids.includes(o.payment ?? o.id ?? "");
	});
	const copiesBefore = new Map(
		events.map((e) => [e.id, harness.sink.events.get(e.id)?.copies ?? 0]),
	);
	const logBefore = readFileSync(harness.stack.logPath, "utf8").length;
	for (const e of events) await harness.api("POST", `/v1/events/${e.id}/redeliver`, {});
	await harness.stack.queryD1(
		`UPDATE events SET published = NULL WHERE id IN (${events.map((e) => `'${e.id}'`).join(", ")})`,
	);
	await harness.stack.runCron();
	// Both duplicates are processed once the receiver has every second copy and the events are
	// published again.
	await pollUntil(
		"redeliveries received and events republished",
		Date.now() + 90_000,
		async () => {
			const copied = events.every(
				(e) => (harness.sink.events.get(e.id)?.copies ?? 0) > (copiesBefore.get(e.id) ?? 0),
			);
			const [row] = await harness.stack.queryD1<{ n: number }>(
				`SELECT COUNT(*) AS n FROM events WHERE published IS NULL AND id IN (${events.map((e) => `'${e.id}'`).join(", ")})`,
			);
			return copied && row?.n === 0 ? true : undefined;
		},
		2_000,
	);
	// The conversion messages sent again are consumed within the local queue's batch window; the
	// consumer logs each as skipped ("already converted as conv_…").
	const skippedIds = new Set<string>();
	await pollUntil("repeated conversion messages consumed", Date.now() + 30_000, async () => {
		const log = readFileSync(harness.stack.logPath, "utf8").slice(logBefore);
		for (const line of log.split("\n")) {
			if (!line.includes("already converted")) continue;
			const id = ids.find((p) => line.includes(p));
			if (id) skippedIds.add(id);
		}
		return skippedIds.size >= ids.length ? true : undefined;
	}).catch(() => undefined);
	const skipped = skippedIds.size;
	const [transfersAfter] = await harness.stack.queryD1<{ n: number }>(
		"SELECT COUNT(*) AS n FROM ledger_transfers",
	);
	const result = await finish(harness, meta, ids);
	result.details = {
		events_redelivered: events.length,
		events_republished: events.length,
		conversion_messages_skipped_as_already_converted: skipped,
		ledger_transfers_before: transfersBefore?.n ?? 0,
		ledger_transfers_after: transfersAfter?.n ?? 0,
		extra_conversions_before: before.extra_conversions,
	};
	result.survived &&=
		skipped >= ids.length &&
		transfersBefore?.n === transfersAfter?.n &&
		result.events.duplicate_requests >= events.length;
	return result;
}

export async function doubleConfirmation(harness: PipelineHarness) {
	const meta = {
		key: "f",
		name: "The same payment confirmed twice concurrently",
		method:
			"6 payments, each paid twice in the same slot by one payer (the transaction request's transaction and the QR transfer), while 8 transaction requests, 4 checkout views and 4 reads per payment race the settlement watcher's booking",
		startedAt: Date.now(),
	};
	const sandbox = harness.stack.sandbox;
	const payments = await createPayments(harness, 6);
	const requests = await Promise.all(
		payments.map(async (payment, i) => {
			const payer = await fundedPayer(sandbox, 2n * BigInt(payment.solana.amount));
			const ip = { "cf-connecting-ip": `10.200.0.${i + 1}` };
			const { transaction } = await harness.api<{ transaction: string }>(
				"POST",
				`/solana-pay/${payment.id}`,
				{ account: payer.address },
				ip,
			);
			return {
				payment,
				ip,
				viaRequest: await signTransactionRequest(payer, transaction),
				viaQr: await signTransferRequest(sandbox, payer, payment),
			};
		}),
	);
	let triggers = 0;
	await Promise.all(
		requests.map(async ({ payment, ip, viaRequest, viaQr }) => {
			await Promise.all([sendDirect(sandbox, viaRequest), sendDirect(sandbox, viaQr)]);
			const fire = (p: Promise<unknown>) =>
				p.then(
					() => (triggers += 1),
					() => (triggers += 1),
				);
			await Promise.all([
				...Array.from({ length: 8 }, () =>
					fire(
						harness.api(
							"POST",
							`/solana-pay/${payment.id}`,
							{ account: payment.solana.recipient },
							ip,
						),
					),
				),
				...Array.from({ length: 4 }, () =>
					fire(
						fetch(new URL(`/checkout/${payment.id}`, harness.stack.gatewayUrl), {
							headers: ip,
						}).then((r) => r.text()),
					),
				),
				...Array.from({ length: 4 }, () => fire(harness.getPayment(payment.id))),
			]);
		}),
	);
	const result = await finish(
		harness,
		meta,
		payments.map((p) => p.id),
		{ expectedReceived: 2 },
	);
	result.details = { concurrent_triggers: triggers, payments_paid_twice: payments.length };
	return result;
}
