import {
	type EventRow,
	eventsWithoutFirstAttempt,
	insertEventStatement,
	markEventsPublished,
	succeededPaymentsWithoutConversion,
	unpublishedEvents,
} from "../db/events";
import { overdueAttempts } from "../db/webhook-attempts";
import { lowestIdAt, newId } from "../domain/ids";
import type {
	ConversionsMessage,
	WebhookDeliveryMessage,
	WebhookEventMessage,
} from "../domain/queue-messages";
import { eventMatches, STALE_ATTEMPT_MS } from "../domain/webhooks";
import type { Env } from "../env";
import { log } from "../lib/log";

/**
 * Internal reactions to events, beside webhook delivery: a succeeded crypto payment is converted
 * into the merchant's settlement currency.
 */
function reactions(event: EventRow): { queue: "CONVERSIONS_QUEUE"; body: ConversionsMessage }[] {
	if (event.type === "payment.succeeded") {
		const payment = JSON.parse(event.data) as { solana?: unknown };
		if (payment.solana) {
			return [
				{
					queue: "CONVERSIONS_QUEUE",
					body: { kind: "payment_succeeded", payment_id: event.object_id },
				},
			];
		}
	}
	return [];
}

/**
 * Hands events to the webhooks queue and their reactions to theirs, then marks them published.
 * Consumers are idempotent, so a send that is repeated (a crash between send and mark) is
 * harmless; a send that fails leaves the events unpublished for the minute cron to retry.
 * Returns false when sending failed.
 */
export async function publishEvents(env: Env, events: EventRow[]): Promise<boolean> {
	if (events.length === 0) return true;
	try {
		if (env.WEBHOOKS_QUEUE) {
			await env.WEBHOOKS_QUEUE.sendBatch(
				events.map((e) => ({
					body: { kind: "event", event_id: e.id } satisfies WebhookEventMessage,
				})),
			);
		}
		const reacts = events.flatMap(reactions);
		if (reacts.length > 0 && env.CONVERSIONS_QUEUE) {
			await env.CONVERSIONS_QUEUE.sendBatch(reacts.map((r) => ({ body: r.body })));
		}
		const now = Math.floor(Date.now() / 1000);
		await markEventsPublished(
			env.DB,
			events.map((e) => e.id),
			now,
		);
		return true;
	} catch (err) {
		log("warn", "event publish failed; the cron retries", {
			events: events.map((e) => e.id),
			error: err instanceof Error ? err.message : String(err),
		});
		return false;
	}
}

/**
 * Records an event that no Durable Object owns (refunds, conversions, settings) and publishes it.
 * The row is written first: if publishing fails, the cron publishes it later, never losing it.
 */
export async function emitEvent(
	env: Env,
	event: Omit<EventRow, "id" | "created"> & { id?: string; created?: number },
): Promise<EventRow> {
	const now = Date.now();
	const row: EventRow = {
		...event,
		id: event.id ?? newId("event", now),
		created: event.created ?? Math.floor(now / 1000),
	};
	await insertEventStatement(env.DB, row).run();
	await publishEvents(env, [row]);
	return row;
}

/**
 * Publishes events a failed send left behind (older than `graceSeconds`), a bounded batch a run,
 * then hands the webhooks queue again any published event that an endpoint never got an attempt
 * of (see resendUnattemptedEvents). Returns how many unpublished events were published.
 */
export async function publishPendingEvents(
	env: Env,
	now: number,
	options: { graceSeconds?: number; limit?: number } = {},
): Promise<number> {
	const published = await publishUnpublished(env, now, options);
	for (const sweep of [resendUnattemptedEvents, resendOverdueDeliveries, resendLostConversions]) {
		await sweep(env, now).catch((err: unknown) => {
			log("warn", "event sweep failed; the next cron retries", {
				sweep: sweep.name,
				error: err instanceof Error ? err.message : String(err),
			});
		});
	}
	return published;
}

/**
 * A succeeded crypto payment of a merchant that converts, still without a conversion two minutes
 * after its event, may have lost its conversions message the same way. Each payment is looked at
 * in one one-minute slice of event ids (the minute cron sees it once), so a conversion that is
 * merely waiting for a rate gets at most one more message, never one a minute; the consumer
 * skips a payment already converted. Returns how many messages were sent.
 */
export async function resendLostConversions(env: Env, now: number): Promise<number> {
	if (!env.CONVERSIONS_QUEUE) return 0;
	const results = await succeededPaymentsWithoutConversion(
		env.DB,
		lowestIdAt("event", (now - UNATTEMPTED_AFTER_SECONDS - 60) * 1000),
		lowestIdAt("event", (now - UNATTEMPTED_AFTER_SECONDS) * 1000),
	);
	const messages = results.flatMap((r) => reactions({ ...r, livemode: r.livemode === 1 }));
	if (messages.length === 0) return 0;
	await env.CONVERSIONS_QUEUE.sendBatch(messages.map((m) => ({ body: m.body })));
	log("warn", "succeeded payments without a conversion sent to the conversions queue again", {
		payments: messages.map((m) => m.body.payment_id),
	});
	return messages.length;
}

/** A published event is looked at again once it is this old (its fan-out normally takes seconds)… */
export const UNATTEMPTED_AFTER_SECONDS = 120;
/** …and for this long: the sweep reads a bounded range of event ids, never the whole log. */
export const UNATTEMPTED_WINDOW_SECONDS = 3600;

/**
 * A published event whose messages were lost before any consumer took them (a queue that lost
 * them, a runtime killed between send and consume) would never be delivered: its row says
 * published. Every matching endpoint that existed, unchanged, when the event happened should
 * have at least one attempt for it; where none has after UNATTEMPTED_AFTER_SECONDS, the event
 * goes to the webhooks queue again. The consumers are idempotent (one claim per attempt number),
 * so an event whose messages were merely slow is delivered once all the same. Returns how many
 * events were sent again.
 */
export async function resendUnattemptedEvents(
	env: Env,
	now: number,
	options: { limit?: number } = {},
): Promise<number> {
	if (!env.WEBHOOKS_QUEUE) return 0;
	const results = await eventsWithoutFirstAttempt(
		env.DB,
		lowestIdAt("event", (now - UNATTEMPTED_WINDOW_SECONDS) * 1000),
		lowestIdAt("event", (now - UNATTEMPTED_AFTER_SECONDS) * 1000),
		options.limit ?? 200,
	);
	const ids = [
		...new Set(
			results
				.filter((r) => eventMatches(JSON.parse(r.enabled_events) as string[], r.type))
				.map((r) => r.id),
		),
	];
	if (ids.length === 0) return 0;
	await env.WEBHOOKS_QUEUE.sendBatch(
		ids.map((id) => ({ body: { kind: "event", event_id: id } satisfies WebhookEventMessage })),
	);
	log("warn", "published events without any delivery attempt sent again", { events: ids });
	return ids.length;
}

/** A retry is looked for this long after it was due (its message waits in the queue until then)… */
export const OVERDUE_AFTER_SECONDS = 300;
/**
 * …and for this long, like unattempted events: the sweep reads an hour of due retries from two
 * partial indexes each minute, never the whole attempts log.
 */
export const OVERDUE_WINDOW_SECONDS = 3600;

/**
 * A delivery whose next try lives only in a queue message (a failed attempt's retry, or a
 * message redelivered after its consumer died mid-request) stops for good if that message is
 * lost. Where the latest attempt of a delivery is a failed one due more than
 * OVERDUE_AFTER_SECONDS ago, or a pending one older than a request can take, and the endpoint
 * still takes deliveries, the delivery goes to the webhooks queue again. The consumer plans from
 * the latest attempt alone and claims each attempt number once, so a message that was merely late
 * makes no extra request. Returns how many deliveries were sent again.
 */
export async function resendOverdueDeliveries(
	env: Env,
	now: number,
	options: { limit?: number } = {},
): Promise<number> {
	if (!env.WEBHOOKS_QUEUE) return 0;
	const since = now - OVERDUE_WINDOW_SECONDS;
	const results = await overdueAttempts(env.DB, {
		dueFrom: since,
		dueBefore: now - OVERDUE_AFTER_SECONDS,
		claimedFrom: since,
		claimedBefore: now - Math.ceil(STALE_ATTEMPT_MS / 1000) - 60,
		limit: options.limit ?? 200,
	});
	if (results.length === 0) return 0;
	const messages = results.map((r) => ({
		body: {
			kind: "delivery",
			event_id: r.event_id,
			endpoint_id: r.endpoint_id,
			...(r.redelivery_id !== "" ? { redelivery_id: r.redelivery_id } : {}),
		} satisfies WebhookDeliveryMessage,
	}));
	await env.WEBHOOKS_QUEUE.sendBatch(messages);
	log("warn", "webhook deliveries overdue for their next attempt sent again", {
		deliveries: results.map((r) => `${r.event_id} ${r.endpoint_id} ${r.redelivery_id}`.trim()),
	});
	return messages.length;
}

async function publishUnpublished(
	env: Env,
	now: number,
	options: { graceSeconds?: number; limit?: number },
): Promise<number> {
	const results = await unpublishedEvents(
		env.DB,
		now - (options.graceSeconds ?? 30),
		options.limit ?? 200,
	);
	if (results.length === 0) return 0;
	const rows = results.map((r) => ({ ...r, livemode: r.livemode === 1 }));
	return (await publishEvents(env, rows)) ? rows.length : 0;
}
