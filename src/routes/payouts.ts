import { z } from "@hono/zod-openapi";
import { isId } from "../domain/ids";
import {
	PAYOUT_METHODS,
	PAYOUT_STATUSES,
	PayoutInputError,
	type PayoutJson,
	parsePayoutAmount,
	parsePayoutCurrency,
} from "../domain/payout";
import { ApiError } from "../lib/errors";
import { auditApiChange } from "../services/audit";
import {
	cancelPayout,
	createPayout,
	listMerchantPayouts,
	loadPayout,
	payoutJson,
} from "../services/payouts";
import { tokenCatalog } from "../services/tokens";
import type { App } from "../types";
import { apiRoute, idParam, jsonBody, jsonResponse } from "./define";
import {
	CreatedRangeQuerySchema,
	errorResponses,
	IdempotencyHeaderSchema,
	ListQuerySchema,
	listSchema,
} from "./schemas";

export type { PayoutJson };

const CreatePayoutBody = z
	.object({
		amount: z.union([z.number(), z.string().max(40)]).openapi({
			description:
				'Token amounts in base units as a decimal string (`"2500000"` = 2.5 USDC); fiat in integer minor units (`1500` = $15.00), a number or a string of digits.',
			example: "2500000",
		}),
		currency: z.string().max(64).openapi({
			description:
				"A lowercase currency code (`usd`: paid through Stripe Connect), a token symbol (`sol`, `usdc`) or a token's mint (paid on chain).",
			example: "usdc",
		}),
		destination: z.string().max(64).optional().openapi({
			description:
				"The payout destination (`pd_…`); default: your default destination of the kind the currency needs (a wallet for tokens, a connected account for fiat), or the only one.",
		}),
	})
	.strict()
	.openapi("CreatePayout");

const PayoutSchema = z
	.object({
		id: z.string().openapi({ example: "po_01JD4X7K3M9ZQ8W6V5T4S3R2P1N0M9" }),
		object: z.literal("payout"),
		livemode: z.boolean(),
		amount: z.union([z.number().int(), z.string()]).openapi({
			description: "Fiat: integer minor units. Tokens: base units as a decimal string.",
		}),
		currency: z.string().openapi({
			description: "The ledger currency: a fiat code, `sol`, or the token's mint.",
		}),
		destination: z.string(),
		method: z.enum(PAYOUT_METHODS),
		status: z.enum(PAYOUT_STATUSES),
		automatic: z.boolean(),
		fee: z.union([z.number().int(), z.string()]).nullable().openapi({
			description:
				"Charged to you on top of the amount once sent: for on-chain payouts the lamports the transaction cost (network fee and any token account rent), from your SOL balance; 0 for Stripe.",
		}),
		fee_currency: z.string().nullable(),
		failure_code: z.string().nullable(),
		failure_message: z.string().nullable(),
		solana_signature: z.string().nullable(),
		stripe_transfer: z.string().nullable(),
		amount_reversed: z.union([z.number().int(), z.string()]).openapi({
			description:
				"What Stripe reversed of a paid Connect transfer, back in your available balance (0 when nothing).",
		}),
		created: z.number().int(),
		updated: z.number().int(),
	})
	.openapi("Payout");

const PayoutIdParam = idParam("po_01JD4X7K3M9ZQ8W6V5T4S3R2P1N0M9");

const tags = ["Payouts"];

const create = apiRoute({
	method: "post",
	path: "/v1/payouts",
	tags,
	summary: "Pay out part of your available balance",
	description:
		"Reserves the amount from your `available` balance at once (400 naming the shortfall when it is short) and returns the payout `pending`; the payouts queue sends it on chain or through Stripe Connect and it becomes `paid` or `failed` (events payout.created, payout.updated, payout.paid, payout.failed).",
	request: {
		headers: IdempotencyHeaderSchema,
		body: jsonBody(CreatePayoutBody),
	},
	responses: {
		200: jsonResponse("The new payout", PayoutSchema),
		...errorResponses(400, 401, 404, 409, 422),
	},
});

const retrieve = apiRoute({
	method: "get",
	path: "/v1/payouts/{id}",
	tags,
	summary: "Retrieve a payout",
	request: { params: PayoutIdParam },
	responses: {
		200: jsonResponse("The payout", PayoutSchema),
		...errorResponses(401, 404),
	},
});

const cancel = apiRoute({
	method: "post",
	path: "/v1/payouts/{id}/cancel",
	tags,
	summary: "Cancel a pending payout",
	description:
		"Only while `pending` (not yet sent): the reserved amount goes back to `available` (payout.canceled). 409 once sending has begun.",
	request: { headers: IdempotencyHeaderSchema, params: PayoutIdParam },
	responses: {
		200: jsonResponse("The canceled payout", PayoutSchema),
		...errorResponses(401, 404, 409),
	},
});

const list = apiRoute({
	method: "get",
	path: "/v1/payouts",
	tags,
	summary: "List payouts, newest first",
	request: {
		query: ListQuerySchema.merge(CreatedRangeQuerySchema).extend({
			status: z.enum(PAYOUT_STATUSES).optional(),
			destination: z
				.string()
				.refine((v) => isId("payoutDestination", v), {
					message: "must be a payout destination id (pd_…)",
				})
				.optional(),
			currency: z.string().max(64).optional().openapi({
				description: "A currency code, token symbol or mint.",
			}),
		}),
	},
	responses: {
		200: jsonResponse("A page of payouts", listSchema(PayoutSchema, "PayoutList")),
		...errorResponses(400, 401),
	},
});

function notPayoutId(id: string): never {
	const shown = id.length > 80 ? `${id.slice(0, 80)}…` : id;
	throw new ApiError("resource_missing", `No such payout: '${shown}'`, "id");
}

export function registerPayouts(app: App): void {
	app.openapi(create, async (c) => {
		const auth = c.get("auth");
		const body = c.req.valid("json");
		let amount: bigint;
		try {
			amount = parsePayoutAmount(
				body.amount,
				parsePayoutCurrency(body.currency, tokenCatalog(c.env)),
			);
		} catch (err) {
			if (err instanceof PayoutInputError) {
				throw new ApiError("parameter_invalid", err.message, err.param);
			}
			throw err;
		}
		const payout = payoutJson(
			await createPayout(c.env, {
				merchantId: auth.merchantId,
				livemode: auth.livemode,
				amount,
				currency: body.currency,
				destinationId: body.destination,
				automatic: false,
			}),
		);
		await auditApiChange(c.env, auth, "payout.created", payout.id, {
			amount: String(payout.amount),
			currency: payout.currency,
			destination: payout.destination,
		});
		return c.json(payout, 200);
	});

	app.openapi(retrieve, async (c) => {
		const { id } = c.req.valid("param");
		if (!isId("payout", id)) notPayoutId(id);
		return c.json(payoutJson(await loadPayout(c.env, c.get("auth"), id)), 200);
	});

	app.openapi(cancel, async (c) => {
		const { id } = c.req.valid("param");
		if (!isId("payout", id)) notPayoutId(id);
		const auth = c.get("auth");
		const payout = payoutJson(await cancelPayout(c.env, auth, id));
		await auditApiChange(c.env, auth, "payout.canceled", payout.id, {
			amount: String(payout.amount),
			currency: payout.currency,
		});
		return c.json(payout, 200);
	});

	app.openapi(list, async (c) => {
		const { status, destination, currency, ...query } = c.req.valid("query");
		const page = await listMerchantPayouts(c.env, c.get("auth"), query, {
			status,
			destination,
			currency,
		});
		return c.json(
			{ object: "list" as const, data: page.data, has_more: page.has_more, url: "/v1/payouts" },
			200,
		);
	});
}

/** The shapes these operations answer with, for their tests and clients. */
export type PayoutResponse = z.infer<typeof PayoutSchema>;
