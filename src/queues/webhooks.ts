import { and, desc, eq, sql } from "drizzle-orm";
import { createDb } from "../db/client";
import { events, webhookAttempts, webhookEndpoints } from "../db/schema";
import {
	checkWebhookUrl,
	DELIVERY_TIMEOUT_MS,
	eventMatches,
	failingTooLong,
	isStale,
	type LastAttempt,
	MAX_ATTEMPTS,
	outcomeOf,
	parseWebhookMessage,
	planDelivery,
	retryDelaySeconds,
	type StoredEvent,
	signatureHeader,
	type WebhookDeliveryMessage,
	type WebhookEventMessage,
	webhookBody,
	webhookHeaders,
} from "../domain/webhooks";
import type { Env } from "../env";
import { idTime, newId } from "../lib/ids";
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
	// Each message on its own: one slow receiver does not hold the others back.
	await Promise.all(batch.messages.map((message) => consumeOne(context, message)));
}

async function consumeOne(context: Context, message: Message<unknown>): Promise<void> {
	try {
		const body = parseWebhookMessage(message.body);
		if (!body) {
			await recordGiveUp(context.env, context.queue, message, "not a webhooks queue message");
			message.ack();
		} else if (body.kind === "event") {
			await fanOut(context, message, body);
		} else {
			await deliver(context, message, body);
		}
	} catch (error) {
		log("error", "webhooks message failed", {
			message: message.id,
			error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
		});
		message.retry({ delaySeconds: UNEXPECTED_RETRY_SECONDS });
	}
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

async function fanOut(
	context: Context,
	message: Message<unknown>,
	body: WebhookEventMessage,
): Promise<void> {
	const { env } = context;
	const { results } = await env.DB.prepare(
		`SELECT ev.type, we.id AS endpoint_id, we.enabled_events FROM events ev
		 LEFT JOIN webhook_endpoints we ON we.merchant_id = ev.merchant_id
		   AND we.livemode = ev.livemode AND we.disabled = 0 AND we.deleted IS NULL
		 WHERE ev.id = ?`,
	)
		.bind(body.event_id)
		.all<{ type: string; endpoint_id: string | null; enabled_events: string | null }>();
	if (results.length === 0) return eventMissing(context, message, body.event_id);
	const deliveries = results
		.filter((r) => r.endpoint_id !== null && r.enabled_events !== null)
		.filter((r) => eventMatches(JSON.parse(r.enabled_events as string) as string[], r.type))
		.map((r) => ({
			body: {
				kind: "delivery",
				event_id: body.event_id,
				endpoint_id: r.endpoint_id as string,
			} satisfies WebhookDeliveryMessage,
		}));
	if (deliveries.length > 0) {
		if (!env.WEBHOOKS_QUEUE) throw new Error("WEBHOOKS_QUEUE is not bound");
		// A repeated fan-out sends these again; each delivery's attempts are claimed once in D1.
		await env.WEBHOOKS_QUEUE.sendBatch(deliveries);
	}
	message.ack();
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
