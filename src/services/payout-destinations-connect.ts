import type Stripe from "stripe";
import { createServices } from "../context";
import {
	addDestination,
	destinationByStripeAccount,
	setStripeDestinationStatus,
} from "../db/payout-destinations";
import { newId } from "../domain/ids";
import type { Owner } from "../domain/owner";
import type { PayoutDestinationRow } from "../domain/payout-destination";
import type { Env } from "../env";
import { timingSafeEqualText } from "../lib/crypto";
import { ApiError } from "../lib/errors";
import { log } from "../lib/log";
import { stripeConfigured } from "../processors/stripe/client";
import type { AuditActor } from "./audit";
import { publishEvents } from "./events";
import { announcement, checkDestinationRoom, newDestinationRow } from "./payout-destinations";

/**
 * Fiat payout destinations: Stripe Connect Express accounts, onboarded through Stripe's account
 * links. The return and refresh URLs point at the gateway, signed, because an onboarding link lets
 * whoever holds it enter the bank account payouts go to.
 */

/** How long the gateway's return and refresh URLs stay valid (Stripe's own link lasts minutes). */
const ONBOARDING_URL_TTL_SECONDS = 7 * 24 * 60 * 60;

const nowSeconds = () => Math.floor(Date.now() / 1000);

function requireStripe(env: Env) {
	if (!stripeConfigured(env)) {
		throw new ApiError(
			"parameter_invalid",
			"Stripe is not configured on this gateway: fiat payout destinations are unavailable.",
			"type",
		);
	}
	return createServices(env).stripe();
}

function processorError(error: unknown): ApiError {
	const message = error instanceof Error ? error.message : String(error);
	return new ApiError("processor_error", `Stripe refused the request: ${message}`);
}

/** Whether Stripe lets the connected account receive transfers. */
export function canReceiveTransfers(account: Stripe.Account): boolean {
	return account.capabilities?.transfers === "active";
}

/**
 * Creates an Express connected account and its destination (`onboarding`); the caller sends the
 * merchant to `onboardingUrl` next. The account is created with an idempotency key derived from
 * the destination id, so an SDK retry never makes a second account.
 */
export async function addStripeDestination(
	env: Env,
	owner: Owner,
	actor: AuditActor,
): Promise<{ destination: PayoutDestinationRow; onboardingUrl: string }> {
	const stripe = requireStripe(env);
	await checkDestinationRoom(env, owner);
	const id = newId("payoutDestination");
	let account: Stripe.Account;
	try {
		account = await stripe.accounts.create(
			{
				type: "express",
				capabilities: { transfers: { requested: true } },
				metadata: {
					merchant_id: owner.merchantId,
					payout_destination: id,
					livemode: String(owner.livemode),
				},
			},
			{ idempotencyKey: `payout-destination-${id}` },
		);
	} catch (error) {
		throw processorError(error);
	}
	const now = nowSeconds();
	const row = await newDestinationRow(env, owner, now, {
		id,
		type: "stripe_account",
		address: null,
		stripe_account_id: account.id,
		status: canReceiveTransfers(account) ? "active" : "onboarding",
	});
	const { statements, event } = announcement(env, actor, row, "created");
	await addDestination(env.DB, row, statements);
	await publishEvents(env, [event]);
	return { destination: row, onboardingUrl: await onboardingLink(env, row) };
}

/** A fresh Stripe onboarding link for a connected account destination. */
export async function onboardingLink(env: Env, row: PayoutDestinationRow): Promise<string> {
	if (row.type !== "stripe_account" || !row.stripe_account_id) {
		throw new ApiError("parameter_invalid", "Only Stripe account destinations onboard.", "id");
	}
	if (row.status === "removed") {
		throw new ApiError("resource_conflict", "This payout destination was removed.", "id");
	}
	const stripe = requireStripe(env);
	const base = env.PUBLIC_BASE_URL.replace(/\/$/, "");
	const expires = nowSeconds() + ONBOARDING_URL_TTL_SECONDS;
	const token = await onboardingToken(env, row.id, expires);
	const query = `expires=${expires}&token=${token}`;
	try {
		const link = await stripe.accountLinks.create({
			account: row.stripe_account_id,
			type: "account_onboarding",
			refresh_url: `${base}/payout_destinations/${row.id}/onboarding/refresh?${query}`,
			return_url: `${base}/payout_destinations/${row.id}/onboarding/return?${query}`,
		});
		return link.url;
	} catch (error) {
		throw processorError(error);
	}
}

/**
 * Re-reads the connected account from Stripe and follows it (after onboarding returns, on GET,
 * and on `account.updated`); announces a change of status. Returns the row as it now is.
 */
export async function syncStripeDestination(
	env: Env,
	row: PayoutDestinationRow,
): Promise<PayoutDestinationRow> {
	if (row.type !== "stripe_account" || !row.stripe_account_id || row.status === "removed") {
		return row;
	}
	let account: Stripe.Account;
	try {
		account = await requireStripe(env).accounts.retrieve(row.stripe_account_id);
	} catch (error) {
		// A read that fails leaves the status as it was; the next GET or webhook tries again.
		log("warn", "connected account read failed", {
			destination: row.id,
			error: error instanceof Error ? error.message : String(error),
		});
		return row;
	}
	const status = canReceiveTransfers(account) ? "active" : "onboarding";
	if (status === row.status) return row;
	const now = nowSeconds();
	const next: PayoutDestinationRow = { ...row, status, updated: now };
	const { statements, event } = announcement(env, STRIPE_ACTOR, next, "updated", { status });
	const changed = await setStripeDestinationStatus(
		env.DB,
		{ id: row.id, from: row.status, to: status, now },
		statements,
	);
	if (!changed) return (await destinationByStripeAccount(env.DB, row.stripe_account_id)) ?? row;
	await publishEvents(env, [event]);
	return next;
}

/** `account.updated` from Stripe's webhooks: the account is read fresh, as events may be stale. */
export async function syncStripeAccount(env: Env, accountId: string): Promise<string | null> {
	const row = await destinationByStripeAccount(env.DB, accountId);
	if (!row) return null;
	await syncStripeDestination(env, row);
	return row.id;
}

const STRIPE_ACTOR: AuditActor = { type: "system", id: "stripe_connect" };

async function hmac(env: Env, text: string): Promise<string> {
	const key = await crypto.subtle.importKey(
		"raw",
		new TextEncoder().encode(env.SESSION_SECRET),
		{ name: "HMAC", hash: "SHA-256" },
		false,
		["sign"],
	);
	const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(text));
	return btoa(String.fromCharCode(...new Uint8Array(mac)))
		.replace(/\+/g, "-")
		.replace(/\//g, "_")
		.replace(/=+$/, "");
}

function onboardingToken(env: Env, id: string, expires: number): Promise<string> {
	return hmac(env, `payout-destination-onboarding\n${id}\n${expires}`);
}

/** Whether the return or refresh URL's token is the gateway's, for this destination, unexpired. */
export async function checkOnboardingToken(
	env: Env,
	id: string,
	expires: number,
	token: string,
): Promise<boolean> {
	if (!Number.isSafeInteger(expires) || expires <= nowSeconds()) return false;
	return timingSafeEqualText(await onboardingToken(env, id, expires), token);
}
