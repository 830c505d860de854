import { createRoute, z } from "@hono/zod-openapi";
import { getAddressEncoder, address as toAddress } from "@solana/kit";
import type { Context } from "hono";
import { recentPaymentsOfCustomer } from "../db/payments";
import { consumeSignInNonce, insertSignInNonce, openSignInChallenges } from "../db/sign-in-nonces";
import { isId, randomBase62 } from "../domain/ids";
import type { PaymentRecord } from "../domain/payment";
import {
	chainIdForCluster,
	checkSignIn,
	createSignInInput,
	formatSignInMessage,
} from "../domain/siws";
import type { Env } from "../env";
import { fromBase64 } from "../lib/crypto";
import { ApiError, notFound } from "../lib/errors";
import { errorResponses, WalletAddressSchema } from "../routes/schemas";
import { customerForVerifiedWallet, getCustomer } from "../services/customers";
import { getMerchant } from "../services/merchants";
import { paymentStub } from "../services/payments";
import type { App, AppEnv } from "../types";
import { endSession, readSession, startSession } from "./session";

/** How long a payer has to sign the challenge. */
const CHALLENGE_TTL_MS = 5 * 60 * 1000;
/** Open challenges per payment: enough for real retries, not a D1 write amplifier. */
const MAX_OPEN_CHALLENGES = 20;
/** Payments shown to a signed-in payer. */
const RECENT_PAYMENTS = 10;

const Base64Schema = z
	.string()
	.max(4096)
	.regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, "must be base64");

const SignInInputSchema = z
	.object({
		domain: z.string(),
		address: z.string(),
		statement: z.string(),
		uri: z.string(),
		version: z.literal("1"),
		chainId: z.string(),
		nonce: z.string(),
		issuedAt: z.string(),
		expirationTime: z.string(),
	})
	.openapi("SignInInput", {
		description: "The input for the wallet's `solana:signIn` feature (Wallet Standard).",
	});

const MeSchema = z
	.object({
		customer: z.object({
			id: z.string(),
			name: z.string().nullable(),
			preferred_token: z.string().nullable(),
			wallets: z.array(z.object({ address: z.string(), verified: z.boolean() })),
		}),
		payments: z.array(
			z.object({
				id: z.string(),
				amount: z.number().int(),
				currency: z.string(),
				status: z.string(),
				created: z.number().int(),
				description: z.string().nullable(),
			}),
		),
	})
	.openapi("CheckoutPayer");

const Params = z.object({ id: z.string().openapi({ param: { name: "id", in: "path" } }) });
const json = <T extends z.ZodTypeAny>(schema: T) => ({ "application/json": { schema } });
const tags = ["Checkout sign-in"];

const challenge = createRoute({
	method: "post",
	path: "/checkout/{id}/sign-in/challenge",
	tags,
	summary: "Sign In With Solana: the message for the payer's wallet to sign",
	request: {
		params: Params,
		body: {
			required: true,
			content: json(z.object({ address: WalletAddressSchema }).strict()),
		},
	},
	responses: {
		200: {
			description: "The `solana:signIn` input and the exact message text it stands for",
			content: json(z.object({ input: SignInInputSchema, message: z.string() })),
		},
		...errorResponses(400, 404, 429),
	},
});

const signIn = createRoute({
	method: "post",
	path: "/checkout/{id}/sign-in",
	tags,
	summary: "Sign In With Solana: verify the signed message and start a payer session",
	description:
		"Sets the `sp_session` cookie (HttpOnly, Secure, SameSite=Lax, Path=/checkout, 12 hours).",
	request: {
		params: Params,
		body: {
			required: true,
			content: json(
				z
					.object({
						address: WalletAddressSchema,
						signed_message: Base64Schema.openapi({
							description: "Base64 of the exact bytes the wallet signed.",
						}),
						signature: Base64Schema.refine((v) => v.length === 88, {
							message: "must be a base64 ed25519 signature (64 bytes)",
						}),
					})
					.strict(),
			),
		},
	},
	responses: {
		200: { description: "The signed-in payer", content: json(MeSchema) },
		...errorResponses(400, 401, 404),
	},
});

const me = createRoute({
	method: "get",
	path: "/checkout/{id}/me",
	tags,
	summary: "The signed-in payer at this payment's merchant: wallets and recent payments",
	request: { params: Params },
	responses: {
		200: { description: "The signed-in payer", content: json(MeSchema) },
		...errorResponses(401, 404),
	},
});

const signOut = createRoute({
	method: "post",
	path: "/checkout/{id}/sign-out",
	tags,
	summary: "End the payer session",
	request: { params: Params },
	responses: { 204: { description: "Signed out; the cookie is cleared" } },
});

/** The payment behind a checkout link: it gives the merchant and mode every call acts in. */
async function checkoutPayment(env: Env, id: string): Promise<PaymentRecord> {
	const payment = isId("payment", id) ? await paymentStub(env, id).get() : null;
	if (!payment) throw notFound("payment", id);
	return payment;
}

function paymentOwner(payment: PaymentRecord) {
	return { merchantId: payment.merchant_id, livemode: payment.livemode };
}

/** The wallet's message must read as the payer expects: no line breaks from a merchant name. */
function statementFor(merchantName: string | undefined): string {
	const name = (merchantName ?? "").replace(/\s+/g, " ").trim().slice(0, 100);
	return `Sign in to pay ${name || "this merchant"} with this wallet and see your past payments. This sends no transaction and costs nothing.`;
}

async function payerView(env: Env, payment: PaymentRecord, customerId: string, wallet: string) {
	const owner = paymentOwner(payment);
	const customer = await getCustomer(env, owner, customerId);
	// A deleted customer, or a wallet the merchant has since removed, ends the session.
	if (!customer?.wallets.some((w) => w.address === wallet)) return null;
	const results = await recentPaymentsOfCustomer(env.DB, owner, customerId, RECENT_PAYMENTS);
	return {
		// No email: the page is public to whoever holds the link and the cookie.
		customer: {
			id: customer.id,
			name: customer.name,
			preferred_token: customer.preferred_token,
			wallets: customer.wallets.map((w) => ({
				address: w.address,
				verified: w.verified_at !== null,
			})),
		},
		payments: results.map((row) => {
			const p = JSON.parse(row.data) as Pick<
				PaymentRecord,
				"id" | "amount" | "currency" | "status" | "created" | "description"
			>;
			return {
				id: p.id,
				amount: p.amount,
				currency: p.currency,
				status: p.status,
				created: p.created,
				description: p.description,
			};
		}),
	};
}

function noStore(c: Context<AppEnv>): void {
	c.header("Cache-Control", "no-store");
}

/**
 * Payer sign-in on the checkout with Sign In With Solana. Every call is authorised by the
 * payment's unguessable id, which also fixes the merchant and mode the payer signs in at.
 */
export function registerCheckoutSignIn(app: App): void {
	app.openapi(challenge, async (c) => {
		const { id } = c.req.valid("param");
		const { address } = c.req.valid("json");
		const payment = await checkoutPayment(c.env, id);
		const now = Date.now();
		const nowS = Math.floor(now / 1000);
		const db = c.env.DB;
		if ((await openSignInChallenges(db, id, nowS)) >= MAX_OPEN_CHALLENGES) {
			throw new ApiError(
				"rate_limited",
				"Too many sign-in requests for this payment; retry later.",
			);
		}
		const merchant = await getMerchant(db, payment.merchant_id);
		const base = new URL(c.env.PUBLIC_BASE_URL);
		const input = createSignInInput({
			domain: base.host,
			address,
			statement: statementFor(merchant?.name),
			uri: new URL(`/checkout/${id}`, base).toString(),
			chainId: chainIdForCluster(c.env.SOLANA_CLUSTER),
			// 22 base62 characters: about 131 bits, and alphanumeric as the format requires.
			nonce: randomBase62(22),
			now,
			ttlMs: CHALLENGE_TTL_MS,
		});
		await insertSignInNonce(db, {
			nonce: input.nonce,
			paymentId: id,
			merchantId: payment.merchant_id,
			livemode: payment.livemode,
			address,
			issuedAt: nowS,
			expiresAt: Math.floor((now + CHALLENGE_TTL_MS) / 1000),
		});
		noStore(c);
		return c.json({ input, message: formatSignInMessage(input) }, 200);
	});

	app.openapi(signIn, async (c) => {
		const { id } = c.req.valid("param");
		const body = c.req.valid("json");
		const payment = await checkoutPayment(c.env, id);
		const owner = paymentOwner(payment);
		const now = Date.now();
		const check = await checkSignIn({
			signedMessage: fromBase64(body.signed_message),
			signature: fromBase64(body.signature),
			publicKey: new Uint8Array(getAddressEncoder().encode(toAddress(body.address))),
			expected: {
				domain: new URL(c.env.PUBLIC_BASE_URL).host,
				address: body.address,
				chainId: chainIdForCluster(c.env.SOLANA_CLUSTER),
			},
			now,
		});
		if (!check.ok) throw new ApiError("sign_in_invalid", check.message);
		// Consumed in one statement, after the signature is known good: a replay, a nonce issued
		// elsewhere or an expired one finds no row, and a forged attempt cannot burn a nonce.
		const consumed = await consumeSignInNonce(
			c.env.DB,
			{ nonce: check.fields.nonce, ...owner, address: body.address },
			Math.floor(now / 1000),
		);
		if (!consumed) {
			throw new ApiError(
				"sign_in_invalid",
				"This sign-in request was already used, has expired or was not issued here; request a new one.",
			);
		}
		const customerId = await customerForVerifiedWallet(c.env, owner, body.address);
		await startSession(c, {
			customer: customerId,
			merchant: owner.merchantId,
			livemode: owner.livemode,
			wallet: body.address,
		});
		const view = await payerView(c.env, payment, customerId, body.address);
		if (!view)
			throw new ApiError("sign_in_invalid", "The wallet's customer changed; sign in again.");
		noStore(c);
		return c.json(view, 200);
	});

	app.openapi(me, async (c) => {
		const payment = await checkoutPayment(c.env, c.req.valid("param").id);
		const session = await readSession(c);
		// Read-only: viewing a payment signed in never attaches the payer to it.
		const view =
			session && session.merchant === payment.merchant_id && session.livemode === payment.livemode
				? await payerView(c.env, payment, session.customer, session.wallet)
				: null;
		if (!view) throw new ApiError("session_required", "Sign in with your wallet first.");
		noStore(c);
		return c.json(view, 200);
	});

	// Works whatever the payment: signing out must never depend on the link still resolving.
	app.openapi(signOut, async (c) => {
		await endSession(c);
		return c.body(null, 204);
	});
}
