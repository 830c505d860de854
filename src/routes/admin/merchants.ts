import { z } from "@hono/zod-openapi";
import { ApiError, notFound } from "../../lib/errors";
import { audit } from "../../services/audit";
import {
	type ApiKeyJson,
	createKey,
	createMerchant,
	getMerchant,
	type KeyChange,
	keyChangeRefusal,
	listKeys,
	MAX_ROLL_GRACE_SECONDS,
	revokeKey,
	rollKey,
	updateMerchant,
} from "../../services/merchants";
import type { App } from "../../types";
import { adminRoute, jsonBody, optionalJsonBody } from "../define";
import { errorResponses, IdempotencyHeaderSchema, MetadataSchema } from "../schemas";
import { ConversionSettingsShape } from "../settings";
import { adminInvite, CreatedInvitationSchema } from "./invitations";

const MerchantSettingsSchema = z
	.object({
		accepted_tokens: z
			.array(z.string().min(1).max(44))
			.min(1, "must accept at least one token")
			.max(20)
			.optional()
			.openapi({
				description: "Tokens accepted, by symbol or mint. Default: every configured token.",
				example: ["USDC", "SOL"],
			}),
		solana_finalized_above: z.number().int().nonnegative().optional().openapi({
			description: "Crypto payments above this many minor units wait for `finalized`.",
		}),
		...ConversionSettingsShape,
	})
	.strict()
	.openapi("MerchantSettings");

/** What an operator sets on a merchant: all of it on create, any of it on update. */
const MerchantInput = z
	.object({
		name: z.string().trim().min(1, "must not be empty").max(200),
		email: z.email().optional(),
		metadata: MetadataSchema.optional(),
		settings: MerchantSettingsSchema.optional(),
	})
	.strict();

const MerchantSchema = z
	.object({
		id: z.string().openapi({ example: "mch_01JD4X7K3M9ZQ8W6V5T4S3R2P1N0M9" }),
		object: z.literal("merchant"),
		name: z.string(),
		email: z.string().nullable(),
		metadata: z.record(z.string(), z.string()),
		settings: MerchantSettingsSchema,
		created: z.number().int(),
	})
	.openapi("Merchant");

const ApiKeySchema = z
	.object({
		id: z.string(),
		object: z.literal("api_key"),
		type: z.enum(["secret", "publishable"]),
		livemode: z.boolean(),
		redacted: z.string().openapi({ example: "sk_test_…a1B2" }),
		created: z.number().int(),
		expires_at: z.number().int().nullable(),
		revoked_at: z.number().int().nullable(),
		rolled_to: z.string().nullable(),
		last_used_at: z.number().int().nullable(),
		secret: z
			.string()
			.optional()
			.openapi({ description: "The full key: returned once, when created." }),
	})
	.openapi("ApiKey");

const MerchantParam = z.object({ id: z.string().openapi({ param: { name: "id", in: "path" } }) });
const KeyParam = MerchantParam.extend({
	key: z.string().openapi({ param: { name: "key", in: "path" } }),
});
const tags = ["Admin"];
const json = <T extends z.ZodTypeAny>(schema: T, description: string) => ({
	description,
	content: { "application/json": { schema } },
});

const create = adminRoute({
	method: "post",
	path: "/admin/v1/merchants",
	tags,
	summary: "Create a merchant and its API keys (and, with owner_email, its owner's invitation)",
	request: {
		headers: IdempotencyHeaderSchema,
		body: jsonBody(
			MerchantInput.extend({
				owner_email: z.email().max(254).optional().openapi({
					description:
						"Invites this person as the merchant's first owner in the same call: the answer's `owner_invitation` is what POST /admin/v1/merchants/{id}/invitations answers (its one-time `url` shown once).",
					example: "ana@acme.example",
				}),
			}),
		),
	},
	responses: {
		201: json(
			z.object({
				merchant: MerchantSchema,
				keys: z.array(ApiKeySchema),
				owner_invitation: CreatedInvitationSchema.optional().openapi({
					description: "Only with `owner_email`: the owner's invitation and its link.",
				}),
			}),
			"The merchant and its keys (and the owner's invitation)",
		),
		...errorResponses(400, 401, 409, 422),
	},
});

const retrieve = adminRoute({
	method: "get",
	path: "/admin/v1/merchants/{id}",
	tags,
	summary: "Retrieve a merchant",
	request: { params: MerchantParam },
	responses: { 200: json(MerchantSchema, "The merchant"), ...errorResponses(401, 404) },
});

const update = adminRoute({
	method: "post",
	path: "/admin/v1/merchants/{id}",
	tags,
	summary: "Update a merchant's name, email, metadata or settings",
	request: {
		params: MerchantParam,
		headers: IdempotencyHeaderSchema,
		body: jsonBody(MerchantInput.partial()),
	},
	responses: { 200: json(MerchantSchema, "The merchant"), ...errorResponses(400, 401, 404, 422) },
});

const keys = adminRoute({
	method: "get",
	path: "/admin/v1/merchants/{id}/keys",
	tags,
	summary: "List a merchant's API keys (redacted)",
	request: { params: MerchantParam },
	responses: {
		200: json(
			z.object({ object: z.literal("list"), data: z.array(ApiKeySchema), has_more: z.boolean() }),
			"Keys",
		),
		...errorResponses(401, 404),
	},
});

const createKeyRoute = adminRoute({
	method: "post",
	path: "/admin/v1/merchants/{id}/keys",
	tags,
	summary: "Create an additional API key",
	request: {
		params: MerchantParam,
		headers: IdempotencyHeaderSchema,
		body: jsonBody(
			z.object({ type: z.enum(["secret", "publishable"]), livemode: z.boolean() }).strict(),
		),
	},
	responses: {
		201: json(ApiKeySchema, "The new key, with its secret"),
		...errorResponses(400, 401, 404, 422),
	},
});

const roll = adminRoute({
	method: "post",
	path: "/admin/v1/merchants/{id}/keys/{key}/roll",
	tags,
	summary: "Roll a key: a new key now, the old one valid for a grace period",
	request: {
		params: KeyParam,
		headers: IdempotencyHeaderSchema,
		body: optionalJsonBody(
			z
				.object({
					expires_in: z
						.number()
						.int()
						.min(0)
						.max(MAX_ROLL_GRACE_SECONDS, "must be at most 604800 seconds (7 days)")
						.default(24 * 60 * 60)
						.openapi({ description: "Seconds the old key keeps working (default 86400)." }),
				})
				.strict(),
		),
	},
	responses: {
		200: json(
			z.object({ key: ApiKeySchema, previous: ApiKeySchema }),
			"The new key and the rolled one",
		),
		...errorResponses(400, 401, 404, 409, 422),
	},
});

const revoke = adminRoute({
	method: "post",
	path: "/admin/v1/merchants/{id}/keys/{key}/revoke",
	tags,
	summary: "Revoke a key at once",
	request: { params: KeyParam, headers: IdempotencyHeaderSchema },
	responses: { 200: json(ApiKeySchema, "The revoked key"), ...errorResponses(401, 404, 422) },
});

function unwrapKeyChange<T>(change: KeyChange<T>, keyId: string): T {
	if (change.ok) return change.value;
	if (change.reason === "not_found") throw notFound("API key", keyId, "key");
	throw new ApiError("resource_conflict", keyChangeRefusal(change, keyId));
}

const ADMIN_ACTOR = { type: "admin", id: null } as const;

/** Records a key change in the log of the key's mode: ids and the redacted key, never the key. */
function auditKeyChangeByAdmin(
	env: { DB: D1Database },
	merchantId: string,
	verb: "created" | "rolled" | "revoked",
	key: ApiKeyJson,
	extra: Record<string, unknown> = {},
) {
	return audit(env, {
		merchant_id: merchantId,
		livemode: key.livemode,
		action: `api_key.${verb}`,
		actor: ADMIN_ACTOR,
		object_id: key.id,
		details: { type: key.type, redacted: key.redacted, ...extra },
	});
}

async function requireMerchant(db: D1Database, id: string) {
	const merchant = await getMerchant(db, id);
	if (!merchant) throw notFound("merchant", id);
	return merchant;
}

export function registerAdminMerchants(app: App): void {
	app.openapi(create, async (c) => {
		const { owner_email: ownerEmail, ...input } = c.req.valid("json");
		const created = await createMerchant(c.env.DB, input);
		for (const key of created.keys)
			await auditKeyChangeByAdmin(c.env, created.merchant.id, "created", key);
		if (ownerEmail === undefined) return c.json(created, 201);
		const invitation = await adminInvite(c.env, created.merchant, ownerEmail, "owner");
		return c.json({ ...created, owner_invitation: invitation }, 201);
	});

	app.openapi(retrieve, async (c) =>
		c.json(await requireMerchant(c.env.DB, c.req.valid("param").id), 200),
	);

	app.openapi(update, async (c) => {
		const { id } = c.req.valid("param");
		await requireMerchant(c.env.DB, id);
		const patch = c.req.valid("json");
		const merchant = await updateMerchant(c.env.DB, id, patch);
		if (!merchant) throw notFound("merchant", id);
		const fields = Object.keys(patch).filter((k) => patch[k as keyof typeof patch] !== undefined);
		if (fields.length > 0) {
			// Merchant fields and settings apply to both modes, so both modes' logs show the change.
			for (const livemode of [false, true]) {
				await audit(c.env, {
					merchant_id: id,
					livemode,
					action: "merchant.updated",
					actor: ADMIN_ACTOR,
					object_id: id,
					details: { fields, ...(patch.settings ? { settings: patch.settings } : {}) },
				});
			}
		}
		return c.json(merchant, 200);
	});

	app.openapi(keys, async (c) => {
		const { id } = c.req.valid("param");
		await requireMerchant(c.env.DB, id);
		return c.json(
			{ object: "list" as const, data: await listKeys(c.env.DB, id), has_more: false },
			200,
		);
	});

	app.openapi(createKeyRoute, async (c) => {
		const { id } = c.req.valid("param");
		const body = c.req.valid("json");
		await requireMerchant(c.env.DB, id);
		const key = await createKey(c.env.DB, id, body.type, body.livemode);
		await auditKeyChangeByAdmin(c.env, id, "created", key);
		return c.json(key, 201);
	});

	app.openapi(roll, async (c) => {
		const { id, key } = c.req.valid("param");
		const grace = c.req.valid("json")?.expires_in ?? 24 * 60 * 60;
		const rolled = unwrapKeyChange(await rollKey(c.env.DB, id, key, grace), key);
		await auditKeyChangeByAdmin(c.env, id, "rolled", rolled.previous, {
			rolled_to: rolled.key.id,
			expires_at: rolled.previous.expires_at,
		});
		return c.json(rolled, 200);
	});

	app.openapi(revoke, async (c) => {
		const { id, key } = c.req.valid("param");
		const revoked = unwrapKeyChange(await revokeKey(c.env.DB, id, key), key);
		await auditKeyChangeByAdmin(c.env, id, "revoked", revoked);
		return c.json(revoked, 200);
	});
}

/** The shapes these operations answer with, for their tests and clients. */
export type MerchantResponse = z.infer<typeof MerchantSchema>;
export type ApiKeyResponse = z.infer<typeof ApiKeySchema>;
