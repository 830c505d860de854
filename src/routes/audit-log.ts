import { z } from "@hono/zod-openapi";
import { ROLES } from "../domain/roles";
import { listAuditLog } from "../services/audit";
import type { App } from "../types";
import { apiRoute, jsonResponse } from "./define";
import { CreatedRangeQuerySchema, errorResponses, ListQuerySchema, listSchema } from "./schemas";

const AuditLogEntrySchema = z
	.object({
		id: z.string().openapi({ example: "aud_01JD4X7K3M9ZQ8W6V5T4S3R2P1" }),
		object: z.literal("audit_log_entry"),
		livemode: z.boolean(),
		action: z.string().openapi({ example: "api_key.rolled" }),
		actor: z.object({
			type: z.enum(["api_key", "admin", "system", "user", "anonymous"]),
			id: z.string().nullable().openapi({
				description:
					"The API key's id (`key_…`), the dashboard user's (`usr_…`), the job's name, or null.",
			}),
			role: z
				.enum(ROLES)
				.nullable()
				.openapi({ description: "A dashboard user's role when they acted; null otherwise." }),
		}),
		object_id: z.string().nullable(),
		details: z.record(z.string(), z.unknown()),
		created: z.number().int(),
	})
	.openapi("AuditLogEntry");

const listRoute = apiRoute({
	method: "get",
	path: "/v1/audit_log",
	tags: ["Audit log"],
	summary: "List audit log entries, newest first",
	description:
		"Changes to the account in this mode, and who made them: API keys created, rolled and revoked, routing rules, webhook endpoints, refunds, settings, through the API (the key) or the dashboard (the person and their role); dashboard sign-ins, failed sign-ins, invitations, role changes and passkey changes (in both modes). Entries are never changed or removed.",
	request: {
		query: ListQuerySchema.extend(CreatedRangeQuerySchema.shape).extend({
			action: z.string().max(100).optional().openapi({ example: "webhook_endpoint.created" }),
			object_id: z
				.string()
				.max(64)
				.optional()
				.openapi({ description: "Only entries about this object." }),
		}),
	},
	responses: {
		200: jsonResponse("A page of entries", listSchema(AuditLogEntrySchema, "AuditLogList")),
		...errorResponses(400, 401),
	},
});

export function registerAuditLog(app: App): void {
	app.openapi(listRoute, async (c) => {
		const page = await listAuditLog(c.env, c.get("auth"), c.req.valid("query"));
		return c.json(
			{ object: "list" as const, data: page.data, has_more: page.has_more, url: "/v1/audit_log" },
			200,
		);
	});
}

/** The shapes these operations answer with, for their tests and clients. */
export type AuditLogEntryResponse = z.infer<typeof AuditLogEntrySchema>;
