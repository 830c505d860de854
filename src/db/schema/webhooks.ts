import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import type { EndpointDisabledReason } from "../../domain/webhooks";
import { WEBHOOK_ATTEMPT_STATUSES } from "../../domain/webhooks";
import { created, livemode } from "./columns";
import { merchants } from "./merchants";

/**
 * Where a merchant receives events. The signing secrets are stored only as envelopes
 * (src/lib/encryption.ts) bound to the endpoint's id; after a roll the previous secret keeps
 * signing until `previous_secret_expires_at`. A deleted endpoint keeps its row (its attempts
 * refer to it) but loses its secrets.
 */
export const webhookEndpoints = sqliteTable(
	"webhook_endpoints",
	{
		id: text("id").primaryKey(),
		merchantId: text("merchant_id")
			.notNull()
			.references(() => merchants.id),
		...livemode,
		url: text("url").notNull(),
		description: text("description"),
		enabledEvents: text("enabled_events", { mode: "json" }).$type<string[]>().notNull(),
		metadata: text("metadata", { mode: "json" }).$type<Record<string, string>>().notNull(),
		secret: text("secret").notNull(),
		previousSecret: text("previous_secret"),
		previousSecretExpiresAt: integer("previous_secret_expires_at"),
		disabled: integer("disabled", { mode: "boolean" }).notNull(),
		disabledReason: text("disabled_reason").$type<EndpointDisabledReason>(),
		/** Start of the current run of failed attempts; null once an attempt succeeds. */
		failingSince: integer("failing_since"),
		/** Counts changes: the sequence number of the endpoint's own events. */
		version: integer("version").notNull(),
		...created,
		updated: integer("updated").notNull(),
		deleted: integer("deleted"),
	},
	(t) => [index("webhook_endpoints_merchant_idx").on(t.merchantId, t.livemode, t.id)],
);

/**
 * Every delivery attempt, claimed (`pending`) before its request is sent and completed after.
 * One row per (endpoint, event, redelivery, attempt number): a duplicated queue message cannot
 * claim an attempt twice, so the log shows exactly the requests that were made.
 * `redelivery_id` is '' for the event's own delivery and `whr_…` for each redelivery.
 */
export const webhookAttempts = sqliteTable(
	"webhook_attempts",
	{
		id: text("id").primaryKey(),
		endpointId: text("endpoint_id").notNull(),
		eventId: text("event_id").notNull(),
		eventType: text("event_type").notNull(),
		merchantId: text("merchant_id").notNull(),
		...livemode,
		redeliveryId: text("redelivery_id").notNull().default(""),
		attempt: integer("attempt").notNull(),
		status: text("status", { enum: WEBHOOK_ATTEMPT_STATUSES }).notNull(),
		statusCode: integer("status_code"),
		error: text("error"),
		durationMs: integer("duration_ms"),
		/** When the next attempt is due, for a failed attempt that will be retried. */
		nextAttemptAt: integer("next_attempt_at"),
		...created,
	},
	(t) => [
		uniqueIndex("webhook_attempts_delivery_idx").on(
			t.endpointId,
			t.eventId,
			t.redeliveryId,
			t.attempt,
		),
		index("webhook_attempts_endpoint_idx").on(t.endpointId, t.id),
		// The dashboard's payment timeline: the attempts of a payment's events.
		index("webhook_attempts_event_idx").on(t.eventId, t.id),
		// The minute cron's sweep for retries whose queue message was lost (small: open retries).
		index("webhook_attempts_retry_idx")
			.on(t.nextAttemptAt)
			.where(sql`${t.status} = 'failed' AND ${t.nextAttemptAt} IS NOT NULL`),
		// …and for attempts whose consumer died between claiming and recording them.
		index("webhook_attempts_pending_idx").on(t.created).where(sql`${t.status} = 'pending'`),
	],
);
