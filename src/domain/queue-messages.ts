/**
 * What each queue carries. Producers (services, Durable Objects, cron) and consumers (src/queues)
 * share these shapes; the Worker's `Env` types each queue binding with its message, so every
 * `send` is checked. Pure: types and the validators a consumer runs on an untrusted body.
 */
import { isId } from "./ids";

const DATE = /^\d{4}-\d{2}-\d{2}$/;

// ── refunds ──────────────────────────────────────────────────────────────────────────────────

/** A refund to process, by id (its payment's object has the rest). */
export type RefundsMessage = { kind: "refund"; refund_id: string };

export function isRefundsMessage(body: unknown): body is RefundsMessage {
	const b = body as Partial<RefundsMessage> | null;
	return b?.kind === "refund" && typeof b.refund_id === "string" && isId("refund", b.refund_id);
}

// ── payouts ──────────────────────────────────────────────────────────────────────────────────

/** A payout to execute, by id. */
export type PayoutsMessage = { kind: "payout"; payout_id: string };

export function isPayoutsMessage(body: unknown): body is PayoutsMessage {
	const b = body as Partial<PayoutsMessage> | null;
	return b?.kind === "payout" && typeof b.payout_id === "string" && isId("payout", b.payout_id);
}

/** One page of a day's payout run: merchants of `interval` after `after` (by id). */
export interface PayoutSchedulePageMessage {
	kind: "schedule_page";
	/** The UTC day being paid out, YYYY-MM-DD. */
	date: string;
	interval: "daily" | "weekly";
	after: string | null;
}

export function isPayoutSchedulePageMessage(body: unknown): body is PayoutSchedulePageMessage {
	const b = body as Partial<PayoutSchedulePageMessage> | null;
	return (
		b?.kind === "schedule_page" &&
		typeof b.date === "string" &&
		DATE.test(b.date) &&
		(b.interval === "daily" || b.interval === "weekly") &&
		(b.after === null || typeof b.after === "string")
	);
}

/** The payouts queue carries payouts to execute and the payout schedule's pages. */
export type PayoutsQueueMessage = PayoutsMessage | PayoutSchedulePageMessage;

// ── conversions ──────────────────────────────────────────────────────────────────────────────

/** A succeeded crypto payment to convert into its merchant's settlement currency. */
export type ConversionsMessage = { kind: "payment_succeeded"; payment_id: string };

export function parseConversionsMessage(body: unknown): ConversionsMessage | null {
	if (typeof body !== "object" || body === null) return null;
	const { kind, payment_id } = body as Record<string, unknown>;
	return kind === "payment_succeeded" && typeof payment_id === "string"
		? { kind, payment_id }
		: null;
}

// ── reports ──────────────────────────────────────────────────────────────────────────────────

export type ReportsMessage =
	| { kind: "build"; report_id: string }
	| { kind: "daily"; merchant_id: string; livemode: boolean; date: string };

export function parseReportsMessage(body: unknown): ReportsMessage | null {
	if (typeof body !== "object" || body === null) return null;
	const b = body as Record<string, unknown>;
	if (b.kind === "build" && typeof b.report_id === "string")
		return { kind: "build", report_id: b.report_id };
	if (
		b.kind === "daily" &&
		typeof b.merchant_id === "string" &&
		typeof b.livemode === "boolean" &&
		typeof b.date === "string" &&
		DATE.test(b.date)
	)
		return { kind: "daily", merchant_id: b.merchant_id, livemode: b.livemode, date: b.date };
	return null;
}

// ── webhooks ─────────────────────────────────────────────────────────────────────────────────

/** Fan-out: one event, to every matching endpoint (sent by src/services/events.ts). */
export interface WebhookEventMessage {
	kind: "event";
	event_id: string;
}

/** One event to one endpoint. `redelivery_id` is absent for the event's own delivery. */
export interface WebhookDeliveryMessage {
	kind: "delivery";
	event_id: string;
	endpoint_id: string;
	redelivery_id?: string;
}

export type WebhookQueueMessage = WebhookEventMessage | WebhookDeliveryMessage;

export function parseWebhookMessage(body: unknown): WebhookQueueMessage | null {
	if (typeof body !== "object" || body === null) return null;
	const m = body as Record<string, unknown>;
	if (m.kind === "event" && typeof m.event_id === "string") {
		return { kind: "event", event_id: m.event_id };
	}
	if (
		m.kind === "delivery" &&
		typeof m.event_id === "string" &&
		typeof m.endpoint_id === "string"
	) {
		return {
			kind: "delivery",
			event_id: m.event_id,
			endpoint_id: m.endpoint_id,
			...(typeof m.redelivery_id === "string" ? { redelivery_id: m.redelivery_id } : {}),
		};
	}
	return null;
}
