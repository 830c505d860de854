import { z } from "@hono/zod-openapi";
import { notFound } from "../lib/errors";
import {
	createCustomer,
	deleteCustomer,
	getCustomer,
	listCustomers,
	updateCustomer,
} from "../services/customers";
import type { App } from "../types";
import { apiRoute, idParam } from "./define";
import {
	CreatedRangeQuerySchema,
	errorResponses,
	IdempotencyHeaderSchema,
	ListQuerySchema,
	listSchema,
	MetadataSchema,
	WalletAddressSchema,
} from "./schemas";

export const MAX_CUSTOMER_WALLETS = 10;

const CustomerFields = {
	email: z.email().max(512).nullable().optional().openapi({ example: "jenny@example.com" }),
	name: z.string().trim().min(1, "must not be empty").max(256).nullable().optional(),
	preferred_token: z.string().min(1).max(20).nullable().optional().openapi({
		description: '"SOL", "USDC" or the symbol of a configured token.',
		example: "USDC",
	}),
	wallets: z
		.array(WalletAddressSchema)
		.max(MAX_CUSTOMER_WALLETS, `at most ${MAX_CUSTOMER_WALLETS} wallets`)
		.refine((a) => new Set(a).size === a.length, { message: "must not repeat a wallet" })
		.optional()
		.openapi({ description: "Wallet addresses; on update, the full new list." }),
};

const CreateCustomerBody = z
	.object({ ...CustomerFields, metadata: MetadataSchema.optional() })
	.strict()
	.openapi("CreateCustomer");

const UpdateCustomerBody = z
	.object({
		...CustomerFields,
		metadata: MetadataSchema.optional().openapi({
			description: "Merged into the stored metadata; a key set to an empty string is removed.",
		}),
	})
	.strict()
	.openapi("UpdateCustomer");

export const CustomerSchema = z
	.object({
		id: z.string().openapi({ example: "cus_01JD4X7K3M9ZQ8W6V5T4S3R2P1N0M9" }),
		object: z.literal("customer"),
		livemode: z.boolean(),
		email: z.string().nullable(),
		name: z.string().nullable(),
		preferred_token: z.string().nullable(),
		wallets: z.array(
			z.object({
				address: z.string(),
				verified_at: z
					.number()
					.int()
					.nullable()
					.openapi({ description: "When the payer proved the wallet by signing in." }),
				added_at: z.number().int(),
			}),
		),
		metadata: z.record(z.string(), z.string()),
		created: z.number().int(),
	})
	.openapi("Customer");

const DeletedCustomerSchema = z
	.object({ id: z.string(), object: z.literal("customer"), deleted: z.literal(true) })
	.openapi("DeletedCustomer");

const CustomerIdParam = idParam("cus_01JD4X7K3M9ZQ8W6V5T4S3R2P1N0M9");

const json = <T extends z.ZodTypeAny>(schema: T) => ({ "application/json": { schema } });

const create = apiRoute({
	method: "post",
	path: "/v1/customers",
	tags: ["Customers"],
	summary: "Create a customer",
	request: {
		headers: IdempotencyHeaderSchema,
		body: { required: true, content: json(CreateCustomerBody) },
	},
	responses: {
		200: { description: "The new customer", content: json(CustomerSchema) },
		...errorResponses(400, 401, 409, 422),
	},
});

const retrieve = apiRoute({
	method: "get",
	path: "/v1/customers/{id}",
	tags: ["Customers"],
	summary: "Retrieve a customer",
	request: { params: CustomerIdParam },
	responses: {
		200: { description: "The customer", content: json(CustomerSchema) },
		...errorResponses(401, 404),
	},
});

const update = apiRoute({
	method: "post",
	path: "/v1/customers/{id}",
	tags: ["Customers"],
	summary: "Update a customer",
	request: {
		params: CustomerIdParam,
		headers: IdempotencyHeaderSchema,
		body: { required: true, content: json(UpdateCustomerBody) },
	},
	responses: {
		200: { description: "The updated customer", content: json(CustomerSchema) },
		...errorResponses(400, 401, 404, 409, 422),
	},
});

const list = apiRoute({
	method: "get",
	path: "/v1/customers",
	tags: ["Customers"],
	summary: "List customers, newest first",
	request: {
		query: ListQuerySchema.extend(CreatedRangeQuerySchema.shape).extend({
			email: z
				.string()
				.max(512)
				.optional()
				.openapi({ description: "Only customers with this email (case-insensitive)." }),
		}),
	},
	responses: {
		200: {
			description: "A page of customers",
			content: json(listSchema(CustomerSchema, "CustomerList")),
		},
		...errorResponses(400, 401),
	},
});

const remove = apiRoute({
	method: "delete",
	path: "/v1/customers/{id}",
	tags: ["Customers"],
	summary: "Delete a customer",
	description:
		"Deletes the customer and frees its wallets. Payments keep the customer's id; new payments cannot name it.",
	request: { params: CustomerIdParam },
	responses: {
		200: { description: "The deleted customer", content: json(DeletedCustomerSchema) },
		...errorResponses(401, 404),
	},
});

/** Stripe-style customers of a merchant, in one mode: another merchant's or mode's are a 404. */
export function registerCustomers(app: App): void {
	app.openapi(create, async (c) => {
		const customer = await createCustomer(c.env, c.get("auth"), c.req.valid("json"));
		return c.json(customer, 200);
	});

	app.openapi(retrieve, async (c) => {
		const { id } = c.req.valid("param");
		const customer = await getCustomer(c.env, c.get("auth"), id);
		if (!customer) throw notFound("customer", id);
		return c.json(customer, 200);
	});

	app.openapi(update, async (c) => {
		const { id } = c.req.valid("param");
		const customer = await updateCustomer(c.env, c.get("auth"), id, c.req.valid("json"));
		if (!customer) throw notFound("customer", id);
		return c.json(customer, 200);
	});

	app.openapi(list, async (c) => {
		const page = await listCustomers(c.env, c.get("auth"), c.req.valid("query"));
		return c.json({ object: "list" as const, ...page, url: "/v1/customers" }, 200);
	});

	app.openapi(remove, async (c) => {
		const { id } = c.req.valid("param");
		if (!(await deleteCustomer(c.env, c.get("auth"), id))) throw notFound("customer", id);
		return c.json({ id, object: "customer" as const, deleted: true as const }, 200);
	});
}

/** The shapes these operations answer with, for their tests and clients. */
export type CustomerResponse = z.infer<typeof CustomerSchema>;
export type DeletedCustomerResponse = z.infer<typeof DeletedCustomerSchema>;
