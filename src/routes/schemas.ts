import { z } from "@hono/zod-openapi";
import { isAddress } from "@solana/kit";
import { isSupportedCurrency, MAX_MINOR_UNITS } from "../domain/money";
import { PAYMENT_METHOD_TYPES } from "../domain/payment-method";
import { PAYMENT_STATUSES } from "../domain/payment-state";
import { ERROR_CODES } from "../lib/errors";

export const ErrorSchema = z
	.object({
		error: z.object({
			type: z.string().openapi({ example: "invalid_request_error" }),
			code: z.enum(Object.keys(ERROR_CODES) as [keyof typeof ERROR_CODES]),
			message: z.string(),
			param: z.string().optional(),
			request_id: z.string().openapi({ example: "req_01JD4X7K3M9ZQ8W6V5T4S3R2P1N0M9" }),
		}),
	})
	.openapi("Error");

/** Standard error responses, so every operation documents the house error shape. */
export function errorResponses(...statuses: (400 | 401 | 404 | 409 | 422 | 429 | 500)[]) {
	const descriptions = {
		400: "Invalid request",
		401: "Missing, invalid or expired API key",
		404: "No such object (or not yours)",
		409: "Conflict with the object's state, or an idempotent request in flight",
		422: "Idempotency-Key reused with different parameters",
		429: "Too many requests",
		500: "Internal error",
	} as const;
	return Object.fromEntries(
		[...new Set([...statuses, 500 as const])].map((s) => [
			s,
			{ description: descriptions[s], content: { "application/json": { schema: ErrorSchema } } },
		]),
	);
}

export const CurrencySchema = z
	.string()
	.refine(isSupportedCurrency, {
		message: "must be a lowercase ISO 4217 currency code, such as 'usd'",
	})
	.openapi({ example: "usd", description: "Three-letter ISO 4217 code, lowercase." });

export const AmountSchema = z
	.number()
	.int("must be an integer number of the currency's minor units")
	.positive("must be greater than zero")
	.max(MAX_MINOR_UNITS, `must be at most ${MAX_MINOR_UNITS}`)
	.openapi({
		example: 2500,
		description: "Integer minor units (2500 = $25.00; 2500 JPY = ¥2500).",
	});

export const MetadataSchema = z
	.record(
		z.string().min(1).max(40, "metadata keys are at most 40 characters"),
		z.string().max(500, "metadata values are at most 500 characters"),
	)
	.refine((m) => Object.keys(m).length <= 50, { message: "at most 50 metadata keys" })
	.openapi({ example: { order_id: "6735" } });

/** A Solana wallet address: base58 of 32 bytes. */
export const WalletAddressSchema = z
	.string()
	.refine((v) => isAddress(v), { message: "must be a base58 Solana address" })
	.openapi({ example: "9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM" });

/**
 * Schemes a checkout must never send a payer to: they run code or read local data, or they are
 * network protocols no browser lands a payer on (http(s) is checked separately).
 */
const UNSAFE_SCHEMES = new Set([
	"javascript:",
	"data:",
	"vbscript:",
	"file:",
	"blob:",
	"about:",
	"ftp:",
	"ws:",
	"wss:",
]);

/**
 * A redirect target for the checkout: an http(s) URL, or a mobile app's own scheme
 * (`myapp://orders/42`) so a web view can hand the payer back to the app.
 */
export const RedirectUrlSchema = z
	.string()
	.max(2048)
	.refine(
		(value) => {
			try {
				const url = new URL(value);
				if (url.protocol === "http:" || url.protocol === "https:") return url.host !== "";
				return /^[a-z][a-z0-9+.-]*:$/.test(url.protocol) && !UNSAFE_SCHEMES.has(url.protocol);
			} catch {
				return false;
			}
		},
		{ message: "must be an http(s) URL or an app link (myapp://…)" },
	);

export const IdempotencyHeaderSchema = z.object({
	"idempotency-key": z.string().optional().openapi({
		description: "Makes the POST safe to retry: the first response is replayed for 24 h.",
	}),
});

export const SolanaDetailsSchema = z
	.object({
		token: z.string().openapi({ example: "USDC" }),
		mint: z.string().nullable().openapi({ description: "SPL mint; null for native SOL." }),
		token_program: z.string().nullable(),
		decimals: z.number().int(),
		amount: z
			.string()
			.openapi({ description: "Base units to pay, fee included.", example: "25125000" }),
		recipient: z.string().openapi({ description: "The settlement wallet (owner address)." }),
		reference: z.string(),
		memo: z.string(),
		solana_pay_url: z.string(),
		transaction_request_url: z.string(),
		quote: z.object({
			rate: z
				.string()
				.openapi({ description: "Price-currency units per whole token.", example: "150.000000" }),
			fee: z.string(),
			amount_before_fee: z.string(),
			source: z.string(),
			expires_at: z.number().int(),
		}),
		required_commitment: z.enum(["confirmed", "finalized"]),
		amount_received: z.string(),
		amount_excess: z.string(),
		signature: z.string().nullable(),
		payer: z.string().nullable(),
	})
	.openapi("SolanaPaymentDetails");

export const CardDetailsSchema = z
	.object({
		payment_intent: z.string().openapi({ description: "The Stripe PaymentIntent (`pi_…`)." }),
		intent_status: z.string(),
		capture_method: z.enum(["automatic", "manual"]),
		amount_capturable: z.number().int(),
		amount_received: z.number().int(),
		charge: z.string().nullable(),
		fee: z.number().int().nullable().openapi({ description: "Stripe's fee, minor units." }),
		available_on: z.number().int().nullable(),
		amount_refunded: z.number().int(),
		last_payment_error: z
			.object({
				code: z.string().nullable(),
				decline_code: z.string().nullable(),
				message: z.string().nullable(),
			})
			.nullable(),
		disputes: z.array(
			z.object({
				id: z.string(),
				amount: z.number().int(),
				currency: z.string(),
				reason: z.string(),
				status: z.string(),
				created: z.number().int(),
			}),
		),
		presentment: z
			.object({
				currency: z.string(),
				amount: z.number().int(),
				rate: z.string(),
				fee: z.number().int(),
				spread_bps: z.number().int(),
				price_amount: z.number().int(),
				price_currency: z.string(),
			})
			.optional()
			.openapi({
				description:
					"Charged in the payer's currency: the amount (fee included), the mid rate per price unit and the fee. The amounts above are in the payment's currency.",
			}),
	})
	.openapi("CardDetails");

export const RoutingDecisionSchema = z
	.object({
		processor: z.enum(["solana", "stripe"]).nullable(),
		settings: z.record(z.string(), z.unknown()),
		rule_id: z.string().nullable(),
		strategy: z.enum(["first_match", "priority", "lowest_cost"]),
		reason: z.string(),
		cost: z
			.object({
				processor_fee: z.number().int(),
				network_fee: z.number().int(),
				conversion_spread: z.number().int(),
				total: z.number().int(),
			})
			.optional(),
		alternatives: z.array(
			z.object({
				processor: z.enum(["solana", "stripe"]),
				rule_id: z.string().nullable(),
				reason: z.string(),
			}),
		),
	})
	.openapi("RoutingDecision");

export const RiskAssessmentSchema = z
	.object({
		score: z.number().int().min(0).max(100),
		decision: z.enum(["allow", "review", "block"]),
		reasons: z.array(z.object({ rule: z.string(), detail: z.string() })),
	})
	.openapi("RiskAssessment", {
		description:
			"The merchant's risk rules on this payment: at creation, then (the stricter of both) when its funds arrived.",
	});

export const PaymentSchema = z
	.object({
		id: z.string().openapi({ example: "pay_01JD4X7K3M9ZQ8W6V5T4S3R2P1N0M9" }),
		object: z.literal("payment"),
		livemode: z.boolean(),
		status: z.enum(PAYMENT_STATUSES),
		amount: z.number().int(),
		currency: z.string(),
		amount_received: z.number().int(),
		amount_refunded: z.number().int(),
		payment_method_types: z.array(z.enum(PAYMENT_METHOD_TYPES)),
		description: z.string().nullable(),
		metadata: z.record(z.string(), z.string()),
		success_url: z.string().nullable(),
		cancel_url: z.string().nullable(),
		checkout_url: z.string(),
		expires_at: z.number().int(),
		created: z.number().int(),
		canceled_at: z.number().int().nullable(),
		cancellation_reason: z.string().nullable(),
		succeeded_at: z.number().int().nullable(),
		failure_code: z.string().nullable(),
		failure_message: z.string().nullable(),
		solana: SolanaDetailsSchema.nullable(),
		customer: z
			.string()
			.nullable()
			.openapi({ description: "The customer paying (`cus_…`), if the merchant named one." }),
		capture_method: z.enum(["automatic", "manual"]),
		card: CardDetailsSchema.nullable(),
		routing: RoutingDecisionSchema.nullable(),
		risk: RiskAssessmentSchema.nullable(),
		paid_with: z.enum(["card", "solana"]).nullable().openapi({
			description:
				"The method whose funds paid the price. Funds that arrive by the other method are extra: held, announced by payment.extra_funds_received, and refunded to their payer unless the merchant's `extra_funds` setting is `hold`.",
		}),
		held_funds: z
			.object({
				card: z
					.object({ amount: z.number().int(), refunded: z.number().int() })
					.nullable()
					.openapi({ description: "A card charge held for refund (minor units)." }),
				solana: z
					.object({ token: z.string(), amount: z.string(), refunded: z.string() })
					.nullable()
					.openapi({
						description:
							"Crypto held for refund: extra, excess or late (base units, decimal strings).",
					}),
			})
			.openapi({
				description:
					"What the payment holds for refund rather than for you, per method (refund it with funds: held).",
			}),
		refund_status: z.enum(["refunded", "partially_refunded"]).nullable().openapi({
			description:
				"`refunded` once everything received went back, `partially_refunded` before; `status` stays `succeeded`.",
		}),
	})
	.openapi("Payment");

export const EventSchema = z
	.object({
		id: z.string().openapi({ example: "evt_01JD4X7K3M9ZQ8W6V5T4S3R2P1N0M9" }),
		object: z.literal("event"),
		type: z.string().openapi({ example: "payment.succeeded" }),
		livemode: z.boolean(),
		created: z.number().int(),
		data: z.object({ object: z.record(z.string(), z.unknown()) }),
	})
	.openapi("Event");

export function listSchema<T extends z.ZodTypeAny>(item: T, name: string) {
	return z
		.object({
			object: z.literal("list"),
			data: z.array(item),
			has_more: z.boolean(),
			url: z.string(),
		})
		.openapi(name);
}

export const ListQuerySchema = z.object({
	limit: z.coerce
		.number()
		.int("must be an integer")
		.min(1, "must be between 1 and 100")
		.max(100, "must be between 1 and 100")
		.default(10)
		.openapi({ description: "Page size, 1 to 100 (default 10)." }),
	starting_after: z
		.string()
		.optional()
		.openapi({ description: "Cursor: the last id of the previous page." }),
	ending_before: z
		.string()
		.optional()
		.openapi({ description: "Cursor: the first id of the next page." }),
});

/** The last second of year 9999: later bounds could not be encoded in an id's time part. */
const MAX_TIMESTAMP = 253_402_300_799;
const timestampQuery = () =>
	z.coerce
		.number()
		.int()
		.nonnegative()
		.max(MAX_TIMESTAMP, "must be a Unix timestamp in seconds")
		.optional();

export const CreatedRangeQuerySchema = z.object({
	"created[gte]": timestampQuery(),
	"created[lte]": timestampQuery(),
	"created[gt]": timestampQuery(),
	"created[lt]": timestampQuery(),
});
