import { z } from "@hono/zod-openapi";
import { ROLES, type Role } from "../../domain/roles";
import type { Env } from "../../env";
import { notFound } from "../../lib/errors";
import { auditAccount } from "../../services/audit";
import { createInvitation } from "../../services/invitations";
import { getMerchant } from "../../services/merchants";
import type { App } from "../../types";
import { adminRoute, jsonBody } from "../define";
import { errorResponses, IdempotencyHeaderSchema } from "../schemas";

const InvitationSchema = z
	.object({
		id: z.string().openapi({ example: "inv_01JD4X7K3M9ZQ8W6V5T4S3R2P1" }),
		object: z.literal("invitation"),
		email: z.string(),
		role: z.enum(ROLES),
		invited_by: z.string(),
		created: z.number().int(),
		expires_at: z.number().int(),
		accepted_at: z.number().int().nullable(),
		revoked_at: z.number().int().nullable(),
	})
	.openapi("Invitation");

/** An invitation as the admin API answers it: with its one-time link, and whether it was emailed. */
export const CreatedInvitationSchema = z
	.object({
		invitation: InvitationSchema,
		url: z.string().openapi({
			description: "The single-use link (its secret is the fragment), shown once.",
		}),
		emailed: z.boolean().openapi({ description: "Whether SEND_EMAIL sent it." }),
	})
	.openapi("CreatedInvitation");

export type CreateInvitationResponse = z.infer<typeof CreatedInvitationSchema>;

/**
 * Invites `email` as `role` to the merchant for the operator, and records it in the audit log.
 * Used by this route and by creating a merchant with an `owner_email`.
 */
export async function adminInvite(
	env: Env,
	merchant: { id: string; name: string },
	email: string,
	role: Role,
): Promise<CreateInvitationResponse> {
	const created = await createInvitation(env, {
		merchantId: merchant.id,
		merchantName: merchant.name,
		email,
		role,
		invitedBy: "admin",
	});
	await auditAccount(env, {
		merchant_id: merchant.id,
		action: "invitation.created",
		actor: { type: "admin", id: "admin" },
		object_id: created.invitation.id,
		details: { email: created.invitation.email, role, emailed: created.emailed },
	});
	return created;
}

const create = adminRoute({
	method: "post",
	path: "/admin/v1/merchants/{id}/invitations",
	tags: ["Admin"],
	summary: "Invite a person to a merchant's dashboard team (e.g. its first owner)",
	description:
		"A single-use link, valid 7 days, in `url` (shown once: only its hash is stored). It is emailed through the SEND_EMAIL binding when configured (`emailed`).",
	request: {
		params: z.object({ id: z.string().openapi({ param: { name: "id", in: "path" } }) }),
		headers: IdempotencyHeaderSchema,
		body: jsonBody(
			z
				.object({
					email: z.email().max(254),
					role: z.enum(ROLES).default("owner"),
				})
				.strict(),
		),
	},
	responses: {
		201: {
			description: "The invitation and its link",
			content: {
				"application/json": {
					schema: CreatedInvitationSchema,
				},
			},
		},
		...errorResponses(400, 401, 404, 422),
	},
});

export function registerAdminInvitations(app: App): void {
	app.openapi(create, async (c) => {
		const { id } = c.req.valid("param");
		const body = c.req.valid("json");
		const merchant = await getMerchant(c.env.DB, id);
		if (!merchant) throw notFound("merchant", id);
		const created = await adminInvite(c.env, merchant, body.email, body.role);
		return c.json(created satisfies CreateInvitationResponse, 201);
	});
}

/** The shapes these operations answer with, for their tests and clients. */
export type CreatedInvitationResponse = z.infer<typeof CreatedInvitationSchema>;
