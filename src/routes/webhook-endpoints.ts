import { z } from "@hono/zod-openapi";
import { ROLL_OVERLAP_DEFAULT_SECONDS, toApiWebhookEndpoint } from "../domain/webhooks";
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
import { errorResponses, IdempotencyHeaderSchema, ListQuerySchema, listSchema } from "./schemas";
import {
	CreateWebhookEndpointBody,
	DeletedSchema,
	RedeliverBody,
	RedeliverySchema,
	RollSecretBody,
	UpdateWebhookEndpointBody,
	WebhookAttemptSchema,
	WebhookEndpointSchema,
} from "./webhook-endpoint-schemas";

// The body and response shapes, where the dashboard and the tests have always imported them.
export {
	CreateWebhookEndpointBody,
	type DeletedResponse,
	type RedeliveryResponse,
	type WebhookAttemptResponse,
	type WebhookEndpointResponse,
} from "./webhook-endpoint-schemas";

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
