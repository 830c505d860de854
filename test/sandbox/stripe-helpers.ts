import Stripe from "stripe";
import { afterAll, expect } from "vitest";
import { type Sandbox, startSandbox } from "../../sandbox/server.js";
import type { StripeEmulatorOptions } from "../../sandbox/stripe/emulator.js";
import { stripeClient, TEST_SECRET_KEY } from "../../sandbox/stripe/testing.js";

// Shared by the Stripe emulator suites: a sandbox on free ports with stripe-node pointed at it,
// helpers bound to that sandbox (card intents, recorded events, emulator-only routes), and
// helpers that expect a request to fail with one kind of Stripe error.

/** A minimal card PaymentIntent: $10.00, card only, not confirmed. */
export const card = {
	amount: 1_000,
	currency: "usd",
	allowed_payment_method_types: ["card"],
} satisfies Stripe.PaymentIntentCreateParams;

export interface StripeSandbox {
	sandbox: Sandbox;
	/** stripe-node as the gateway configures it, but without retries: each call is one request. */
	stripe: Stripe;
	/** Creates a PaymentIntent like `card` for `amount` and confirms it with `paymentMethod`. */
	confirmCardIntent(
		amount: number,
		paymentMethod: string,
		params?: Omit<Stripe.PaymentIntentCreateParams, "amount" | "currency">,
	): Promise<Stripe.PaymentIntent>;
	/** The types of the events recorded about one object, oldest first. */
	eventTypes(objectId: string): string[];
	/** The events of one type recorded about one object, oldest first. */
	events(type: string, objectId: string): Stripe.Event[];
	/** Completes or fails a 3-D Secure challenge through the emulator-only `_test` route. */
	authenticateIntent(intentId: string, outcome: "succeed" | "fail"): Promise<Response>;
	/** Disputes a charge through the emulator-only `_test` route. */
	disputeCharge(chargeId: string, reason: string): Promise<Response>;
}

/**
 * Starts the sandbox for the calling test file, on ports the OS picks, with Solana slots
 * advanced by hand and these emulator knobs, and closes it after the file's tests. Await it at
 * the top of the file, so that every test and hook below sees one started sandbox.
 */
export async function useStripeSandbox(options?: StripeEmulatorOptions): Promise<StripeSandbox> {
	const sandbox = await startSandbox({
		solanaPort: 0,
		stripePort: 0,
		controlPort: 0,
		solana: { slotMs: 0 },
		stripe: options,
	});
	afterAll(() => sandbox.close());
	const stripe = stripeClient(sandbox.urls.stripe, { maxNetworkRetries: 0 });
	// The emulator-only routes take a form and a secret key, like the rest of /v1.
	const postForm = (path: string, body: string) =>
		fetch(`${sandbox.urls.stripe}${path}`, {
			method: "POST",
			headers: {
				authorization: `Bearer ${TEST_SECRET_KEY}`,
				"content-type": "application/x-www-form-urlencoded",
			},
			body,
		});
	const eventsAbout = (objectId: string): Stripe.Event[] =>
		[...sandbox.stripe.store.events.values()].filter(
			(event) => (event.data.object as { id: string }).id === objectId,
		);
	return {
		sandbox,
		stripe,
		confirmCardIntent: (amount, paymentMethod, params = {}) =>
			stripe.paymentIntents.create({
				...card,
				amount,
				payment_method: paymentMethod,
				confirm: true,
				...params,
			}),
		eventTypes: (objectId) => eventsAbout(objectId).map((event) => event.type),
		events: (type, objectId) => eventsAbout(objectId).filter((event) => event.type === type),
		authenticateIntent: (intentId, outcome) =>
			postForm(`/v1/payment_intents/${intentId}/_test/authenticate`, `outcome=${outcome}`),
		disputeCharge: (chargeId, reason) =>
			postForm(`/v1/charges/${chargeId}/_test/dispute`, `reason=${reason}`),
	};
}

/** Awaits a promise that must reject with an instance of `type`, and returns that error. */
async function rejectsWith<E>(
	promise: Promise<unknown>,
	type: abstract new (...args: never[]) => E,
): Promise<E> {
	const error = await promise.then(
		() => undefined,
		(e: unknown) => e,
	);
	expect(error).toBeInstanceOf(type);
	return error as E;
}

// Each awaits a request that must fail with that kind of stripe-node error, and returns it.

export function rejection(promise: Promise<unknown>): Promise<Stripe.errors.StripeError> {
	return rejectsWith(promise, Stripe.errors.StripeError);
}

export function cardError(promise: Promise<unknown>): Promise<Stripe.errors.StripeCardError> {
	return rejectsWith(promise, Stripe.errors.StripeCardError);
}

export function invalidRequest(
	promise: Promise<unknown>,
): Promise<Stripe.errors.StripeInvalidRequestError> {
	return rejectsWith(promise, Stripe.errors.StripeInvalidRequestError);
}
