import { z } from "@hono/zod-openapi";
import { findConversion, listConversions } from "../db/conversions";
import { isId } from "../domain/ids";
import { notFound } from "../lib/errors";
import { toApiConversion } from "../services/conversion-json";
import type { App } from "../types";
import { apiRoute, jsonResponse } from "./define";
import { CreatedRangeQuerySchema, errorResponses, ListQuerySchema, listSchema } from "./schemas";

const Amount = z.union([z.number().int(), z.string()]).openapi({
	description: "Minor units (a number) for a currency; base units (a decimal string) for a token.",
});

export const ConversionSchema = z
	.object({
		id: z.string().openapi({ example: "conv_01JD4X7K3M9ZQ8W6V5T4S3R2P1N0M9" }),
		object: z.literal("conversion"),
		livemode: z.boolean(),
		payment: z.string().openapi({ description: "The payment whose funds were converted." }),
		status: z.enum(["completed", "failed"]),
		policy: z.enum(["locked", "current"]),
		from: z.object({
			token: z.string().openapi({ example: "SOL" }),
			currency: z.string().openapi({ description: "Ledger currency: `sol` or the mint." }),
			amount: z.string().openapi({ description: "Base units converted (the price part)." }),
		}),
		to: z.object({
			currency: z.string().openapi({ example: "usd" }),
			token: z.string().nullable(),
			amount: Amount.nullable().openapi({ description: "Credited to you; null when failed." }),
		}),
		rate: z
			.string()
			.nullable()
			.openapi({ description: "`to` units per one whole `from` token.", example: "150" }),
		rate_source: z.string().nullable().openapi({ example: "pyth+fx_reference" }),
		rate_published: z.number().int().nullable(),
		spread_bps: z.number().int(),
		fee: Amount.nullable().openapi({ description: "The spread kept by the gateway." }),
		rounding: Amount.nullable().openapi({
			description: "Rounding in your favour, borne by the gateway: 0 or 1 unit.",
		}),
		failure_code: z.string().nullable(),
		failure_message: z.string().nullable(),
		created: z.number().int(),
	})
	.openapi("Conversion");

const tags = ["Conversions"];

const list = apiRoute({
	method: "get",
	path: "/v1/conversions",
	tags,
	summary: "List conversions, newest first",
	request: {
		query: ListQuerySchema.extend(CreatedRangeQuerySchema.shape).extend({
			payment: z
				.string()
				.max(64)
				.optional()
				.openapi({ description: "Only the conversion of this payment." }),
		}),
	},
	responses: {
		200: jsonResponse("A page of conversions", listSchema(ConversionSchema, "ConversionList")),
		...errorResponses(400, 401),
	},
});

const retrieve = apiRoute({
	method: "get",
	path: "/v1/conversions/{id}",
	tags,
	summary: "Retrieve a conversion",
	request: { params: z.object({ id: z.string().openapi({ param: { name: "id", in: "path" } }) }) },
	responses: {
		200: jsonResponse("The conversion", ConversionSchema),
		...errorResponses(401, 404),
	},
});

export function registerConversions(app: App): void {
	app.openapi(list, async (c) => {
		const query = c.req.valid("query");
		const auth = c.get("auth");
		const page = await listConversions(c.env.DB, auth, { payment: query.payment }, query);
		return c.json(
			{
				object: "list" as const,
				data: page.data.map(toApiConversion),
				has_more: page.has_more,
				url: "/v1/conversions",
			},
			200,
		);
	});

	app.openapi(retrieve, async (c) => {
		const { id } = c.req.valid("param");
		const auth = c.get("auth");
		if (!isId("conversion", id)) throw notFound("conversion", id);
		const row = await findConversion(c.env.DB, auth, id);
		if (!row) throw notFound("conversion", id);
		return c.json(toApiConversion(row), 200);
	});
}

/** The shapes these operations answer with, for their tests and clients. */
export type ConversionResponse = z.infer<typeof ConversionSchema>;
