import type Stripe from "stripe";
import { behaviourOf } from "./cards.js";
import { captureCharge, chargeOutcome, createCharge } from "./charges.js";
import { scheduleDisputeIfTestCard } from "./disputes.js";
import type { RequestContext, StripeEmulator } from "./emulator.js";
import { docUrl, invalidRequest, StripeApiError } from "./errors.js";
import { type CardBehaviour, randomToken, snapshot } from "./store.js";

// The PaymentIntent state machine, as Stripe runs it for cards:
//   requires_payment_method → requires_confirmation → (requires_action) → (processing)
//     → requires_capture | succeeded, and canceled from any open state.
// A decline or failed authentication goes back to requires_payment_method with
// last_payment_error; the confirming request then answers 402 card_error.

export const CONFIRMABLE = ["requires_payment_method", "requires_confirmation", "requires_action"];
export const CANCELABLE = [
	"requires_payment_method",
	"requires_capture",
	"requires_confirmation",
	"requires_action",
	"processing",
];

export interface NewPaymentIntent {
	amount: number;
	currency: string;
	captureMethod: Stripe.PaymentIntent.CaptureMethod;
	confirmationMethod: Stripe.PaymentIntent.ConfirmationMethod;
	paymentMethodTypes: string[];
	allowedPaymentMethodTypes: string[] | null;
	automaticPaymentMethods: Stripe.PaymentIntent.AutomaticPaymentMethods | null;
	description: string | null;
	metadata: Record<string, string>;
	receiptEmail: string | null;
	statementDescriptor: string | null;
	statementDescriptorSuffix: string | null;
	setupFutureUsage: Stripe.PaymentIntent.SetupFutureUsage | null;
	paymentMethod: string | null;
}

export function createPaymentIntent(
	em: StripeEmulator,
	init: NewPaymentIntent,
	ctx: RequestContext,
): Stripe.PaymentIntent {
	const id = em.store.newId("pi");
	const intent: Stripe.PaymentIntent = {
		id,
		object: "payment_intent",
		allowed_payment_method_types:
			init.allowedPaymentMethodTypes as Stripe.PaymentIntent["allowed_payment_method_types"],
		amount: init.amount,
		amount_capturable: 0,
		amount_received: 0,
		application: null,
		application_fee_amount: null,
		automatic_payment_methods: init.automaticPaymentMethods,
		canceled_at: null,
		cancellation_reason: null,
		capture_method: init.captureMethod,
		client_secret: `${id}_secret_${randomToken(25)}`,
		confirmation_method: init.confirmationMethod,
		created: em.store.seconds(),
		currency: init.currency,
		customer: null,
		customer_account: null,
		description: init.description,
		excluded_payment_method_types: null,
		last_payment_error: null,
		latest_charge: null,
		livemode: false,
		managed_payments: null,
		metadata: init.metadata,
		next_action: null,
		on_behalf_of: null,
		payment_method: init.paymentMethod,
		payment_method_configuration_details: null,
		payment_method_options: {
			card: {
				installments: null,
				mandate_options: null,
				network: null,
				request_three_d_secure: "automatic",
			},
		},
		payment_method_types: init.paymentMethodTypes,
		payment_record: null,
		processing: null,
		receipt_email: init.receiptEmail,
		review: null,
		setup_future_usage: init.setupFutureUsage,
		shipping: null,
		source: null,
		statement_descriptor: init.statementDescriptor,
		statement_descriptor_suffix: init.statementDescriptorSuffix,
		status: init.paymentMethod ? "requires_confirmation" : "requires_payment_method",
		transfer_group: null,
	};
	em.store.paymentIntents.set(id, intent);
	em.emit("payment_intent.created", intent, ctx);
	return intent;
}

/** A 400 payment_intent_unexpected_state carrying the intent, as Stripe sends it. */
export function unexpectedState(intent: Stripe.PaymentIntent, message: string): StripeApiError {
	return invalidRequest(message, {
		code: "payment_intent_unexpected_state",
		payment_intent: snapshot(intent),
	});
}

export interface ConfirmOptions {
	paymentMethod?: Stripe.PaymentMethod;
	offSession: boolean;
	errorOnRequiresAction: boolean;
	returnUrl: string | null;
}

/** Confirms; throws the 402 card_error of a decline after recording it on the intent. */
export function confirmPaymentIntent(
	em: StripeEmulator,
	intent: Stripe.PaymentIntent,
	options: ConfirmOptions,
	ctx: RequestContext,
): void {
	if (intent.status === "succeeded") {
		throw unexpectedState(
			intent,
			"You cannot confirm this PaymentIntent because it has already succeeded after being previously confirmed.",
		);
	}
	if (!CONFIRMABLE.includes(intent.status)) {
		throw unexpectedState(
			intent,
			`You cannot confirm this PaymentIntent because it has a status of ${intent.status}. Only a PaymentIntent with one of the following statuses may be confirmed: ${CONFIRMABLE.join(", ")}.`,
		);
	}
	const methodId = options.paymentMethod?.id ?? (intent.payment_method as string | null);
	const method = methodId ? em.store.paymentMethods.get(methodId) : undefined;
	if (!method) {
		throw unexpectedState(
			intent,
			"You cannot confirm this PaymentIntent because it's missing a payment method. You can either update the PaymentIntent with a payment method and then confirm it again, or confirm it again directly with a payment method.",
		);
	}
	if (!intent.payment_method_types.includes(method.type)) {
		throw invalidRequest(
			`The PaymentMethod provided (${method.type}) is not allowed for this PaymentIntent. Please attach a PaymentMethod of one of the following types: ${intent.payment_method_types.join(", ")}. Alternatively, update the allowed payment_method_types for this PaymentIntent to include "${method.type}".`,
			{ param: "payment_method", payment_intent: snapshot(intent) },
		);
	}
	const automatic = intent.automatic_payment_methods;
	if (automatic?.enabled && automatic.allow_redirects !== "never" && !options.returnUrl) {
		throw invalidRequest(
			"This PaymentIntent is configured to accept payment methods enabled in your Dashboard, some of which may require a full page redirect to succeed. If you do not want to accept redirect-based payment methods, set `automatic_payment_methods[enabled]` to `true` and `automatic_payment_methods[allow_redirects]` to `never` when creating Setup Intents and Payment Intents. If you do want to accept redirect-based payment methods, set the `return_url` parameter when confirming the PaymentIntent.",
			{ payment_intent: snapshot(intent) },
		);
	}
	intent.payment_method = method.id;
	intent.last_payment_error = null;
	intent.next_action = null;
	const declined = attempt(em, intent, method, options, ctx, false);
	if (declined) throw declined;
}

const AUTHENTICATION_REQUIRED: NonNullable<CardBehaviour["decline"]> = {
	code: "authentication_required",
	declineCode: "authentication_required",
	message: "Your card was declined. This transaction requires authentication.",
	reason: "authentication_required",
};

/** One payment attempt with the card; returns the card error of a decline. */
function attempt(
	em: StripeEmulator,
	intent: Stripe.PaymentIntent,
	method: Stripe.PaymentMethod,
	options: Omit<ConfirmOptions, "paymentMethod">,
	ctx: RequestContext | null,
	authenticated: boolean,
): StripeApiError | undefined {
	const card = behaviourOf(em.store, method.id);
	const needsAuth =
		card.authentication === "always" ||
		(card.authentication === "on_session" && !options.offSession);
	if (needsAuth && !authenticated) {
		if (options.offSession || options.errorOnRequiresAction) {
			return decline(em, intent, method, AUTHENTICATION_REQUIRED, ctx);
		}
		requireAction(em, intent, method, options, ctx);
		return undefined;
	}
	if (card.decline) return decline(em, intent, method, card.decline, ctx);
	const charge = createCharge(em.store, {
		intent,
		method,
		status: em.timings.processingMs > 0 ? "pending" : "succeeded",
		authenticated,
	});
	intent.latest_charge = charge.id;
	if (em.timings.processingMs > 0) {
		intent.status = "processing";
		em.emit("charge.pending", charge, ctx);
		em.emit("payment_intent.processing", intent, ctx);
		em.schedule(em.timings.processingMs, () => finishAttempt(em, intent, charge, null));
		return undefined;
	}
	finishAttempt(em, intent, charge, ctx);
	return undefined;
}

function finishAttempt(
	em: StripeEmulator,
	intent: Stripe.PaymentIntent,
	charge: Stripe.Charge,
	ctx: RequestContext | null,
): void {
	// A payment canceled while processing stays canceled.
	if (intent.status === "canceled") return;
	charge.status = "succeeded";
	charge.paid = true;
	charge.outcome ??= chargeOutcome(undefined);
	intent.next_action = null;
	em.store.attempts.delete(intent.id);
	if (intent.capture_method === "manual") {
		intent.status = "requires_capture";
		intent.amount_capturable = intent.amount;
		em.emit("charge.succeeded", charge, ctx);
		em.emit("payment_intent.amount_capturable_updated", intent, ctx);
		return;
	}
	captureCharge(em.store, charge, intent.amount);
	intent.status = "succeeded";
	intent.amount_received = intent.amount;
	em.emit("charge.succeeded", charge, ctx);
	em.emit("payment_intent.succeeded", intent, ctx);
	scheduleDisputeIfTestCard(em, charge);
}

function decline(
	em: StripeEmulator,
	intent: Stripe.PaymentIntent,
	method: Stripe.PaymentMethod,
	reason: NonNullable<CardBehaviour["decline"]>,
	ctx: RequestContext | null,
): StripeApiError {
	const charge = createCharge(em.store, { intent, method, status: "failed", decline: reason });
	const error: Stripe.PaymentIntent.LastPaymentError = {
		charge: charge.id,
		code: reason.code,
		doc_url: docUrl(reason.code),
		message: reason.message,
		payment_method: snapshot(method),
		type: "card_error",
	};
	if (reason.declineCode) error.decline_code = reason.declineCode;
	intent.status = "requires_payment_method";
	intent.payment_method = null;
	intent.latest_charge = charge.id;
	intent.last_payment_error = error;
	intent.next_action = null;
	em.store.attempts.delete(intent.id);
	em.emit("charge.failed", charge, ctx);
	em.emit("payment_intent.payment_failed", intent, ctx);
	return new StripeApiError(402, {
		type: "card_error",
		code: reason.code,
		...(reason.declineCode ? { decline_code: reason.declineCode } : {}),
		message: reason.message,
		charge: charge.id,
		doc_url: docUrl(reason.code),
		payment_intent: snapshot(intent),
		payment_method: snapshot(method),
	});
}

function requireAction(
	em: StripeEmulator,
	intent: Stripe.PaymentIntent,
	method: Stripe.PaymentMethod,
	options: Omit<ConfirmOptions, "paymentMethod">,
	ctx: RequestContext | null,
): void {
	const base = ctx?.baseUrl ?? "";
	const url = `${base}/_test/3ds/${intent.id}?client_secret=${encodeURIComponent(intent.client_secret ?? "")}`;
	intent.status = "requires_action";
	intent.next_action = options.returnUrl
		? { type: "redirect_to_url", redirect_to_url: { return_url: options.returnUrl, url } }
		: {
				type: "use_stripe_sdk",
				use_stripe_sdk: {
					type: "three_d_secure_redirect",
					stripe_js: url,
					source: em.store.newId("src"),
				},
			};
	em.store.attempts.set(intent.id, {
		paymentMethod: method.id,
		offSession: options.offSession,
		returnUrl: options.returnUrl,
	});
	em.emit("payment_intent.requires_action", intent, ctx);
}

/**
 * Completes (or fails) the 3-D Secure challenge of an intent in requires_action, as the payer
 * would on the issuer's page. Emulator-only; Stripe's test page does the same.
 */
export function authenticatePaymentIntent(
	em: StripeEmulator,
	intent: Stripe.PaymentIntent,
	outcome: "succeed" | "fail",
	ctx: RequestContext | null,
): void {
	const pending = em.store.attempts.get(intent.id);
	const method = pending ? em.store.paymentMethods.get(pending.paymentMethod) : undefined;
	if (intent.status !== "requires_action" || !pending || !method) {
		throw unexpectedState(
			intent,
			`This PaymentIntent is not awaiting authentication: it has a status of ${intent.status}.`,
		);
	}
	em.store.attempts.delete(intent.id);
	intent.next_action = null;
	if (outcome === "succeed") {
		attempt(em, intent, method, { ...pending, errorOnRequiresAction: false }, ctx, true);
		return;
	}
	intent.status = "requires_payment_method";
	intent.payment_method = null;
	intent.last_payment_error = {
		code: "payment_intent_authentication_failure",
		doc_url: docUrl("payment_intent_authentication_failure"),
		message:
			"The provided PaymentMethod has failed authentication. You can provide payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent again.",
		payment_method: snapshot(method),
		type: "invalid_request_error",
	};
	em.emit("payment_intent.payment_failed", intent, ctx);
}

/** Fields only an open intent may change, as Stripe refuses them after success or cancelation. */
export function assertOpenForUpdate(intent: Stripe.PaymentIntent, field: string): void {
	if (!CONFIRMABLE.includes(intent.status)) {
		throw unexpectedState(
			intent,
			`This PaymentIntent's ${field} could not be updated because it has a status of ${intent.status}. You may only update the ${field} of a PaymentIntent with one of the following statuses: ${CONFIRMABLE.join(", ")}.`,
		);
	}
}
