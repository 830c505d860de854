import { and, desc, eq, sql } from "drizzle-orm";
import { createDb } from "../db/client";
import { events, webhookAttempts, webhookEndpoints } from "../db/schema";
import { idTime, newId } from "../domain/ids";
import type { WebhookDeliveryMessage } from "../domain/queue-messages";
import {
	checkWebhookUrl,
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
import { log } from "../lib/log";
import {
	disableWebhookEndpoint,
	signingSecrets,
	type WebhookEndpointRow,
} from "../services/webhook-endpoints";
import { recordGiveUp } from "./index";
import { type Context, eventMissing } from "./webhook-context";

/** One attempt of a delivery: claimed in D1, sent, its outcome recorded, the next one scheduled. */
export async function deliver(
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
