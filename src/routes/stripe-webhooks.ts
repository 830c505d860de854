import type Stripe from "stripe";
import {
	markStripeEventProcessed,
	recordStripeEvent,
	stripeEventProcessed,
} from "../db/stripe-events";
import type { CardDispute } from "../domain/card-details";
import { isId } from "../domain/ids";
import type { Env } from "../env";
import { ApiError } from "../lib/errors";
import { log } from "../lib/log";
import { retrieveIntent, snapshotOf, stripeFromEnv, webCrypto } from "../processors/stripe/client";
import { paymentStub } from "../services/payments";
import { syncStripeAccount } from "../services/payout-destinations-connect";
import { recordStripeReversals } from "../services/payout-reversals";
import type { App } from "../types";

/** Stripe signs with a timestamp; older deliveries are refused as replays (Stripe's default). */
const SIGNATURE_TOLERANCE_S = 300;

/**
 * `POST /webhooks/stripe`: verifies the Stripe-Signature over the raw body (Web Crypto), drops
 * events already applied (by event id), and drives the payment's object from a fresh snapshot of
 * the PaymentIntent, so an event that is late, repeated or ahead of our own create call is safe.
 * A failure answers 500 so Stripe delivers again.
 */
export function registerStripeWebhooks(app: App): void {
	app.post("/webhooks/stripe", async (c) => {
		const secret = c.env.STRIPE_WEBHOOK_SECRET;
		if (!secret || !c.env.STRIPE_SECRET_KEY) {
			throw new ApiError("route_not_found", "Card payments are not configured here.");
		}
		const signature = c.req.header("Stripe-Signature");
		if (!signature) throw new ApiError("signature_invalid", "Missing Stripe-Signature header.");
		const body = await c.req.text();
		let event: Stripe.Event;
		try {
			event = await stripeFromEnv(c.env).webhooks.constructEventAsync(
				body,
				signature,
				secret,
				SIGNATURE_TOLERANCE_S,
				webCrypto,
			);
		} catch (err) {
			throw new ApiError(
				"signature_invalid",
				`Stripe signature verification failed: ${err instanceof Error ? err.message : String(err)}`,
			);
		}

		const db = c.env.DB;
		const now = Math.floor(Date.now() / 1000);
		await recordStripeEvent(db, event, now);
		if (await stripeEventProcessed(db, event.id)) {
			return c.json({ received: true, duplicate: true });
		}

		const paymentId = await apply(c.env, event);
		await markStripeEventProcessed(db, event.id, now, paymentId);
		return c.json({ received: true });
	});
}

/** The PaymentIntent an event is about, when it is about one. */
function intentIdOf(event: Stripe.Event): string | null {
	const object = event.data.object as {
		object?: string;
		id?: string;
		payment_intent?: string | { id: string } | null;
	};
	if (object.object === "payment_intent") return object.id ?? null;
	const pi = object.payment_intent;
	return typeof pi === "string" ? pi : (pi?.id ?? null);
}

/** Our payment id, carried in the intent's metadata (set when we created it). */
function paymentIdIn(metadata: Record<string, string> | null | undefined): string | null {
	const id = metadata?.payment_id;
	return id && isId("payment", id) ? id : null;
}

/**
 * Applies one event. Charges and disputes are traced to their intent, whose metadata names our
 * payment; the intent is read fresh, so a stale or reordered event still leads to the right state.
 */
async function apply(env: Env, event: Stripe.Event): Promise<string | null> {
	if (event.type === "account.updated") {
		// A connected account (a payout destination) changed: its status is read fresh from Stripe.
		await syncStripeAccount(env, (event.data.object as Stripe.Account).id);
		return null;
	}
	if (event.type === "transfer.reversed") {
		// A Connect transfer of a paid payout was reversed: the money is back, so the merchant's.
		await recordStripeReversals(env, (event.data.object as Stripe.Transfer).id);
		return null;
	}
	const intentId = intentIdOf(event);
	if (!intentId) return null;
	const intent = await retrieveIntent(env, intentId);
	const paymentId = paymentIdIn(intent.metadata);
	if (!paymentId) return null;
	const stub = paymentStub(env, paymentId);
	if (event.type === "charge.dispute.created") {
		const d = event.data.object as Stripe.Dispute;
		const dispute: CardDispute = {
			id: d.id,
			amount: d.amount,
			currency: d.currency,
			reason: d.reason,
			status: d.status,
			created: d.created,
		};
		// The intent first, so a dispute never lands on a payment that has not seen its charge.
		await stub.syncCard(snapshotOf(intent));
		await stub.recordDispute(dispute);
		return paymentId;
	}
	const result = await stub.syncCard(snapshotOf(intent));
	if (!result.ok) {
		log("warn", "stripe event not applied", {
			payment: paymentId,
			event: event.id,
			reason: result.message,
		});
	}
	return paymentId;
}
