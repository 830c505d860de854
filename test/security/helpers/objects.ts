import { env } from "cloudflare:workers";
import { newId } from "../../../src/domain/ids";
import { call, type createMerchant, createPayment, json } from "../../worker/helpers/api";
import { addDestination, creditAvailable } from "../../worker/helpers/payouts";
import { deliverAll, stripe } from "../../worker/helpers/stripe";
import { sink } from "../../worker/helpers/webhooks";

export type Merchant = Awaited<ReturnType<typeof createMerchant>>;

/** Path parameters naming one object of merchant A (in test mode). */
export type Factory = (a: Merchant) => Promise<Record<string, string>>;

async function created(res: Response, what: string): Promise<{ id: string }> {
	if (res.status !== 200)
		throw new Error(`${what} create failed: ${res.status} ${await res.text()}`);
	return json<{ id: string }>(res);
}

export async function paymentOf(a: Merchant): Promise<Record<string, string>> {
	return { id: (await createPayment(a.sk)).id };
}

export async function customerOf(a: Merchant): Promise<Record<string, string>> {
	const res = await call("POST", "/v1/customers", {
		key: a.sk,
		body: { email: "payer@example.com", name: "Payer" },
	});
	return { id: (await created(res, "customer")).id };
}

export async function paymentLinkOf(a: Merchant): Promise<Record<string, string>> {
	const res = await call("POST", "/v1/payment_links", {
		key: a.sk,
		body: { amount: 2500, currency: "usd" },
	});
	return { id: (await created(res, "payment link")).id };
}

export async function webhookEndpointOf(a: Merchant): Promise<Record<string, string>> {
	const res = await call("POST", "/v1/webhook_endpoints", {
		key: a.sk,
		// The local receiver: deliveries of every event the suite causes stay on this machine.
		body: { url: sink().url, enabled_events: ["*"] },
	});
	return { id: (await created(res, "webhook endpoint")).id };
}

export async function eventOf(a: Merchant): Promise<Record<string, string>> {
	const payment = await createPayment(a.sk);
	const res = await call("GET", `/v1/events?object_id=${payment.id}`, { key: a.sk });
	const list = await json<{ data: { id: string }[] }>(res);
	const event = list.data[0];
	if (!event) throw new Error(`no event for ${payment.id}: ${res.status}`);
	return { id: event.id };
}

/** A refund of a card payment, paid through the sandbox's Stripe emulator. */
export async function refundOf(a: Merchant): Promise<Record<string, string>> {
	const payment = await createPayment(a.sk, { amount: 5000, payment_method_types: ["card"] });
	const opened = await call("POST", `/checkout/${payment.id}/card`, { body: {} });
	const { client_secret } = await json<{ client_secret: string }>(opened);
	const intentId = client_secret.slice(0, client_secret.indexOf("_secret_"));
	await stripe.paymentIntents.confirm(intentId, { payment_method: "pm_card_visa" });
	await deliverAll(intentId);
	const res = await call("POST", "/v1/refunds", { key: a.sk, body: { payment: payment.id } });
	return { id: (await created(res, "refund")).id };
}

/**
 * A pending fiat payout (its funds credited, its connected account inserted as usable). More is
 * credited than paid out: a pending refund of the same merchant (refundOf) sets some aside.
 */
export async function payoutOf(a: Merchant): Promise<Record<string, string>> {
	await creditAvailable(a.merchant.id, "usd", 100_000n);
	await addDestination(a.merchant.id, { type: "stripe_account" });
	const res = await call("POST", "/v1/payouts", {
		key: a.sk,
		body: { amount: 1_000, currency: "usd" },
	});
	return { id: (await created(res, "payout")).id };
}

/**
 * A Stripe Connect payout destination as the API creates it (a connected account at the emulator,
 * onboarding), so its onboarding link can be made and its default set by its owner.
 */
export async function payoutDestinationOf(a: Merchant): Promise<Record<string, string>> {
	const res = await call("POST", "/v1/payout_destinations", {
		key: a.sk,
		body: { type: "stripe_account" },
	});
	return { id: (await created(res, "payout destination")).id };
}

/**
 * A conversion row as the conversions consumer records it (the D1 row is what the API reads);
 * paying a crypto payment just to convert it would only slow the suite down.
 */
export async function conversionOf(a: Merchant): Promise<Record<string, string>> {
	const payment = await createPayment(a.sk);
	const id = newId("conversion");
	await env.DB.prepare(
		`INSERT INTO conversions (id, merchant_id, livemode, payment_id, status, policy, from_currency,
		 from_token, from_amount, to_currency, spread_bps, created)
		 VALUES (?, ?, 0, ?, 'failed', 'locked', 'sol', 'SOL', '1000', 'usd', 50, ?)`,
	)
		.bind(id, a.merchant.id, payment.id, Math.floor(Date.now() / 1000))
		.run();
	return { id };
}

/** Today's settlement report: small enough to be built within the request. */
export async function reportOf(a: Merchant): Promise<Record<string, string>> {
	const res = await call("POST", "/v1/reports", { key: a.sk, body: todaysReport() });
	if (res.status !== 200 && res.status !== 202)
		throw new Error(`report create failed: ${res.status} ${await res.text()}`);
	return { id: (await json<{ id: string }>(res)).id };
}

function todaysReport(): { type: "settlement"; from: string; to: string } {
	const today = new Date().toISOString().slice(0, 10);
	return { type: "settlement", from: today, to: today };
}

/**
 * Every documented path with a path parameter that a merchant's key reaches, mapped to the
 * factory that makes one such object. A route missing here fails the object-level test.
 */
export const FACTORIES: Record<string, Factory> = {
	"/v1/payments/{id}": paymentOf,
	"/v1/payments/{id}/cancel": paymentOf,
	"/v1/payments/{id}/capture": paymentOf,
	"/v1/payments/{id}/quote": paymentOf,
	// A payment held for review by the merchant's risk rules is approved or rejected by its owner.
	"/v1/payments/{id}/approve": paymentOf,
	"/v1/payments/{id}/reject": paymentOf,
	"/v1/refunds/{id}": refundOf,
	"/v1/customers/{id}": customerOf,
	"/v1/payment_links/{id}": paymentLinkOf,
	"/v1/webhook_endpoints/{id}": webhookEndpointOf,
	"/v1/webhook_endpoints/{id}/roll_secret": webhookEndpointOf,
	"/v1/webhook_endpoints/{id}/attempts": webhookEndpointOf,
	"/v1/events/{id}": eventOf,
	"/v1/events/{id}/redeliver": eventOf,
	"/v1/conversions/{id}": conversionOf,
	"/v1/reports/{id}": reportOf,
	"/v1/reports/{id}/download": reportOf,
	"/v1/payouts/{id}": payoutOf,
	"/v1/payouts/{id}/cancel": payoutOf,
	"/v1/payouts/{id}/transactions": payoutOf,
	"/v1/payout_destinations/{id}": payoutDestinationOf,
	"/v1/payout_destinations/{id}/onboarding_link": payoutDestinationOf,
};

/** A valid body for operations whose body has required fields (default: `{}`). */
export const VALID_BODIES: Record<string, unknown> = {
	"POST /v1/payments/{id}/quote": { token: "SOL" },
	"POST /v1/customers/{id}": { name: "Renamed" },
	"POST /v1/payout_destinations/{id}": { default: true },
};
