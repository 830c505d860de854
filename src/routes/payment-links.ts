import { z } from "@hono/zod-openapi";
import { PAYMENT_LINK_MAX_METADATA_KEYS, toApiPaymentLink } from "../domain/payment-link";
import { PAYMENT_METHOD_TYPES } from "../domain/payment-method";
import { ApiError } from "../lib/errors";
import { getMerchant } from "../services/merchants";
import {
	createPaymentLink,
	listPaymentLinks,
	loadPaymentLink,
	updatePaymentLink,
} from "../services/payment-links";
import { resolveToken } from "../services/tokens";
import type { App } from "../types";
import { apiRoute, idParam, jsonBody, jsonResponse } from "./define";
import { registerPaymentLinkPages } from "./payment-link-pages";
import { CreatePaymentBody } from "./payments";
import {
	errorResponses,
	IdempotencyHeaderSchema,
	ListQuerySchema,
	listSchema,
	MetadataSchema,
} from "./schemas";

const LinkMetadataSchema = MetadataSchema.refine(
	(m) => Object.keys(m).length <= PAYMENT_LINK_MAX_METADATA_KEYS,
	{
		message: `at most ${PAYMENT_LINK_MAX_METADATA_KEYS} metadata keys (each payment adds payment_link)`,
	},
);

const payment = CreatePaymentBody.shape;

/** A link carries the terms of the payments it creates: the same fields as `POST /v1/payments`. */
const CreatePaymentLinkBody = CreatePaymentBody.pick({
	amount: true,
	currency: true,
	payment_method_types: true,
	description: true,
	success_url: true,
	cancel_url: true,
	expires_in: true,
	solana: true,
})
	.extend({
		metadata: LinkMetadataSchema.default({}),
		expires_in: payment.expires_in.openapi({
			description: "Seconds until each payment created from the link expires (default 3600).",
		}),
		active: z
			.boolean()
			.default(true)
			.openapi({ description: "Whether visits create payments (default true)." }),
	})
	.strict()
	.openapi("CreatePaymentLink");

/** What may change on a link; null clears description or a URL. Amount and currency are fixed. */
const UpdatePaymentLinkBody = z
	.object({
		active: z.boolean().optional(),
		description: payment.description.unwrap().nullable().optional(),
		metadata: LinkMetadataSchema.optional().openapi({ description: "Replaces the metadata." }),
		success_url: payment.success_url.unwrap().nullable().optional(),
		cancel_url: payment.cancel_url.unwrap().nullable().optional(),
	})
	.strict()
	.openapi("UpdatePaymentLink");

const PaymentLinkSchema = z
	.object({
		id: z.string().openapi({ example: "plink_01JD4X7K3M9ZQ8W6V5T4S3R2P1N0M9" }),
		object: z.literal("payment_link"),
		livemode: z.boolean(),
		active: z.boolean(),
		url: z.string().openapi({
			description: "Share this: each visit creates a payment and redirects to its checkout.",
			example: "https://pay.example.com/l/plink_01JD4X7K3M9ZQ8W6V5T4S3R2P1N0M9",
		}),
		amount: z.number().int(),
		currency: z.string(),
		payment_method_types: z.array(z.enum(PAYMENT_METHOD_TYPES)),
		description: z.string().nullable(),
		metadata: z.record(z.string(), z.string()),
		success_url: z.string().nullable(),
		cancel_url: z.string().nullable(),
		expires_in: z.number().int().nullable(),
		solana: z.object({ token: z.string() }).nullable(),
		created: z.number().int(),
	})
	.openapi("PaymentLink");

const PaymentLinkIdParam = idParam("plink_01JD4X7K3M9ZQ8W6V5T4S3R2P1N0M9");

const tags = ["Payment links"];
const linkResponse = (description: string) => ({
	description,
	content: { "application/json": { schema: PaymentLinkSchema } },
});

const createLink = apiRoute({
	method: "post",
	path: "/v1/payment_links",
	tags,
	summary: "Create a payment link",
	request: {
		headers: IdempotencyHeaderSchema,
		body: jsonBody(CreatePaymentLinkBody),
	},
	responses: { 200: linkResponse("The new payment link"), ...errorResponses(400, 401, 409, 422) },
});

const retrieveLink = apiRoute({
	method: "get",
	path: "/v1/payment_links/{id}",
	tags,
	summary: "Retrieve a payment link",
	request: { params: PaymentLinkIdParam },
	responses: { 200: linkResponse("The payment link"), ...errorResponses(401, 404) },
});

const listLinks = apiRoute({
	method: "get",
	path: "/v1/payment_links",
	tags,
	summary: "List payment links, newest first",
	request: { query: ListQuerySchema },
	responses: {
		200: jsonResponse("A page of payment links", listSchema(PaymentLinkSchema, "PaymentLinkList")),
		...errorResponses(400, 401),
	},
});

const updateLink = apiRoute({
	method: "post",
	path: "/v1/payment_links/{id}",
	tags,
	summary: "Update a payment link (deactivate it with active: false)",
	request: {
		params: PaymentLinkIdParam,
		headers: IdempotencyHeaderSchema,
		body: jsonBody(UpdatePaymentLinkBody),
	},
	responses: { 200: linkResponse("The updated link"), ...errorResponses(400, 401, 404, 409, 422) },
});

/** The payment links API under /v1, plus the public link URL and the pay button script. */
export function registerPaymentLinks(app: App): void {
	app.openapi(createLink, async (c) => {
		const body = c.req.valid("json");
		const auth = c.get("auth");
		if (body.solana) {
			// Checked now, so a link that could never be paid is refused instead of failing each visit.
			if (!body.payment_method_types.includes("solana")) {
				throw new ApiError(
					"parameter_invalid",
					"solana needs 'solana' in payment_method_types.",
					"solana",
				);
			}
			const merchant = await getMerchant(c.env.DB, auth.merchantId);
			resolveToken(c.env, body.solana.token, merchant?.settings.accepted_tokens);
		}
		const link = await createPaymentLink(c.env.DB, auth, body);
		return c.json(toApiPaymentLink(link, c.env.PUBLIC_BASE_URL), 200);
	});

	app.openapi(retrieveLink, async (c) => {
		const link = await loadPaymentLink(c.env.DB, c.get("auth"), c.req.valid("param").id);
		return c.json(toApiPaymentLink(link, c.env.PUBLIC_BASE_URL), 200);
	});

	app.openapi(listLinks, async (c) => {
		const page = await listPaymentLinks(c.env.DB, c.get("auth"), c.req.valid("query"));
		return c.json(
			{
				object: "list" as const,
				data: page.data.map((link) => toApiPaymentLink(link, c.env.PUBLIC_BASE_URL)),
				has_more: page.has_more,
				url: "/v1/payment_links",
			},
			200,
		);
	});

	app.openapi(updateLink, async (c) => {
		const link = await updatePaymentLink(
			c.env.DB,
			c.get("auth"),
			c.req.valid("param").id,
			c.req.valid("json"),
		);
		return c.json(toApiPaymentLink(link, c.env.PUBLIC_BASE_URL), 200);
	});

	registerPaymentLinkPages(app);
}

/** The shapes these operations answer with, for their tests and clients. */
export type PaymentLinkResponse = z.infer<typeof PaymentLinkSchema>;
