import { z } from "@hono/zod-openapi";
import { merchantBalance } from "../db/ledger";
import type { App } from "../types";
import { apiRoute, jsonResponse } from "./define";
import { errorResponses } from "./schemas";

const Amounts = z.array(
	z.object({
		amount: z.number().int().openapi({ description: "Integer minor units." }),
		currency: z.string(),
	}),
);

const BalanceSchema = z
	.object({
		object: z.literal("balance"),
		livemode: z.boolean(),
		available: Amounts,
		pending: Amounts,
	})
	.openapi("Balance");

const retrieveBalance = apiRoute({
	method: "get",
	path: "/v1/balances",
	tags: ["Balances"],
	summary: "Available and pending balance per currency, computed from ledger postings",
	responses: {
		200: jsonResponse("The balance", BalanceSchema),
		...errorResponses(401),
	},
});

export function registerBalances(app: App): void {
	app.openapi(retrieveBalance, async (c) => {
		const auth = c.get("auth");
		const balance = await merchantBalance(c.env.DB, auth.merchantId, auth.livemode);
		// Fiat balances are bounded far below 2^53 by the amount limits, so numbers are exact here.
		const toJson = (rows: { currency: string; amount: bigint }[]) =>
			rows.map((r) => ({ amount: Number(r.amount), currency: r.currency }));
		return c.json(
			{
				object: "balance" as const,
				livemode: auth.livemode,
				available: toJson(balance.available),
				pending: toJson(balance.pending),
			},
			200,
		);
	});
}

/** The shapes these operations answer with, for their tests and clients. */
export type BalanceResponse = z.infer<typeof BalanceSchema>;
