import type { WebhookDeliveryMessage, WebhookEventMessage } from "../domain/queue-messages";
import { eventMatches } from "../domain/webhooks";
import { type Context, eventMissing, guarded, retryLater } from "./webhook-context";

/** Queues takes at most 100 messages per sendBatch. */
const SEND_BATCH_LIMIT = 100;

/** One delivery message per matching endpoint of each event, all sent with one sendBatch. */
export async function fanOut(
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
