import { z } from "@hono/zod-openapi";
import { listUnattributed, type UnattributedRow } from "../../db/solana-references";
import { refundUnattributed } from "../../services/unattributed-funds";
import type { App } from "../../types";
import { adminRoute, jsonResponse } from "../define";
import { errorResponses } from "../schemas";

const UnattributedFunds = z
	.object({
		id: z.string().openapi({ description: "`{signature}:{currency}`: one inflow." }),
		object: z.literal("unattributed_funds"),
		signature: z.string(),
		currency: z.string().openapi({ description: "`sol` or the token's mint." }),
		account: z.string().openapi({ description: "The settlement account that received them." }),
		amount: z.string().openapi({ description: "Base units, as a decimal string." }),
		sender: z.string().openapi({ description: "The wallet they came from: where a refund goes." }),
		slot: z.number().int(),
		reason: z.enum(["no_reference", "unknown_payment", "wrong_mint"]).or(z.string()),
		payment: z.string().nullable().openapi({ description: "The payment the transaction named." }),
		status: z.enum(["held", "refund_pending", "refunded"]),
		livemode: z.boolean(),
		created: z.number().int(),
	})
	.openapi("UnattributedFunds");

const list = adminRoute({
	method: "get",
	path: "/admin/v1/unattributed_funds",
	tags: ["Admin"],
	summary: "Funds that reached a settlement account and belong to no payment",
	description:
		"Every inflow into a settlement account that no payment took — no reference, a reference of no known payment, or a token the named payment was not quoted in — booked to the ledger's `unattributed` account and held for its sender. Newest first.",
	request: {
		query: z.object({
			status: z.enum(["held", "refund_pending", "refunded"]).optional(),
			limit: z.coerce.number().int().min(1).max(100).default(50),
			starting_after: z.string().max(200).optional().openapi({
				description: "An id from the previous page: the list continues after it.",
			}),
		}),
	},
	responses: {
		200: {
			description: "The inflows",
			content: {
				"application/json": {
					schema: z.object({
						object: z.literal("list"),
						data: z.array(UnattributedFunds),
						has_more: z.boolean(),
					}),
				},
			},
		},
		...errorResponses(400, 401),
	},
});

const refund = adminRoute({
	method: "post",
	path: "/admin/v1/unattributed_funds/{id}/refund",
	tags: ["Admin"],
	summary: "Send unattributed funds back to the wallet they came from",
	description:
		"Sends the inflow's amount, in its token, from the settlement wallet to its sender, exactly once (the refund sender crypto refunds use). The funds are `refund_pending` until the transfer is final, then `refunded`; if it cannot be sent they are `held` again. The network fee is the gateway's.",
	request: { params: z.object({ id: z.string().min(1).max(200) }) },
	responses: {
		200: jsonResponse("The inflow, now being refunded", UnattributedFunds),
		...errorResponses(400, 401, 404, 409),
	},
});

function toJson(r: UnattributedRow) {
	return {
		id: r.id,
		object: "unattributed_funds" as const,
		signature: r.signature,
		currency: r.currency,
		account: r.account,
		amount: r.amount,
		sender: r.sender,
		slot: r.slot,
		reason: r.reason,
		payment: r.payment_id,
		status: r.status,
		livemode: r.livemode === 1,
		created: r.created,
	};
}

export function registerAdminUnattributed(app: App): void {
	app.openapi(refund, async (c) => {
		const row = await refundUnattributed(c.env, c.req.valid("param").id);
		return c.json(toJson({ ...row, status: "refund_pending" }), 200);
	});

	app.openapi(list, async (c) => {
		const { status, limit, starting_after } = c.req.valid("query");
		const { rows, hasMore } = await listUnattributed(c.env.DB, {
			...(status ? { status } : {}),
			...(starting_after ? { startingAfter: starting_after } : {}),
			limit,
		});
		return c.json(
			{
				object: "list" as const,
				data: rows.map(toJson),
				has_more: hasMore,
			},
			200,
		);
	});
}
