import { and, desc, eq, sql } from "drizzle-orm";
import { createDb } from "../db/client";
import { events, webhookAttempts, webhookEndpoints } from "../db/schema";
import { idTime, newId } from "../domain/ids";
import {
	parseWebhookMessage,
	type WebhookDeliveryMessage,
	type WebhookEventMessage,
	type WebhookQueueMessage,
} from "../domain/queue-messages";
import {
	checkWebhookUrl,
	DELIVERY_TIMEOUT_MS,
	eventMatches,
	failingTooLong,
	isStale,
	type LastAttempt,
	MAX_ATTEMPTS,
	outcomeOf,
	planDelivery,
	retryDelaySeconds,
	type StoredEvent,
	signatureHeader,
	webhookBody,
	webhookHeaders,
} from "../domain/webhooks";
import type { Env } from "../env";
import { log } from "../lib/log";
import {
	disableWebhookEndpoint,
	signingSecrets,
	type WebhookEndpointRow,
} from "../services/webhook-endpoints";
import { recordGiveUp } from "./index";

/**
 * The `webhooks` queue: `event` messages fan out to one `delivery` message per matching endpoint;
 * a `delivery` message POSTs the event to its endpoint on the retry schedule of
 * src/domain/webhooks.ts. The schedule is kept in D1 (the attempts of the delivery), not in the
 * message, so duplicated, retried and late messages all converge on the same attempts.
 */

export interface WebhookConsumerOptions {
	/** The clock that schedules attempts (tests move it instead of waiting). */
	now?: () => number;
	/** How long a receiver has to answer (default 15 s). */
	timeoutMs?: number;
}

/** A message that fails for an unexpected reason (D1 unreachable) comes back after this. */
const UNEXPECTED_RETRY_SECONDS = 30;
/** Queues takes at most 100 messages per sendBatch. */
const SEND_BATCH_LIMIT = 100;
/** An event not (yet) readable is looked for this many times before the message is given up. */
const MISSING_EVENT_ATTEMPTS = 5;

interface Context {
	env: Env;
	queue: string;
	now: () => number;
	timeoutMs: number;
}

export async function consumeWebhooks(
	batch: MessageBatch<unknown>,
	env: Env,
	_ctx: ExecutionContext,
	options: WebhookConsumerOptions = {},
): Promise<void> {
	const context: Context = {
		env,
		queue: batch.queue,
		now: options.now ?? Date.now,
		timeoutMs: options.timeoutMs ?? DELIVERY_TIMEOUT_MS,
	};
	const fanOuts: { message: Message<unknown>; body: WebhookEventMessage }[] = [];
	const deliveries: Promise<void>[] = [];
	for (const message of batch.messages) {
		const body = parseWebhookMessage(message.body);
		if (body?.kind === "event") fanOuts.push({ message, body });
		else deliveries.push(guarded(message, () => consumeOther(context, message, body)));
	}
	// Deliveries each on their own (one slow receiver holds no other back); the batch's events
	// fan out together, in one query and one send.
	await Promise.all([...deliveries, fanOut(context, fanOuts)]);
}

/** Runs one message's work; an unexpected failure (D1 unreachable) retries it later. */
async function guarded(message: Message<unknown>, work: () => Promise<void>): Promise<void> {
	try {
		await work();
	} catch (error) {
		retryLater(message, error);
	}
}

function retryLater(message: Message<unknown>, error: unknown): void {
	log("error", "webhooks message failed", {
		message: message.id,
		error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
	});
	message.retry({ delaySeconds: UNEXPECTED_RETRY_SECONDS });
}

async function consumeOther(
	context: Context,
	message: Message<unknown>,
	body: WebhookQueueMessage | null,
): Promise<void> {
	if (body?.kind === "delivery") return deliver(context, message, body);
	await recordGiveUp(context.env, context.queue, message, "not a webhooks queue message");
	message.ack();
}

/** The event row is written before it is published, so a missing one is a lagging read: wait. */
async function eventMissing(context: Context, message: Message<unknown>, eventId: string) {
	if (message.attempts >= MISSING_EVENT_ATTEMPTS) {
		await recordGiveUp(context.env, context.queue, message, `event ${eventId} not found`);
		message.ack();
	} else {
		message.retry({ delaySeconds: 10 });
	}
}

/** One delivery message per matching endpoint of each event, all sent with one sendBatch. */
async function fanOut(
	context: Context,
	items: { message: Message<unknown>; body: WebhookEventMessage }[],
): Promise<void> {
	if (items.length === 0) return;
	const { env } = context;
	// At most 100 ids: a batch holds at most 100 messages, and D1 binds at most 100 parameters.
	const ids = [...new Set(items.map((item) => item.body.event_id))];
	let rows: {
		event_id: string;
		type: string;
		endpoint_id: string | null;
		enabled_events: string | null;
	}[];
	try {
		({ results: rows } = await env.DB.prepare(
			`SELECT ev.id AS event_id, ev.type, we.id AS endpoint_id, we.enabled_events FROM events ev
			 LEFT JOIN webhook_endpoints we ON we.merchant_id = ev.merchant_id
			   AND we.livemode = ev.livemode AND we.disabled = 0 AND we.deleted IS NULL
			 WHERE ev.id IN (${ids.map(() => "?").join(", ")})`,
		)
			.bind(...ids)
			.all());
	} catch (error) {
		for (const { message } of items) retryLater(message, error);
		return;
	}
	const found = new Set(rows.map((r) => r.event_id));
	const deliveries = new Map<string, { body: WebhookDeliveryMessage }>();
	for (const r of rows) {
		if (r.endpoint_id === null || r.enabled_events === null) continue;
		if (!eventMatches(JSON.parse(r.enabled_events) as string[], r.type)) continue;
		const body: WebhookDeliveryMessage = {
			kind: "delivery",
			event_id: r.event_id,
			endpoint_id: r.endpoint_id,
		};
		deliveries.set(`${r.event_id} ${r.endpoint_id}`, { body });
	}
	const ready = items.filter((item) => found.has(item.body.event_id));
	try {
		const messages = [...deliveries.values()];
		if (messages.length > 0 && !env.WEBHOOKS_QUEUE) throw new Error("WEBHOOKS_QUEUE is not bound");
		// A repeated fan-out sends these again; each delivery's attempts are claimed once in D1.
		for (let i = 0; i < messages.length; i += SEND_BATCH_LIMIT) {
			await env.WEBHOOKS_QUEUE?.sendBatch(messages.slice(i, i + SEND_BATCH_LIMIT));
		}
		for (const { message } of ready) message.ack();
	} catch (error) {
		for (const { message } of ready) retryLater(message, error);
	}
	for (const { message, body } of items) {
		if (!found.has(body.event_id))
			await guarded(message, () => eventMissing(context, message, body.event_id));
	}
}

async function deliver(
	context: Context,
	message: Message<unknown>,
	body: WebhookDeliveryMessage,
): Promise<void> {
	const { env } = context;
	const db = createDb(env.DB);
	const redeliveryId = body.redelivery_id ?? "";
	const delivery = and(
		eq(webhookAttempts.endpointId, body.endpoint_id),
		eq(webhookAttempts.eventId, body.event_id),
		eq(webhookAttempts.redeliveryId, redeliveryId),
	);
	const [endpoints, eventRows, lastRows] = await db.batch([
		db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, body.endpoint_id)),
		db.select().from(events).where(eq(events.id, body.event_id)),
		db
			.select()
			.from(webhookAttempts)
			.where(delivery)
			.orderBy(desc(webhookAttempts.attempt))
			.limit(1),
	]);
	const endpoint = endpoints[0];
	const eventRow = eventRows[0];
	if (!eventRow) return eventMissing(context, message, body.event_id);
	if (
		!endpoint ||
		endpoint.deleted !== null ||
		endpoint.disabled ||
		endpoint.merchantId !== eventRow.merchantId ||
		endpoint.livemode !== eventRow.livemode ||
		// The event's own delivery follows the endpoint's current filter; a redelivery was asked for.
		(redeliveryId === "" && !eventMatches(endpoint.enabledEvents, eventRow.type))
	) {
		message.ack();
		return;
	}

	let last: LastAttempt | null = lastRows[0]
		? {
				attempt: lastRows[0].attempt,
				status: lastRows[0].status,
				startedMs: idTime(lastRows[0].id),
				durationMs: lastRows[0].durationMs,
			}
		: null;
	if (last && lastRows[0] && isStale(last, context.now())) {
		// Its consumer died between sending and recording: the attempt counts as failed.
		await db
			.update(webhookAttempts)
			.set({ status: "failed", error: "interrupted: no outcome was recorded" })
			.where(and(eq(webhookAttempts.id, lastRows[0].id), eq(webhookAttempts.status, "pending")));
		last = { ...last, status: "failed" };
		if (retryDelaySeconds(last.attempt) === null) {
			await giveUp(context, message, last.attempt, "interrupted");
			return;
		}
	}

	const step = planDelivery(last, context.now());
	if (step.action === "done") {
		message.ack();
		return;
	}
	if (step.action === "wait") {
		message.retry({ delaySeconds: step.delaySeconds });
		return;
	}

	const startedMs = context.now();
	const attemptId = newId("webhookAttempt", startedMs);
	const claimed = await db
		.insert(webhookAttempts)
		.values({
			id: attemptId,
			endpointId: endpoint.id,
			eventId: eventRow.id,
			eventType: eventRow.type,
			merchantId: endpoint.merchantId,
			livemode: endpoint.livemode,
			redeliveryId,
			attempt: step.attempt,
			status: "pending",
			created: Math.floor(startedMs / 1000),
		})
		.onConflictDoNothing()
		.returning({ id: webhookAttempts.id });
	if (claimed.length === 0) {
		// Another copy of this message holds this attempt and carries the delivery on.
		message.ack();
		return;
	}

	const result = await sendAttempt(context, endpoint, {
		id: eventRow.id,
		type: eventRow.type,
		livemode: eventRow.livemode,
		created: eventRow.created,
		data: eventRow.data,
		object_version: eventRow.objectVersion,
	});
	const outcome = result.status !== null ? outcomeOf(result.status) : "failed";
	const endMs = startedMs + result.durationMs;
	const attemptSec = Math.floor(startedMs / 1000);

	if (outcome === "succeeded") {
		await db.batch([
			db
				.update(webhookAttempts)
				.set({ status: "succeeded", statusCode: result.status, durationMs: result.durationMs })
				.where(eq(webhookAttempts.id, attemptId)),
			db
				.update(webhookEndpoints)
				.set({ failingSince: null })
				.where(and(eq(webhookEndpoints.id, endpoint.id), sql`failing_since IS NOT NULL`)),
		]);
		message.ack();
		return;
	}

	const next = outcome === "failed" && !result.permanent ? retryDelaySeconds(step.attempt) : null;
	await db
		.update(webhookAttempts)
		.set({
			status: "failed",
			statusCode: result.status,
			error: result.error,
			durationMs: result.durationMs,
			nextAttemptAt: next !== null ? Math.ceil(endMs / 1000 + next) : null,
		})
		.where(eq(webhookAttempts.id, attemptId));
	// The gateway's own failures (its keys) do not count towards disabling the endpoint.
	const failing = result.internal
		? []
		: await db
				.update(webhookEndpoints)
				.set({ failingSince: sql`COALESCE(failing_since, ${attemptSec})` })
				.where(eq(webhookEndpoints.id, endpoint.id))
				.returning({ failingSince: webhookEndpoints.failingSince });

	if (outcome === "gone" || result.permanent) {
		// 410: the receiver asks to be forgotten; a refused URL will never be sent to.
		await disableWebhookEndpoint(
			env,
			endpoint.id,
			outcome === "gone" ? "gone" : "url_refused",
			attemptSec,
		);
		message.ack();
		return;
	}
	if (failingTooLong(failing[0]?.failingSince ?? null, attemptSec)) {
		await disableWebhookEndpoint(env, endpoint.id, "failing", attemptSec);
		message.ack();
		return;
	}
	if (next === null) {
		await giveUp(context, message, step.attempt, result.error ?? `HTTP ${result.status}`);
		return;
	}
	const wait = planDelivery(
		{ attempt: step.attempt, status: "failed", startedMs, durationMs: result.durationMs },
		endMs,
	);
	if (wait.action === "wait") message.retry({ delaySeconds: wait.delaySeconds });
	else message.retry();
}

async function giveUp(context: Context, message: Message<unknown>, attempt: number, why: string) {
	await recordGiveUp(
		context.env,
		context.queue,
		message,
		`webhook delivery failed ${attempt} of ${MAX_ATTEMPTS} attempts; last: ${why}`,
	);
	message.ack();
}

interface AttemptResult {
	/** The receiver's HTTP status; null when no response came. */
	status: number | null;
	error: string | null;
	durationMs: number;
	/** Never worth retrying: the URL is refused. */
	permanent: boolean;
	/** The gateway failed before sending (not the receiver's fault). */
	internal?: boolean;
}

async function sendAttempt(
	context: Context,
	endpoint: WebhookEndpointRow,
	event: StoredEvent,
): Promise<AttemptResult> {
	const started = Date.now();
	const elapsed = () => Date.now() - started;
	const check = checkWebhookUrl(endpoint.url, endpoint.livemode);
	if (!check.ok) {
		return { status: null, error: `url refused: ${check.reason}`, durationMs: 0, permanent: true };
	}
	let secrets: string[];
	try {
		secrets = await signingSecrets(context.env, endpoint, Math.floor(context.now() / 1000));
	} catch (error) {
		// An operator's problem (ENCRYPTION_KEYS), not the receiver's: retried on the schedule.
		log("error", "webhook secret unavailable", { endpoint: endpoint.id, error: String(error) });
		return {
			status: null,
			error: "gateway error: signing secret unavailable",
			durationMs: 0,
			permanent: false,
			internal: true,
		};
	}
	const body = webhookBody(event);
	const timestamp = Math.floor(context.now() / 1000);
	const headers = webhookHeaders({
		eventId: event.id,
		timestamp,
		signature: await signatureHeader(secrets, event.id, timestamp, body),
		sequence: event.object_version,
	});
	try {
		const response = await fetch(endpoint.url, {
			method: "POST",
			headers,
			body,
			// A redirect is a failure: following it could lead anywhere the URL check refuses.
			redirect: "manual",
			signal: AbortSignal.timeout(context.timeoutMs),
		});
		await response.body?.cancel().catch(() => undefined);
		return { status: response.status, error: null, durationMs: elapsed(), permanent: false };
	} catch (error) {
		const timedOut = error instanceof Error && error.name === "TimeoutError";
		return {
			status: null,
			error: timedOut
				? `timeout: no response within ${context.timeoutMs} ms`
				: `connection failed: ${error instanceof Error ? error.message : String(error)}`.slice(
						0,
						500,
					),
			durationMs: elapsed(),
			permanent: false,
		};
	}
}
