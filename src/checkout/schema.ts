import { z } from "@hono/zod-openapi";
import { PAYMENT_STATUSES } from "../domain/payment-state";

/** The payer's view of a payment (src/domain/checkout.ts), as the OpenAPI document shows it. */
export const CheckoutViewSchema = z
	.object({
		id: z.string(),
		status: z.enum(PAYMENT_STATUSES),
		livemode: z.boolean(),
		amount: z.number().int(),
		currency: z.string(),
		description: z.string().nullable(),
		expires_at: z.number().int(),
		succeeded_at: z.number().int().nullable(),
		success_url: z.string().nullable(),
		cancel_url: z.string().nullable(),
		payment_method_types: z.array(z.string()),
		paying_with: z.enum(["card", "solana"]).nullable().openapi({
			description: "The method completing the payment; the page no longer offers the other.",
		}),
		solana: z
			.object({
				token: z.string(),
				decimals: z.number().int(),
				amount: z.string(),
				fee: z.string(),
				rate: z.string(),
				quote_expires_at: z.number().int(),
				recipient: z.string(),
				solana_pay_url: z.string(),
				transaction_request_url: z.string(),
				reference: z.string(),
				amount_received: z.string(),
				signature: z.string().nullable(),
			})
			.nullable(),
	})
	.openapi("CheckoutView");
