import type { ApiEvent, PipelineHarness } from "./pipeline-stack.js";
import { pollUntil } from "./pipeline-stack.js";

// What every fault scenario must end with: each payment in its final state (read through the
// API), every event the API lists delivered to the receiver exactly once after dedup by
// webhook-id, nothing posted twice, and a ledger whose postings sum to zero per transfer and
// currency (read from the local D1 file through `wrangler d1 execute --local`).

export interface EventCounts {
	/** Events of the scenario's payments that GET /v1/events lists. */
	expected: number;
	/** Of those, delivered to the receiver (after dedup by webhook-id). */
	delivered: number;
	/** Extra copies of one webhook-id that dedup absorbed (retries, redeliveries). */
	duplicate_requests: number;
	/** Distinct events of one kind for one payment that must happen once (two payment.succeeded). */
	duplicates_after_dedup: number;
	/** Delivered ids the API does not list (should never happen). */
	unknown_delivered: number;
}

export interface LedgerCheck {
	/** Transfers whose postings do not sum to zero in some currency. */
	imbalanced_transfers: number;
	/** Per currency, the sum of every posting (0 when balanced). */
	totals: Record<string, string>;
	/** Payments of the scenario with other than one received, one settled, one conversion transfer. */
	payments_with_wrong_transfers: number;
	/** Conversions rows beyond one per payment. */
	extra_conversions: number;
	/**
	 * Payment holding accounts (`{mode}:payment:{id}:{currency}`) whose postings sum below zero:
	 * a payment's holding account can only hold, so this must be empty. Any payment's, not only
	 * the scenario's.
	 */
	negative_holding_accounts: { account: string; total: string }[];
}

/** Event types that happen at most once per payment. */
const ONCE_PER_PAYMENT = new Set([
	"payment.created",
	"payment.succeeded",
	"conversion.completed",
	"conversion.failed",
]);

function paymentOf(event: ApiEvent): string | null {
	const object = event.data.object as { id?: string; object?: string; payment?: string | null };
	return object.object === "payment" ? (object.id ?? null) : (object.payment ?? null);
}

/** Polls until every payment has a completed conversion, through the API. */
export async function waitForFinalStates(
	harness: PipelineHarness,
	paymentIds: string[],
	deadline: number,
): Promise<{ succeeded: number; converted: number }> {
	const pending = new Set(paymentIds);
	let succeeded = 0;
	let converted = 0;
	await pollUntil(
		`${paymentIds.length} payments succeeded and converted`,
		deadline,
		async () => {
			for (const id of [...pending]) {
				const payment = await harness.getPayment(id);
				if (payment.status !== "succeeded") continue;
				const conversions = await harness.api<{ data: { status: string }[] }>(
					"GET",
					`/v1/conversions?payment=${id}`,
				);
				if (conversions.data.some((c) => c.status === "completed")) pending.delete(id);
			}
			return pending.size === 0 ? true : undefined;
		},
		2_000,
	).catch(() => undefined);
	for (const id of paymentIds) {
		const payment = await harness.getPayment(id);
		if (payment.status === "succeeded") succeeded += 1;
	}
	converted = paymentIds.length - pending.size;
	return { succeeded, converted };
}

/**
 * Waits (bounded) until every listed event of the given payments has been delivered, then counts.
 * Deliveries are retried on the gateway's schedule, so this waits for them, not for luck.
 */
export async function checkEvents(
	harness: PipelineHarness,
	paymentIds: string[],
	deadline: number,
): Promise<EventCounts> {
	const mine = new Set(paymentIds);
	let listed: ApiEvent[] = [];
	await pollUntil(
		"every event delivered",
		deadline,
		async () => {
			listed = (await harness.listEvents()).filter((e) => {
				const payment = paymentOf(e);
				return payment !== null && mine.has(payment);
			});
			return listed.every((e) => harness.sink.events.has(e.id)) ? true : undefined;
		},
		2_000,
	).catch(() => undefined);
	const listedIds = new Set(listed.map((e) => e.id));
	const delivered = [...harness.sink.events.values()].filter(
		(e) => e.paymentId !== null && mine.has(e.paymentId),
	);
	const perKind = new Map<string, number>();
	for (const e of listed) {
		if (!ONCE_PER_PAYMENT.has(e.type)) continue;
		const key = `${paymentOf(e)} ${e.type}`;
		perKind.set(key, (perKind.get(key) ?? 0) + 1);
	}
	return {
		expected: listed.length,
		delivered: listed.filter((e) => harness.sink.events.has(e.id)).length,
		duplicate_requests: delivered.reduce((n, e) => n + e.copies - 1, 0),
		duplicates_after_dedup: [...perKind.values()].reduce((n, c) => n + c - 1, 0),
		unknown_delivered: delivered.filter((e) => !listedIds.has(e.id)).length,
	};
}

/** The ledger from the local D1 file: balance per transfer and currency, transfers per payment. */
export async function checkLedger(
	harness: PipelineHarness,
	paymentIds: string[],
	/** Receipts booked per payment: 2 when each was paid twice. */
	expectedReceived = 1,
): Promise<LedgerCheck> {
	const d1 = harness.stack;
	const [imbalanced] = await d1.queryD1<{ n: number }>(
		`SELECT COUNT(*) AS n FROM (SELECT transfer_id, currency, SUM(amount) AS s FROM ledger_postings
		 GROUP BY transfer_id, currency HAVING s != 0)`,
	);
	const totals = await d1.queryD1<{ currency: string; total: string }>(
		"SELECT currency, CAST(SUM(amount) AS TEXT) AS total FROM ledger_postings GROUP BY currency",
	);
	const transfers = await d1.queryD1<{ reference: string; id: string }>(
		"SELECT reference, id FROM ledger_transfers WHERE reference LIKE 'pay_%'",
	);
	const conversions = await d1.queryD1<{ payment_id: string; n: number }>(
		"SELECT payment_id, COUNT(*) AS n FROM conversions GROUP BY payment_id",
	);
	const negative = await d1.queryD1<{ account: string; total: string }>(
		`SELECT account, CAST(SUM(amount) AS TEXT) AS total FROM ledger_postings
		 WHERE account LIKE '%:payment:pay!_%' ESCAPE '!' GROUP BY account HAVING SUM(amount) < 0`,
	);
	const byPayment = new Map<string, string[]>();
	for (const t of transfers)
		byPayment.set(t.reference, [...(byPayment.get(t.reference) ?? []), t.id]);
	// A converted USDC payment: the funds received into its holding account, settled to the
	// merchant, converted to dollars. Anything else is a missing or a doubled posting.
	const wrong = paymentIds.filter((id) => {
		const ids = byPayment.get(id) ?? [];
		const settled = ids.filter((t) => t === `${id}:settled`).length;
		const converted = ids.filter((t) => t === `${id}:conversion`).length;
		const received = ids.filter((t) => t.endsWith(":received")).length;
		return settled !== 1 || converted !== 1 || received !== expectedReceived;
	}).length;
	return {
		imbalanced_transfers: imbalanced?.n ?? 0,
		totals: Object.fromEntries(totals.map((t) => [t.currency, t.total])),
		payments_with_wrong_transfers: wrong,
		extra_conversions: conversions.reduce((n, c) => n + Math.max(0, c.n - 1), 0),
		negative_holding_accounts: negative,
	};
}

export function ledgerBalanced(check: LedgerCheck): boolean {
	return (
		check.imbalanced_transfers === 0 &&
		Object.values(check.totals).every((t) => t === "0") &&
		check.payments_with_wrong_transfers === 0 &&
		check.extra_conversions === 0 &&
		check.negative_holding_accounts.length === 0
	);
}

export function eventsExactlyOnce(counts: EventCounts): boolean {
	return (
		counts.expected > 0 &&
		counts.delivered === counts.expected &&
		counts.duplicates_after_dedup === 0 &&
		counts.unknown_delivered === 0
	);
}
