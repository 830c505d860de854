import Stripe from "stripe";
import { getConfig } from "../../config";
import type { StripeIntentSnapshot } from "../../domain/card-details";
import { presentmentFromMetadata, snapshotInPriceCurrency } from "../../domain/presentment";
import type { Env } from "../../env";

/**
 * The official Stripe SDK on its fetch client (Workers have no Node http). Host, port and
 * protocol come from STRIPE_API_URL so the sandbox's emulator can stand in for api.stripe.com.
 * One client per secret key per isolate.
 */
const clients = new Map<string, Stripe>();

export function stripeConfigured(env: Env): boolean {
	return Boolean(env.STRIPE_SECRET_KEY && env.STRIPE_PUBLISHABLE_KEY);
}

export function stripeFromEnv(env: Env): Stripe {
	const key = env.STRIPE_SECRET_KEY;
	if (!key) throw new Error("Card payments are not configured (STRIPE_SECRET_KEY is not set)");
	const config = getConfig(env);
	const apiUrl = config.STRIPE_API_URL;
	const cacheKey = `${apiUrl} ${key}`;
	let client = clients.get(cacheKey);
	if (!client) {
		const url = new URL(apiUrl);
		client = new Stripe(key, {
			httpClient: Stripe.createFetchHttpClient(),
			host: url.hostname,
			port: url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80,
			protocol: url.protocol === "https:" ? "https" : "http",
			// Stripe's SDK retries connection errors and 409/5xx with its idempotency keys.
			maxNetworkRetries: config.STRIPE_MAX_NETWORK_RETRIES,
			timeout: 10_000,
			appInfo: { name: "StreamPayments" },
		});
		clients.set(cacheKey, client);
	}
	return client;
}

export const webCrypto = Stripe.createSubtleCryptoProvider();

const KNOWN_STATUSES = new Set<string>([
	"requires_payment_method",
	"requires_confirmation",
	"requires_action",
	"processing",
	"requires_capture",
	"canceled",
	"succeeded",
]);

/**
 * A PaymentIntent and its latest charge, reduced to what the gateway acts on. A charge presented
 * in the payer's currency is read back into the payment's own currency here, once for every path
 * (checkout, capture, webhooks, expiry).
 */
export function snapshotOf(intent: Stripe.PaymentIntent): StripeIntentSnapshot {
	const charge = typeof intent.latest_charge === "object" ? intent.latest_charge : null;
	const txn =
		charge && typeof charge.balance_transaction === "object" ? charge.balance_transaction : null;
	return snapshotInPriceCurrency(
		rawSnapshot(intent, charge, txn),
		presentmentFromMetadata(intent.metadata),
		txn?.currency ?? null,
	);
}

function rawSnapshot(
	intent: Stripe.PaymentIntent,
	charge: Stripe.Charge | null,
	txn: Stripe.BalanceTransaction | null,
): StripeIntentSnapshot {
	const error = intent.last_payment_error;
	return {
		id: intent.id,
		// Stripe may add statuses; an unknown one is treated like "still being worked on".
		status: (KNOWN_STATUSES.has(intent.status)
			? intent.status
			: "requires_action") as StripeIntentSnapshot["status"],
		amount: intent.amount,
		currency: intent.currency,
		capture_method: intent.capture_method === "manual" ? "manual" : "automatic",
		amount_capturable: intent.amount_capturable,
		amount_received: intent.amount_received,
		cancellation_reason: intent.cancellation_reason ?? null,
		last_payment_error: error
			? {
					code: error.code ?? null,
					decline_code: error.decline_code ?? null,
					message: error.message ?? null,
				}
			: null,
		charge: charge
			? {
					id: charge.id,
					amount_refunded: charge.amount_refunded,
					fee: txn?.fee ?? null,
					available_on: txn?.available_on ?? null,
					fingerprint: charge.payment_method_details?.card?.fingerprint ?? null,
				}
			: intent.latest_charge
				? { id: intent.latest_charge as string, amount_refunded: 0, fee: null, available_on: null }
				: null,
	};
}

/** Retrieves an intent with what reconciliation needs (its charge and balance transaction). */
export async function retrieveIntent(env: Env, id: string): Promise<Stripe.PaymentIntent> {
	return stripeFromEnv(env).paymentIntents.retrieve(id, {
		expand: ["latest_charge.balance_transaction"],
	});
}

/** Stripe's documented errors as our house codes; anything else is the processor being down. */
export function isStripeError(error: unknown): error is Stripe.errors.StripeError {
	return error instanceof Stripe.errors.StripeError;
}

/**
 * A Stripe error another try cannot fix: the request itself is refused (an invalid request, or
 * the error type the call names: a declined card for refunds, a permission error for Connect
 * transfers). A 409 (idempotency clash) or 429 (rate limit) is worth retrying, never a refusal.
 */
export function refusedByStripe(
	err: unknown,
	also: "StripeCardError" | "StripePermissionError",
): err is Stripe.errors.StripeError {
	return (
		isStripeError(err) &&
		(err.type === "StripeInvalidRequestError" || err.type === also) &&
		err.statusCode !== 409 &&
		err.statusCode !== 429
	);
}
