import { z } from "@hono/zod-openapi";
import { listPayoutItems } from "../services/payout-items";
import type { App } from "../types";
import { apiRoute, jsonResponse } from "./define";
import { errorResponses, ListQuerySchema, listSchema } from "./schemas";

export const PayoutItemSchema = z
	.object({
		object: z.literal("payout_item"),
		id: z
			.string()
			.openapi({ description: "The ledger transfer's id.", example: "pay_01JD…:received" }),
		type: z.string().openapi({
			description:
				"What moved the balance: payment, refund, fee, conversion, adjustment or payout.",
		}),
		amount: z.string().openapi({
			description:
				"Signed: what it added to (negative: took from) the available balance, minor units for fiat and base units for tokens.",
		}),
		currency: z.string(),
		source: z.string().openapi({
			description:
				"The payment, refund, conversion or payout it belongs to (an earlier manual payout's debit names that payout).",
		}),
		created: z.number().int(),
	})
	.openapi("PayoutItem");

export type PayoutItemResponse = z.infer<typeof PayoutItemSchema>;

const list = apiRoute({
	method: "get",
	path: "/v1/payouts/{id}/transactions",
	tags: ["Payouts"],
	summary:
		"The balance transfers an automatic payout paid out, newest first: they sum to the payout's amount, and with the payout's own debit (type payout) to zero",
	request: {
		params: z.object({ id: z.string().openapi({ param: { name: "id", in: "path" } }) }),
		query: ListQuerySchema,
	},
	responses: {
		200: jsonResponse(
			"A page of the payout's transfers",
			listSchema(PayoutItemSchema, "PayoutItemList"),
		),
		...errorResponses(400, 401, 404),
	},
});

export function registerPayoutTransactions(app: App): void {
	app.openapi(list, async (c) => {
		const { id } = c.req.valid("param");
		const page = await listPayoutItems(c.env.DB, c.get("auth"), id, c.req.valid("query"));
		return c.json(
			{
				object: "list" as const,
				data: page.data,
				has_more: page.has_more,
				url: `/v1/payouts/${id}/transactions`,
			},
			200,
		);
	});
}
