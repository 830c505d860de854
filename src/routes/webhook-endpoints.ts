import { z } from "@hono/zod-openapi";
import { EVENT_TYPES, unknownEventTypes } from "../domain/event-types";
import {
	ENDPOINT_DISABLED_REASONS,
	EVENT_TYPE_PATTERN,
	ROLL_OVERLAP_DEFAULT_SECONDS,
	ROLL_OVERLAP_MAX_SECONDS,
	toApiWebhookEndpoint,
} from "../domain/webhooks";
import { auditApiChange } from "../services/audit";
import {
	listWebhookAttempts,
	redeliverEvent,
	toApiWebhookAttempt,
} from "../services/webhook-deliveries";
import {
	createWebhookEndpoint,
	deleteWebhookEndpoint,
	listWebhookEndpoints,
	loadWebhookEndpointRow,
	rollWebhookEndpointSecret,
	toEndpointRecord,
	updateWebhookEndpoint,
} from "../services/webhook-endpoints";
import type { App } from "../types";
import { apiRoute, idParam, jsonBody, jsonResponse, optionalJsonBody } from "./define";
import {
	errorResponses,
	IdempotencyHeaderSchema,
	ListQuerySchema,
	listSchema,
	MetadataSchema,
} from "./schemas";

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

const UpdateWebhookEndpointBody = z
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

const RollSecretBody = z
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

const RedeliverBody = z
	.object({
		endpoint: z.string().max(64).optional().openapi({
			description: "Only this endpoint (whatever its event filter); default: every matching one.",
		}),
	})
	.strict()
	.openapi("RedeliverEvent");

const WebhookEndpointSchema = z
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

const WebhookAttemptSchema = z
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

const RedeliverySchema = z
	.object({
		id: z.string().openapi({ example: "whr_01JD4X7K3M9ZQ8W6V5T4S3R2P1N0M9" }),
		object: z.literal("webhook_redelivery"),
		event: z.string(),
		endpoints: z.array(z.string()).openapi({ description: "The endpoints it is queued for." }),
		created: z.number().int(),
	})
	.openapi("WebhookRedelivery");

const DeletedSchema = z
	.object({ id: z.string(), object: z.literal("webhook_endpoint"), deleted: z.literal(true) })
	.openapi("DeletedWebhookEndpoint");

const IdParam = idParam("we_01JD4X7K3M9ZQ8W6V5T4S3R2P1N0M9");
const EventIdParam = idParam("evt_01JD4X7K3M9ZQ8W6V5T4S3R2P1N0M9");

const tags = ["Webhook endpoints"];
const endpointResponse = (description: string) => ({
	description,
	content: { "application/json": { schema: WebhookEndpointSchema } },
});

const createEndpoint = apiRoute({
	method: "post",
	path: "/v1/webhook_endpoints",
	tags,
	summary: "Create a webhook endpoint (its secret is shown only in this response)",
	request: {
		headers: IdempotencyHeaderSchema,
		body: jsonBody(CreateWebhookEndpointBody),
	},
	responses: {
		200: endpointResponse("The new endpoint, with its secret"),
		...errorResponses(400, 401, 409, 422),
	},
});

const retrieveEndpoint = apiRoute({
	method: "get",
	path: "/v1/webhook_endpoints/{id}",
	tags,
	summary: "Retrieve a webhook endpoint",
	request: { params: IdParam },
	responses: { 200: endpointResponse("The endpoint"), ...errorResponses(401, 404) },
});

const listEndpoints = apiRoute({
	method: "get",
	path: "/v1/webhook_endpoints",
	tags,
	summary: "List webhook endpoints, newest first",
	request: { query: ListQuerySchema },
	responses: {
		200: jsonResponse(
			"A page of endpoints",
			listSchema(WebhookEndpointSchema, "WebhookEndpointList"),
		),
		...errorResponses(400, 401),
	},
});

const updateEndpoint = apiRoute({
	method: "post",
	path: "/v1/webhook_endpoints/{id}",
	tags,
	summary: "Update a webhook endpoint (disable it with disabled: true)",
	request: {
		params: IdParam,
		headers: IdempotencyHeaderSchema,
		body: jsonBody(UpdateWebhookEndpointBody),
	},
	responses: {
		200: endpointResponse("The updated endpoint"),
		...errorResponses(400, 401, 404, 409, 422),
	},
});

const deleteEndpoint = apiRoute({
	method: "delete",
	path: "/v1/webhook_endpoints/{id}",
	tags,
	summary: "Delete a webhook endpoint",
	request: { params: IdParam },
	responses: {
		200: jsonResponse("Deleted", DeletedSchema),
		...errorResponses(401, 404),
	},
});

const rollSecret = apiRoute({
	method: "post",
	path: "/v1/webhook_endpoints/{id}/roll_secret",
	tags,
	summary: "Roll the signing secret (the old one keeps signing for expires_in seconds)",
	request: {
		params: IdParam,
		headers: IdempotencyHeaderSchema,
		body: optionalJsonBody(RollSecretBody),
	},
	responses: {
		200: endpointResponse("The endpoint, with its new secret"),
		...errorResponses(400, 401, 404, 409, 422),
	},
});

const listAttempts = apiRoute({
	method: "get",
	path: "/v1/webhook_endpoints/{id}/attempts",
	tags,
	summary: "List an endpoint's delivery attempts, newest first",
	request: {
		params: IdParam,
		query: ListQuerySchema.extend({
			event: z.string().max(64).optional().openapi({ description: "Only this event's attempts." }),
		}),
	},
	responses: {
		200: jsonResponse("A page of attempts", listSchema(WebhookAttemptSchema, "WebhookAttemptList")),
		...errorResponses(400, 401, 404),
	},
});

const redeliver = apiRoute({
	method: "post",
	path: "/v1/events/{id}/redeliver",
	tags: ["Events"],
	summary: "Send an event again to one or every matching webhook endpoint",
	request: {
		params: EventIdParam,
		headers: IdempotencyHeaderSchema,
		body: optionalJsonBody(RedeliverBody),
	},
	responses: {
		200: jsonResponse("The redelivery, queued", RedeliverySchema),
		...errorResponses(400, 401, 404, 409, 422),
	},
});

/** Webhook endpoints, their attempts, and event redelivery. */
export function registerWebhookEndpoints(app: App): void {
	app.openapi(createEndpoint, async (c) => {
		const { endpoint, secret } = await createWebhookEndpoint(
			c.env,
			c.get("auth"),
			c.req.valid("json"),
		);
		await auditApiChange(c.env, c.get("auth"), "webhook_endpoint.created", endpoint.id, {
			url: endpoint.url,
			enabled_events: endpoint.enabled_events,
		});
		return c.json(toApiWebhookEndpoint(endpoint, secret), 200);
	});

	app.openapi(retrieveEndpoint, async (c) => {
		const row = await loadWebhookEndpointRow(c.env.DB, c.get("auth"), c.req.valid("param").id);
		return c.json(toApiWebhookEndpoint(toEndpointRecord(row)), 200);
	});

	app.openapi(listEndpoints, async (c) => {
		const page = await listWebhookEndpoints(c.env.DB, c.get("auth"), c.req.valid("query"));
		return c.json(
			{
				object: "list" as const,
				data: page.data.map((endpoint) => toApiWebhookEndpoint(endpoint)),
				has_more: page.has_more,
				url: "/v1/webhook_endpoints",
			},
			200,
		);
	});

	app.openapi(updateEndpoint, async (c) => {
		const endpoint = await updateWebhookEndpoint(
			c.env.DB,
			c.get("auth"),
			c.req.valid("param").id,
			c.req.valid("json"),
		);
		await auditApiChange(c.env, c.get("auth"), "webhook_endpoint.updated", endpoint.id, {
			fields: Object.keys(c.req.valid("json") ?? {}),
			url: endpoint.url,
			enabled_events: endpoint.enabled_events,
			disabled: endpoint.disabled,
		});
		return c.json(toApiWebhookEndpoint(endpoint), 200);
	});

	app.openapi(deleteEndpoint, async (c) => {
		const deleted = await deleteWebhookEndpoint(c.env.DB, c.get("auth"), c.req.valid("param").id);
		await auditApiChange(c.env, c.get("auth"), "webhook_endpoint.deleted", deleted.id);
		return c.json(deleted, 200);
	});

	app.openapi(rollSecret, async (c) => {
		// Without a body the schema (and its default) is not applied.
		const overlap = c.req.valid("json")?.expires_in ?? ROLL_OVERLAP_DEFAULT_SECONDS;
		const { endpoint, secret } = await rollWebhookEndpointSecret(
			c.env,
			c.get("auth"),
			c.req.valid("param").id,
			overlap,
		);
		// The secrets themselves never enter the log: only when the previous one stops signing.
		await auditApiChange(c.env, c.get("auth"), "webhook_endpoint.secret_rolled", endpoint.id, {
			previous_secret_expires_at: endpoint.previous_secret_expires_at,
		});
		return c.json(toApiWebhookEndpoint(endpoint, secret), 200);
	});

	app.openapi(listAttempts, async (c) => {
		const { id } = c.req.valid("param");
		const page = await listWebhookAttempts(c.env.DB, c.get("auth"), id, c.req.valid("query"));
		return c.json(
			{
				object: "list" as const,
				data: page.data.map(toApiWebhookAttempt),
				has_more: page.has_more,
				url: `/v1/webhook_endpoints/${id}/attempts`,
			},
			200,
		);
	});

	app.openapi(redeliver, async (c) => {
		const endpoint = c.req.valid("json")?.endpoint;
		return c.json(
			await redeliverEvent(c.env, c.get("auth"), c.req.valid("param").id, endpoint),
			200,
		);
	});
}

/** The shapes these operations answer with, for their tests and clients. */
export type WebhookEndpointResponse = z.infer<typeof WebhookEndpointSchema>;
export type DeletedResponse = z.infer<typeof DeletedSchema>;
export type WebhookAttemptResponse = z.infer<typeof WebhookAttemptSchema>;
export type RedeliveryResponse = z.infer<typeof RedeliverySchema>;
