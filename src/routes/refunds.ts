import { z } from "@hono/zod-openapi";
import { isId } from "../domain/ids";
import { PAYMENT_METHOD_TYPES } from "../domain/payment-method";
import { REFUND_FUNDS, REFUND_REASONS, REFUND_STATUSES, toApiRefund } from "../domain/refund";
import { auditApiChange } from "../services/audit";
import { createRefund, listRefunds, loadRefund } from "../services/refunds";
import type { App } from "../types";
import { apiRoute, idParam, jsonBody, jsonResponse } from "./define";
import {
	AmountSchema,
	errorResponses,
	IdempotencyHeaderSchema,
	ListQuerySchema,
	listSchema,
	MetadataSchema,
	WalletAddressSchema,
} from "./schemas";

const CreateRefundBody = z
	.object({
		payment: z.string().max(64).openapi({
			description: "The payment to refund (`pay_…`).",
			example: "pay_01JD4X7K3M9ZQ8W6V5T4S3R2P1N0M9",
		}),
		amount: AmountSchema.optional().openapi({
			description:
				"Minor units of the payment's currency (default: all that is left). Crypto is returned as the same share of the tokens paid.",
		}),
		funds: z.enum(REFUND_FUNDS).optional().openapi({
			description:
				"`received` (the price the merchant was paid; default for a succeeded payment) or `held`: what the payment holds for refund (a charge by the method that did not pay the price, an overpayment's excess, funds that arrived late), crypto returned whole; default for an expired or canceled payment.",
		}),
		method: z.enum(PAYMENT_METHOD_TYPES).optional().openapi({
			description:
				"The method whose funds go back: `card` (a Stripe refund to the card) or `solana` (on chain to the paying wallet). Default: the method that paid the price for `received`, the one holding funds for `held`; required when both a card charge and crypto are held.",
		}),
		reason: z.enum(REFUND_REASONS).optional(),
		destination: WalletAddressSchema.optional().openapi({
			description: "Crypto only: the wallet to send to (default: the wallet that paid).",
		}),
		metadata: MetadataSchema.default({}),
	})
	.strict()
	.openapi("CreateRefund");

const RefundSchema = z
	.object({
		id: z.string().openapi({ example: "re_01JD4X7K3M9ZQ8W6V5T4S3R2P1N0M9" }),
		object: z.literal("refund"),
		livemode: z.boolean(),
		payment: z.string(),
		status: z.enum(REFUND_STATUSES),
		funds: z.enum(REFUND_FUNDS),
		method: z.enum(PAYMENT_METHOD_TYPES),
		amount: z
			.number()
			.int()
			.nullable()
			.openapi({ description: "Minor units; null for held crypto (see solana.amount)." }),
		currency: z.string(),
		reason: z.enum(REFUND_REASONS).nullable(),
		metadata: z.record(z.string(), z.string()),
		processor: z.enum(["stripe", "solana"]),
		conversion: z
			.object({
				payment_conversion: z.string(),
				settlement_currency: z.string(),
				settlement_token: z.string().nullable(),
				debit: z.union([z.number().int(), z.string()]),
				spread_bps: z.number().int(),
				spread: z.union([z.number().int(), z.string()]),
				tokens: z.string(),
				rate: z.string(),
				rate_source: z.string(),
				rate_published: z.number().int().nullable(),
			})
			.nullable()
			.openapi({
				description:
					"A converted payment's refund: its price taken from your settlement-currency balance (`debit` plus the `spread`, in settlement units: minor units for a currency, base-unit strings for a token), the payer sent `tokens` of the paid token at the current `rate`. Null otherwise.",
			}),
		failure_reason: z.string().nullable(),
		card: z
			.object({
				charge: z.string().nullable(),
				stripe_refund: z.string().nullable(),
				stripe_status: z.string().nullable(),
			})
			.nullable(),
		solana: z
			.object({
				token: z.string(),
				mint: z.string().nullable(),
				token_program: z.string().nullable(),
				decimals: z.number().int(),
				amount: z.string().openapi({ description: "Base units sent back." }),
				recipient: z.string(),
				splits: z
					.array(z.object({ recipient: z.string(), amount: z.string() }))
					.optional()
					.openapi({
						description:
							"A full refund of a payment several wallets paid: each wallet's share (by what it paid), sent in one transaction.",
					}),
				memo: z.string().openapi({ description: "The refund id, as an SPL memo." }),
				signature: z.string().nullable(),
				network_fee: z.string().nullable(),
			})
			.nullable(),
		fees: z.object({
			paid_by: z.literal("merchant"),
			payment_fee_returned: z.literal(false).openapi({
				description: "Stripe's fee and the gateway fee are not returned to the merchant.",
			}),
			network_fee: z.string().nullable().openapi({
				description:
					"Lamports the refund's transactions cost, charged to the merchant's SOL balance.",
			}),
		}),
		created: z.number().int(),
		updated: z.number().int(),
	})
	.openapi("Refund");

const RefundIdParam = idParam("re_01JD4X7K3M9ZQ8W6V5T4S3R2P1N0M9");

const tags = ["Refunds"];

const create = apiRoute({
	method: "post",
	path: "/v1/refunds",
	tags,
	summary: "Refund a payment, in full or in part",
	description:
		"Reserves the amount at once (never more in total than the payment received) and returns the refund `pending`; the refunds queue sends the money back and the refund becomes `succeeded` or `failed` (events refund.created, refund.succeeded, refund.failed).",
	request: {
		headers: IdempotencyHeaderSchema,
		body: jsonBody(CreateRefundBody),
	},
	responses: {
		200: jsonResponse("The new refund", RefundSchema),
		...errorResponses(400, 401, 404, 409, 422),
	},
});

const retrieve = apiRoute({
	method: "get",
	path: "/v1/refunds/{id}",
	tags,
	summary: "Retrieve a refund (strongly consistent)",
	request: { params: RefundIdParam },
	responses: {
		200: jsonResponse("The refund", RefundSchema),
		...errorResponses(401, 404),
	},
});

const list = apiRoute({
	method: "get",
	path: "/v1/refunds",
	tags,
	summary: "List refunds, newest first",
	request: {
		query: ListQuerySchema.extend({
			payment: z
				.string()
				.refine((v) => isId("payment", v), { message: "must be a payment id (pay_…)" })
				.optional()
				.openapi({ description: "Only this payment's refunds." }),
		}),
	},
	responses: {
		200: jsonResponse("A page of refunds", listSchema(RefundSchema, "RefundList")),
		...errorResponses(400, 401),
	},
});

export function registerRefunds(app: App): void {
	app.openapi(create, async (c) => {
		const refund = toApiRefund(await createRefund(c.env, c.get("auth"), c.req.valid("json")));
		await auditApiChange(c.env, c.get("auth"), "refund.created", refund.id, {
			payment: refund.payment,
			amount: refund.amount,
			currency: refund.currency,
		});
		return c.json(refund, 200);
	});

	app.openapi(retrieve, async (c) => {
		const refund = await loadRefund(c.env, c.get("auth"), c.req.valid("param").id);
		return c.json(toApiRefund(refund), 200);
	});

	app.openapi(list, async (c) => {
		const page = await listRefunds(c.env, c.get("auth"), c.req.valid("query"));
		return c.json(
			{ object: "list" as const, data: page.data, has_more: page.has_more, url: "/v1/refunds" },
			200,
		);
	});
}

/** The shapes these operations answer with, for their tests and clients. */
export type RefundResponse = z.infer<typeof RefundSchema>;
