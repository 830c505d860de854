import { z } from "@hono/zod-openapi";
import { findEvent, listEvents as listEventRows, type StoredEventRow } from "../db/events";
import { isId } from "../domain/ids";
import { notFound } from "../lib/errors";
import type { App } from "../types";
import { apiRoute, jsonResponse } from "./define";
import {
	CreatedRangeQuerySchema,
	EventSchema,
	errorResponses,
	ListQuerySchema,
	listSchema,
} from "./schemas";

function toApiEvent(row: StoredEventRow) {
	return {
		id: row.id,
		object: "event" as const,
		type: row.type,
		livemode: row.livemode === 1,
		created: row.created,
		data: { object: JSON.parse(row.data) as Record<string, unknown> },
	};
}

const listEvents = apiRoute({
	method: "get",
	path: "/v1/events",
	tags: ["Events"],
	summary: "List events, newest first",
	request: {
		query: ListQuerySchema.extend(CreatedRangeQuerySchema.shape).extend({
			type: z.string().max(100).optional().openapi({ example: "payment.succeeded" }),
			object_id: z
				.string()
				.max(64)
				.optional()
				.openapi({ description: "Only events of this object." }),
		}),
	},
	responses: {
		200: jsonResponse("A page of events", listSchema(EventSchema, "EventList")),
		...errorResponses(400, 401),
	},
});

const retrieveEvent = apiRoute({
	method: "get",
	path: "/v1/events/{id}",
	tags: ["Events"],
	summary: "Retrieve an event",
	request: { params: z.object({ id: z.string().openapi({ param: { name: "id", in: "path" } }) }) },
	responses: {
		200: jsonResponse("The event", EventSchema),
		...errorResponses(401, 404),
	},
});

export function registerEvents(app: App): void {
	app.openapi(listEvents, async (c) => {
		const query = c.req.valid("query");
		const auth = c.get("auth");
		const page = await listEventRows(
			c.env.DB,
			auth,
			{ type: query.type, objectId: query.object_id },
			query,
		);
		return c.json(
			{
				object: "list" as const,
				data: page.data.map(toApiEvent),
				has_more: page.has_more,
				url: "/v1/events",
			},
			200,
		);
	});

	app.openapi(retrieveEvent, async (c) => {
		const { id } = c.req.valid("param");
		const auth = c.get("auth");
		if (!isId("event", id)) throw notFound("event", id);
		const row = await findEvent(c.env.DB, auth, id);
		if (!row) throw notFound("event", id);
		return c.json(toApiEvent(row), 200);
	});
}

/** The shape these operations answer with, for their tests and clients. */
export type EventResponse = z.infer<typeof EventSchema>;
