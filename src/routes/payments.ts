import { z } from "@hono/zod-openapi";
import { CheckoutViewSchema } from "../checkout/schema";
import { listPayments as listPaymentRows } from "../db/payments";
import { checkoutView } from "../domain/checkout";
import { isId } from "../domain/ids";
import { EXPIRES_IN, type PaymentObjectJson, toApiPayment } from "../domain/payment";
import { PAYMENT_METHOD_TYPES } from "../domain/payment-method";
import { PAYMENT_STATUSES } from "../domain/payment-state";
import { ApiError } from "../lib/errors";
import { cancelCardIntent, captureCard } from "../services/cards";
import {
	createPaymentFor,
	loadPayment,
	paymentStub,
	requestCountry,
	requestIp,
	unwrapTransition,
} from "../services/payments";
import { quoteRemainder } from "../services/solana-quote";
import type { App } from "../types";
import { apiRoute, idParam, jsonBody, jsonResponse, optionalJsonBody } from "./define";
import {
	AmountSchema,
	CreatedRangeQuerySchema,
	CurrencySchema,
	errorResponses,
	IdempotencyHeaderSchema,
	ListQuerySchema,
	listSchema,
	MetadataSchema,
	PaymentSchema,
	RedirectUrlSchema,
} from "./schemas";

export const CreatePaymentBody = z
	.object({
		amount: AmountSchema,
		currency: CurrencySchema,
		payment_method_types: z
			.array(z.enum(PAYMENT_METHOD_TYPES))
			.min(1, "must name at least one payment method")
			.refine((a) => new Set(a).size === a.length, { message: "must not repeat a method" })
			.default(["solana", "card"]),
		description: z.string().max(1000).optional(),
		metadata: MetadataSchema.default({}),
		success_url: RedirectUrlSchema.optional().openapi({
			description:
				"Where the checkout sends the payer once paid: http(s), or a mobile app's own scheme (myapp://…). `{PAYMENT_ID}` is replaced with the payment's id.",
		}),
		cancel_url: RedirectUrlSchema.optional(),
		expires_in: z
			.number()
			.int()
			.min(EXPIRES_IN.min, `must be at least ${EXPIRES_IN.min} seconds`)
			.max(EXPIRES_IN.max, `must be at most ${EXPIRES_IN.max} seconds (7 days)`)
			.optional()
			.openapi({ description: "Seconds until an unpaid payment expires (default 3600)." }),
		solana: z
			.object({
				token: z
					.string()
					.min(1)
					.max(44)
					.openapi({ description: '"SOL", "USDC" or a configured mint address.', example: "USDC" }),
			})
			.strict()
			.optional(),
		capture_method: z.enum(["automatic", "manual"]).optional().openapi({
			description:
				"Cards: `automatic` (default) captures at once; `manual` authorises now and captures with POST /v1/payments/:id/capture.",
		}),
		customer: z.string().max(64).optional().openapi({
			description: "The customer paying (`cus_…`), one of this merchant's in this mode.",
			example: "cus_01JD4X7K3M9ZQ8W6V5T4S3R2P1N0M9",
		}),
	})
	.strict()
	.openapi("CreatePayment");

/** A projected payment as the API shows it; rows projected before customers existed lack `customer`. */
function projectedPayment(row: { data: string }): PaymentObjectJson {
	const payment = JSON.parse(row.data) as Omit<PaymentObjectJson, "customer" | "refund_status"> & {
		customer?: string | null;
		refund_status?: PaymentObjectJson["refund_status"];
	};
	return {
		...payment,
		customer: payment.customer ?? null,
		refund_status: payment.refund_status ?? null,
	};
}

const PaymentIdParam = idParam("pay_01JD4X7K3M9ZQ8W6V5T4S3R2P1N0M9");

const createPayment = apiRoute({
	method: "post",
	path: "/v1/payments",
	tags: ["Payments"],
	summary: "Create a payment",
	request: {
		headers: IdempotencyHeaderSchema,
		body: jsonBody(CreatePaymentBody),
	},
	responses: {
		200: jsonResponse("The new payment", PaymentSchema),
		...errorResponses(400, 401, 409, 422),
	},
});

const retrievePayment = apiRoute({
	method: "get",
	path: "/v1/payments/{id}",
	tags: ["Payments"],
	summary: "Retrieve a payment (strongly consistent)",
	request: { params: PaymentIdParam },
	responses: {
		200: jsonResponse("The payment", PaymentSchema),
		...errorResponses(401, 404),
	},
});

const listPayments = apiRoute({
	method: "get",
	path: "/v1/payments",
	tags: ["Payments"],
	summary: "List payments, newest first",
	request: {
		query: ListQuerySchema.extend(CreatedRangeQuerySchema.shape).extend({
			status: z.enum(PAYMENT_STATUSES).optional(),
			customer: z
				.string()
				.refine((v) => isId("customer", v), { message: "must be a customer id (cus_…)" })
				.optional()
				.openapi({ description: "Only this customer's payments." }),
		}),
	},
	responses: {
		200: jsonResponse("A page of payments", listSchema(PaymentSchema, "PaymentList")),
		...errorResponses(400, 401),
	},
});

const cancelPayment = apiRoute({
	method: "post",
	path: "/v1/payments/{id}/cancel",
	tags: ["Payments"],
	summary: "Cancel a payment that has not been paid",
	request: {
		params: PaymentIdParam,
		headers: IdempotencyHeaderSchema,
		body: optionalJsonBody(
			z
				.object({
					cancellation_reason: z
						.enum(["duplicate", "fraudulent", "requested_by_customer", "abandoned"])
						.optional(),
				})
				.strict(),
		),
	},
	responses: {
		200: jsonResponse("The canceled payment", PaymentSchema),
		...errorResponses(400, 401, 404, 409, 422),
	},
});

const quotePayment = apiRoute({
	method: "post",
	path: "/v1/payments/{id}/quote",
	tags: ["Payments"],
	summary: "Quote (or re-quote) an unpaid payment in a token",
	description:
		"Prices the payment in SOL, USDC or a configured token at the current rate, with a fresh reference. Publishable keys may call it, so a checkout can let the payer choose the token.",
	request: {
		params: PaymentIdParam,
		headers: IdempotencyHeaderSchema,
		body: jsonBody(
			z.object({ token: z.string().min(1).max(44).openapi({ example: "SOL" }) }).strict(),
		),
	},
	responses: {
		200: jsonResponse(
			"With a secret key, the payment with its new quote; with a publishable key or a checkout token, the payer's view of it (no metadata).",
			z.union([PaymentSchema, CheckoutViewSchema]),
		),
		...errorResponses(400, 401, 404, 409, 422),
	},
});

const capturePayment = apiRoute({
	method: "post",
	path: "/v1/payments/{id}/capture",
	tags: ["Payments"],
	summary: "Capture an authorised card payment, in full or in part",
	request: {
		params: PaymentIdParam,
		headers: IdempotencyHeaderSchema,
		body: optionalJsonBody(
			z
				.object({
					amount: AmountSchema.optional().openapi({
						description: "Minor units to capture (default: all of the authorisation).",
					}),
				})
				.strict(),
		),
	},
	responses: {
		200: jsonResponse("The captured payment", PaymentSchema),
		...errorResponses(400, 401, 404, 409, 422),
	},
});

export function registerPayments(app: App): void {
	app.openapi(capturePayment, async (c) => {
		const { id } = c.req.valid("param");
		const payment = await loadPayment(c.env, c.get("auth"), id);
		const captured = await captureCard(c.env, payment, c.req.valid("json")?.amount);
		return c.json(toApiPayment(captured), 200);
	});

	app.openapi(quotePayment, async (c) => {
		const { id } = c.req.valid("param");
		const auth = c.get("auth");
		const payment = await loadPayment(c.env, auth, id);
		if (!payment.payment_method_types.includes("solana")) {
			throw new ApiError("payment_unexpected_state", "This payment does not accept Solana.");
		}
		if (payment.status !== "requires_payment") {
			throw new ApiError(
				"payment_unexpected_state",
				`This payment's status is '${payment.status}'; it cannot be re-quoted.`,
			);
		}
		// A partly paid payment is quoted for the rest of its price; what it received keeps its rate.
		const solana = await quoteRemainder(c.env, payment, c.req.valid("json").token);
		const result = await paymentStub(c.env, id).updateSolana(solana);
		const updated = unwrapTransition(result, id);
		// Publishable keys and checkout tokens act for the payer: they get the payer's view,
		// never the merchant's metadata.
		if (auth.keyType !== "secret") return c.json(checkoutView(updated) as never, 200);
		return c.json(toApiPayment(updated), 200);
	});

	app.openapi(createPayment, async (c) => {
		const payment = await createPaymentFor(c.env, c.get("auth"), c.req.valid("json"), {
			country: requestCountry(c.req.raw),
			ip: requestIp(c.req.raw),
		});
		return c.json(toApiPayment(payment), 200);
	});

	app.openapi(retrievePayment, async (c) => {
		const payment = await loadPayment(c.env, c.get("auth"), c.req.valid("param").id);
		return c.json(toApiPayment(payment), 200);
	});

	app.openapi(listPayments, async (c) => {
		const query = c.req.valid("query");
		const auth = c.get("auth");
		const page = await listPaymentRows(
			c.env.DB,
			auth,
			{ status: query.status, customer: query.customer },
			query,
		);
		return c.json(
			{
				object: "list" as const,
				data: page.data.map(projectedPayment),
				has_more: page.has_more,
				url: "/v1/payments",
			},
			200,
		);
	});

	app.openapi(cancelPayment, async (c) => {
		const { id } = c.req.valid("param");
		const payment = await loadPayment(c.env, c.get("auth"), id);
		const reason = c.req.valid("json")?.cancellation_reason ?? null;
		// A card authorisation or open card form is released at Stripe first.
		const released = await cancelCardIntent(c.env, payment, reason);
		// The intent's cancelation already closed the payment (same reason, one event).
		if (released?.status === "canceled") return c.json(toApiPayment(released), 200);
		const result = await paymentStub(c.env, id).cancel(reason);
		return c.json(toApiPayment(unwrapTransition(result, id)), 200);
	});
}

/** The shapes these operations answer with, for their tests and clients. */
export type PaymentResponse = z.infer<typeof PaymentSchema>;
export type CheckoutViewResponse = z.infer<typeof CheckoutViewSchema>;
