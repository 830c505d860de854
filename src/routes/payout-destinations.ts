import { z } from "@hono/zod-openapi";
import { html } from "hono/html";
import { destinationById } from "../db/payout-destinations";
import { isId } from "../domain/ids";
import { ownerOf } from "../domain/owner";
import {
	PAYOUT_DESTINATION_STATUSES,
	PAYOUT_DESTINATION_TYPES,
	toApiDestination,
} from "../domain/payout-destination";
import { ApiError, notFound } from "../lib/errors";
import type { AuditActor } from "../services/audit";
import {
	addWalletDestination,
	createProofChallenge,
	listPayoutDestinations,
	loadDestination,
	makeDefaultDestination,
	removePayoutDestination,
} from "../services/payout-destinations";
import {
	addStripeDestination,
	checkOnboardingToken,
	onboardingLink,
	syncStripeDestination,
} from "../services/payout-destinations-connect";
import type { App, AuthContext } from "../types";
import { apiRoute, idParam } from "./define";
import {
	errorResponses,
	IdempotencyHeaderSchema,
	listSchema,
	WalletAddressSchema,
} from "./schemas";

const ChallengeBody = z
	.object({ address: WalletAddressSchema })
	.strict()
	.openapi("CreatePayoutDestinationChallenge");

const ChallengeSchema = z
	.object({
		object: z.literal("payout_destination_challenge"),
		address: z.string(),
		nonce: z.string(),
		message: z.string().openapi({
			description: "The exact text for the wallet to sign (its UTF-8 bytes, `signMessage`).",
		}),
		expires_at: z.number().int(),
	})
	.openapi("PayoutDestinationChallenge");

/** The body of POST /v1/payout_destinations; the dashboard's forms are checked by it too. */
export const CreatePayoutDestinationBody = z
	.discriminatedUnion("type", [
		z
			.object({
				type: z.literal("solana_wallet"),
				address: WalletAddressSchema,
				message: z.string().min(1).max(2000).openapi({
					description: "The challenge's message, exactly as issued.",
				}),
				signature: z.string().min(1).max(200).openapi({
					description:
						"The wallet's ed25519 signature of the message's UTF-8 bytes, base58 or base64.",
				}),
			})
			.strict(),
		z.object({ type: z.literal("stripe_account") }).strict(),
	])
	.openapi("CreatePayoutDestination");

const UpdateBody = z
	.object({
		default: z.literal(true).openapi({
			description:
				"Makes it the default of its type. In live mode it then cools off again before receiving a payout.",
		}),
	})
	.strict()
	.openapi("UpdatePayoutDestination");

export const PayoutDestinationSchema = z
	.object({
		id: z.string().openapi({ example: "pd_01JD4X7K3M9ZQ8W6V5T4S3R2P1N0M9" }),
		object: z.literal("payout_destination"),
		type: z.enum(PAYOUT_DESTINATION_TYPES),
		address: z.string().nullable().openapi({ description: "The wallet (solana_wallet)." }),
		stripe_account: z.string().nullable().openapi({ description: "acct_… (stripe_account)." }),
		status: z.enum(PAYOUT_DESTINATION_STATUSES),
		default: z.boolean(),
		usable_after: z.number().int().openapi({
			description:
				"No payout is sent to it before this time (live mode's cooling-off period after it was added or made default).",
		}),
		livemode: z.boolean(),
		created: z.number().int(),
		removed: z.number().int().nullable(),
		onboarding_url: z.string().optional().openapi({
			description: "stripe_account, on creation: where the merchant completes Stripe onboarding.",
		}),
	})
	.openapi("PayoutDestination");

const IdParam = idParam("pd_01JD4X7K3M9ZQ8W6V5T4S3R2P1N0M9");

/** Destinations listed at most (newest first). */
const LIST_LIMIT = 100;

const tags = ["Payout destinations"];
const json = <T extends z.ZodTypeAny>(schema: T) => ({ "application/json": { schema } });
const destinationResponse = (description: string) => ({
	description,
	content: json(PayoutDestinationSchema),
});

const createChallenge = apiRoute({
	method: "post",
	path: "/v1/payout_destinations/challenges",
	tags,
	summary: "Issue a message for a wallet to sign, proving it may receive payouts",
	request: {
		headers: IdempotencyHeaderSchema,
		body: { required: true, content: json(ChallengeBody) },
	},
	responses: {
		200: { description: "The message to sign", content: json(ChallengeSchema) },
		...errorResponses(400, 401, 429),
	},
});

const createDestination = apiRoute({
	method: "post",
	path: "/v1/payout_destinations",
	tags,
	summary:
		"Add a payout destination: a wallet with its signed proof, or a Stripe connected account",
	request: {
		headers: IdempotencyHeaderSchema,
		body: { required: true, content: json(CreatePayoutDestinationBody) },
	},
	responses: {
		200: destinationResponse("The new destination (and, for Stripe, its onboarding URL)"),
		...errorResponses(400, 401, 409, 422),
	},
});

const listRoute = apiRoute({
	method: "get",
	path: "/v1/payout_destinations",
	tags,
	summary: "List payout destinations, newest first",
	request: {
		query: z.object({
			include_removed: z.enum(["true", "false"]).optional(),
		}),
	},
	responses: {
		200: {
			description: "The destinations (at most 100)",
			content: json(listSchema(PayoutDestinationSchema, "PayoutDestinationList")),
		},
		...errorResponses(400, 401),
	},
});

const retrieveRoute = apiRoute({
	method: "get",
	path: "/v1/payout_destinations/{id}",
	tags,
	summary: "Retrieve a payout destination (a connected account's status is read from Stripe)",
	request: { params: IdParam },
	responses: { 200: destinationResponse("The destination"), ...errorResponses(401, 404) },
});

const updateRoute = apiRoute({
	method: "post",
	path: "/v1/payout_destinations/{id}",
	tags,
	summary: "Make a payout destination the default of its type",
	request: {
		params: IdParam,
		headers: IdempotencyHeaderSchema,
		body: { required: true, content: json(UpdateBody) },
	},
	responses: {
		200: destinationResponse("The destination"),
		...errorResponses(400, 401, 404, 409, 422),
	},
});

const deleteRoute = apiRoute({
	method: "delete",
	path: "/v1/payout_destinations/{id}",
	tags,
	summary: "Remove a payout destination (refused while a pending or in-transit payout uses it)",
	request: { params: IdParam },
	responses: {
		200: destinationResponse("The removed destination"),
		...errorResponses(401, 404, 409),
	},
});

const onboardingLinkRoute = apiRoute({
	method: "post",
	path: "/v1/payout_destinations/{id}/onboarding_link",
	tags,
	summary: "A fresh Stripe onboarding URL for a connected account destination",
	request: { params: IdParam, headers: IdempotencyHeaderSchema },
	responses: {
		200: {
			description: "The onboarding URL",
			content: json(
				z.object({
					object: z.literal("onboarding_link"),
					url: z.string(),
					destination: z.string(),
				}),
			),
		},
		...errorResponses(400, 401, 404, 409),
	},
});

/** The actor of a change made with an API key. */
export function apiActor(auth: AuthContext): AuditActor {
	return { type: "api_key", id: auth.keyId };
}

function checkId(id: string): void {
	if (!isId("payoutDestination", id)) throw notFound("payout destination", id);
}

/** `/v1/payout_destinations` and the pages Stripe's onboarding returns to. */
export function registerPayoutDestinations(app: App): void {
	app.openapi(createChallenge, async (c) => {
		const challenge = await createProofChallenge(
			c.env,
			ownerOf(c.get("auth")),
			c.req.valid("json").address,
		);
		c.header("Cache-Control", "no-store");
		return c.json(challenge, 200);
	});

	app.openapi(createDestination, async (c) => {
		const body = c.req.valid("json");
		const auth = c.get("auth");
		if (body.type === "solana_wallet") {
			const row = await addWalletDestination(c.env, ownerOf(auth), apiActor(auth), body);
			return c.json(toApiDestination(row), 200);
		}
		const { destination, onboardingUrl } = await addStripeDestination(
			c.env,
			ownerOf(auth),
			apiActor(auth),
		);
		return c.json({ ...toApiDestination(destination), onboarding_url: onboardingUrl }, 200);
	});

	app.openapi(listRoute, async (c) => {
		const rows = await listPayoutDestinations(c.env, ownerOf(c.get("auth")), {
			includeRemoved: c.req.valid("query").include_removed === "true",
			limit: LIST_LIMIT + 1,
		});
		return c.json(
			{
				object: "list" as const,
				data: rows.slice(0, LIST_LIMIT).map(toApiDestination),
				// Only removed ones can pass the limit: the live ones are capped (MAX_DESTINATIONS).
				has_more: rows.length > LIST_LIMIT,
				url: "/v1/payout_destinations",
			},
			200,
		);
	});

	app.openapi(retrieveRoute, async (c) => {
		const { id } = c.req.valid("param");
		checkId(id);
		let row = await loadDestination(c.env, ownerOf(c.get("auth")), id);
		if (row.status === "onboarding") row = await syncStripeDestination(c.env, row);
		return c.json(toApiDestination(row), 200);
	});

	app.openapi(updateRoute, async (c) => {
		const { id } = c.req.valid("param");
		checkId(id);
		const auth = c.get("auth");
		const row = await makeDefaultDestination(c.env, ownerOf(auth), apiActor(auth), id);
		return c.json(toApiDestination(row), 200);
	});

	app.openapi(deleteRoute, async (c) => {
		const { id } = c.req.valid("param");
		checkId(id);
		const auth = c.get("auth");
		const row = await removePayoutDestination(c.env, ownerOf(auth), apiActor(auth), id);
		return c.json(toApiDestination(row), 200);
	});

	app.openapi(onboardingLinkRoute, async (c) => {
		const { id } = c.req.valid("param");
		checkId(id);
		const row = await loadDestination(c.env, ownerOf(c.get("auth")), id);
		const url = await onboardingLink(c.env, row);
		return c.json({ object: "onboarding_link" as const, url, destination: row.id }, 200);
	});

	// Stripe sends the merchant's browser back here; the URLs are signed by the gateway, as a fresh
	// onboarding link lets whoever holds it choose where the merchant's money goes.
	app.get("/payout_destinations/:id/onboarding/:step{return|refresh}", async (c) => {
		const id = c.req.param("id");
		const expires = Number(c.req.query("expires"));
		const token = c.req.query("token") ?? "";
		if (
			!isId("payoutDestination", id) ||
			!(await checkOnboardingToken(c.env, id, expires, token))
		) {
			throw new ApiError(
				"parameter_invalid",
				"This onboarding link is invalid or has expired; start again from the dashboard.",
			);
		}
		const destination = await destinationById(c.env.DB, id);
		if (!destination) throw notFound("payout destination", id);
		c.header("Cache-Control", "no-store");
		if (c.req.param("step") === "refresh") {
			return c.redirect(await onboardingLink(c.env, destination), 303);
		}
		const synced = await syncStripeDestination(c.env, destination);
		const dashboard = new URL("/dashboard/payouts", c.env.PUBLIC_BASE_URL).toString();
		const state =
			synced.status === "active"
				? "Stripe says this account can receive payouts."
				: "Stripe has not finished checking this account yet; its status updates by itself.";
		return c.html(
			html`<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Payout account</title></head><body><h1>Stripe onboarding</h1><p>${state}</p><p><a href="${dashboard}">Back to payouts</a></p></body></html>`,
		);
	});
}

/** The shapes these operations answer with, for their tests and clients. */
export type ChallengeResponse = z.infer<typeof ChallengeSchema>;
export type PayoutDestinationResponse = z.infer<typeof PayoutDestinationSchema>;
