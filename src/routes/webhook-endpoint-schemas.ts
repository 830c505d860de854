import { z } from "@hono/zod-openapi";
import { EVENT_TYPES, unknownEventTypes } from "../domain/event-types";
import {
	ENDPOINT_DISABLED_REASONS,
	EVENT_TYPE_PATTERN,
	ROLL_OVERLAP_DEFAULT_SECONDS,
	ROLL_OVERLAP_MAX_SECONDS,
} from "../domain/webhooks";
import { MetadataSchema } from "./schemas";

// The request and response shapes of the webhook endpoint operations (./webhook-endpoints.ts).

const UrlSchema = z.string().max(2048).openapi({
	example: "https://shop.example/webhooks/streampayments",
	description:
		"Where events are POSTed. Live mode: https to a public host. Test mode also allows http and loopback.",
});

const EnabledEventsSchema = z
	.array(
		z
			.string()
			.max(100)
			.regex(EVENT_TYPE_PATTERN, "must be an event type such as 'payment.succeeded', or '*'"),
	)
	.min(1)
	.max(100)
	.refine((types) => !types.includes("*") || types.length === 1, {
		message: "'*' stands alone: it already means every event type",
	})
	// An unknown type would never match, and the endpoint would wait in silence.
	.superRefine((types, ctx) => {
		const unknown = unknownEventTypes(types);
		if (unknown.length === 0) return;
		ctx.addIssue({
			code: "custom",
			message: `unknown event type ${unknown.map((t) => `'${t}'`).join(", ")}. Use '*' for every type, or any of: ${EVENT_TYPES.join(", ")}.`,
		});
	})
	.openapi({
		example: ["payment.succeeded", "payment.canceled"],
		description: `\`["*"]\` for all, or any of: ${EVENT_TYPES.map((t) => `\`${t}\``).join(", ")}.`,
	});

/** The body of POST /v1/webhook_endpoints; the dashboard's form is checked by it too. */
export const CreateWebhookEndpointBody = z
	.object({
		url: UrlSchema,
		enabled_events: EnabledEventsSchema,
		description: z.string().max(500).optional(),
		metadata: MetadataSchema.default({}),
	})
	.strict()
	.openapi("CreateWebhookEndpoint");

export const UpdateWebhookEndpointBody = z
	.object({
		url: UrlSchema.optional(),
		enabled_events: EnabledEventsSchema.optional(),
		description: z.string().max(500).nullable().optional(),
		metadata: MetadataSchema.optional().openapi({ description: "Replaces the metadata." }),
		disabled: z
			.boolean()
			.optional()
			.openapi({ description: "true stops deliveries; false enables the endpoint again." }),
	})
	.strict()
	.openapi("UpdateWebhookEndpoint");

export const RollSecretBody = z
	.object({
		expires_in: z
			.number()
			.int()
			.min(0)
			.max(ROLL_OVERLAP_MAX_SECONDS)
			.default(ROLL_OVERLAP_DEFAULT_SECONDS)
			.openapi({
				description:
					"Seconds the old secret keeps signing beside the new one (default 86400, at most 604800; 0 ends it now).",
			}),
	})
	.strict()
	.openapi("RollWebhookSecret");

export const RedeliverBody = z
	.object({
		endpoint: z.string().max(64).optional().openapi({
			description: "Only this endpoint (whatever its event filter); default: every matching one.",
		}),
	})
	.strict()
	.openapi("RedeliverEvent");

export const WebhookEndpointSchema = z
	.object({
		id: z.string().openapi({ example: "we_01JD4X7K3M9ZQ8W6V5T4S3R2P1N0M9" }),
		object: z.literal("webhook_endpoint"),
		livemode: z.boolean(),
		url: z.string(),
		enabled_events: z.array(z.string()),
		description: z.string().nullable(),
		metadata: z.record(z.string(), z.string()),
		disabled: z.boolean(),
		disabled_reason: z.enum(ENDPOINT_DISABLED_REASONS).nullable().openapi({
			description:
				"manual (you), gone (the endpoint answered 410), failing (every attempt failed for 3 days), url_refused.",
		}),
		failing_since: z.number().int().nullable().openapi({
			description: "Start of the current run of failed attempts; null once one succeeds.",
		}),
		previous_secret_expires_at: z.number().int().nullable().openapi({
			description: "After a roll: until when the previous secret also signs.",
		}),
		created: z.number().int(),
		updated: z.number().int(),
		secret: z.string().optional().openapi({
			description: "The signing secret (whsec_…): only in the create and roll_secret responses.",
			example: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		}),
	})
	.openapi("WebhookEndpoint");

export const WebhookAttemptSchema = z
	.object({
		id: z.string().openapi({ example: "wha_01JD4X7K3M9ZQ8W6V5T4S3R2P1N0M9" }),
		object: z.literal("webhook_attempt"),
		livemode: z.boolean(),
		endpoint: z.string(),
		event: z.string(),
		event_type: z.string(),
		redelivery: z.string().nullable().openapi({ description: "whr_… for a redelivery." }),
		attempt: z.number().int().openapi({ description: "1 to 10 within one delivery." }),
		status: z.enum(["pending", "succeeded", "failed"]),
		status_code: z.number().int().nullable(),
		error: z.string().nullable(),
		duration_ms: z.number().int().nullable(),
		next_attempt_at: z.number().int().nullable(),
		created: z.number().int(),
	})
	.openapi("WebhookAttempt");

export const RedeliverySchema = z
	.object({
		id: z.string().openapi({ example: "whr_01JD4X7K3M9ZQ8W6V5T4S3R2P1N0M9" }),
		object: z.literal("webhook_redelivery"),
		event: z.string(),
		endpoints: z.array(z.string()).openapi({ description: "The endpoints it is queued for." }),
		created: z.number().int(),
	})
	.openapi("WebhookRedelivery");

export const DeletedSchema = z
	.object({ id: z.string(), object: z.literal("webhook_endpoint"), deleted: z.literal(true) })
	.openapi("DeletedWebhookEndpoint");

/** The shapes these operations answer with, for their tests and clients. */
export type WebhookEndpointResponse = z.infer<typeof WebhookEndpointSchema>;
export type DeletedResponse = z.infer<typeof DeletedSchema>;
export type WebhookAttemptResponse = z.infer<typeof WebhookAttemptSchema>;
export type RedeliveryResponse = z.infer<typeof RedeliverySchema>;
