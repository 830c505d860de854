import { and, eq, isNull } from "drizzle-orm";
import { createDb } from "../db/client";
import { checkCursors, idWindow, paginate } from "../db/pagination";
import { webhookAttempts, webhookEndpoints } from "../db/schema";
import { isId, newId } from "../domain/ids";
import type { Owner } from "../domain/owner";
import type { WebhookDeliveryMessage } from "../domain/queue-messages";
import { eventMatches } from "../domain/webhooks";
import type { Env } from "../env";
import { ApiError, notFound } from "../lib/errors";
import {
	loadWebhookEndpointRow,
	type PageQuery,
	type WebhookAttemptRow,
	type WebhookEndpointRow,
} from "./webhook-endpoints";

// What merchants see of deliveries (the attempts log) and what they can ask for (a redelivery).

export function toApiWebhookAttempt(row: WebhookAttemptRow) {
	return {
		id: row.id,
		object: "webhook_attempt" as const,
		livemode: row.livemode,
		endpoint: row.endpointId,
		event: row.eventId,
		event_type: row.eventType,
		redelivery: row.redeliveryId === "" ? null : row.redeliveryId,
		attempt: row.attempt,
		status: row.status,
		status_code: row.statusCode,
		error: row.error,
		duration_ms: row.durationMs,
		next_attempt_at: row.nextAttemptAt,
		created: row.created,
	};
}

/** An endpoint's attempts, newest first (optionally of one event), by the (endpoint, id) index. */
export async function listWebhookAttempts(
	d1: D1Database,
	owner: Owner,
	endpointId: string,
	query: PageQuery & { event?: string | undefined },
): Promise<{ data: WebhookAttemptRow[]; has_more: boolean }> {
	await loadWebhookEndpointRow(d1, owner, endpointId);
	checkCursors(query, "webhookAttempt", "webhook attempt");
	const conditions = [eq(webhookAttempts.endpointId, endpointId)];
	if (query.event) conditions.push(eq(webhookAttempts.eventId, query.event));
	return paginate(query, (window) => {
		const { bounds, orderBy } = idWindow(webhookAttempts.id, window);
		return createDb(d1)
			.select()
			.from(webhookAttempts)
			.where(and(...conditions, ...bounds))
			.orderBy(orderBy)
			.limit(window.take);
	});
}

/**
 * Sends an event again, through the queue, to one endpoint (whatever its event filter) or to
 * every enabled endpoint whose filter matches. Each redelivery is a new delivery with its own id,
 * attempt numbers and retry schedule; receivers see the same `webhook-id`.
 */
export async function redeliverEvent(
	env: Env,
	owner: Owner,
	eventId: string,
	endpointId: string | undefined,
) {
	const event = isId("event", eventId)
		? await env.DB.prepare(
				"SELECT id, type FROM events WHERE id = ? AND merchant_id = ? AND livemode = ?",
			)
				.bind(eventId, owner.merchantId, owner.livemode ? 1 : 0)
				.first<{ id: string; type: string }>()
		: null;
	if (!event) throw notFound("event", eventId);
	let targets: WebhookEndpointRow[];
	if (endpointId !== undefined) {
		const endpoint = await loadWebhookEndpointRow(env.DB, owner, endpointId, "endpoint");
		if (endpoint.disabled) {
			throw new ApiError(
				"resource_conflict",
				`Webhook endpoint '${endpointId}' is disabled; enable it first.`,
				"endpoint",
			);
		}
		targets = [endpoint];
	} else {
		const rows = await createDb(env.DB)
			.select()
			.from(webhookEndpoints)
			.where(
				and(
					eq(webhookEndpoints.merchantId, owner.merchantId),
					eq(webhookEndpoints.livemode, owner.livemode),
					isNull(webhookEndpoints.deleted),
					eq(webhookEndpoints.disabled, false),
				),
			);
		targets = rows.filter((row) => eventMatches(row.enabledEvents, event.type));
	}
	const now = Date.now();
	const redeliveryId = newId("webhookRedelivery", now);
	if (targets.length > 0) {
		if (!env.WEBHOOKS_QUEUE) {
			throw new ApiError("service_unavailable", "Webhook delivery is not configured.");
		}
		await env.WEBHOOKS_QUEUE.sendBatch(
			targets.map((endpoint) => ({
				body: {
					kind: "delivery",
					event_id: event.id,
					endpoint_id: endpoint.id,
					redelivery_id: redeliveryId,
				} satisfies WebhookDeliveryMessage,
			})),
		);
	}
	return {
		id: redeliveryId,
		object: "webhook_redelivery" as const,
		event: event.id,
		endpoints: targets.map((endpoint) => endpoint.id),
		created: Math.floor(now / 1000),
	};
}
