import type Stripe from "stripe";
import type { Router } from "../http.js";
import { type ApiCall, apiRoute } from "./api.js";
import { cancelPaymentIntent, capturePaymentIntent } from "./capture.js";
import { billingDetails, readRawCard, savePaymentMethod } from "./cards.js";
import type { StripeEmulator } from "./emulator.js";
import { invalidParam, missingParam, resourceMissing } from "./errors.js";
import { applyMetadata } from "./form.js";
import {
	CANCELLATION_REASONS,
	CAPTURE,
	CAPTURE_METHODS,
	CONFIRM,
	CREATE,
	confirmOptions,
	paymentMethodParam,
	paymentMethodTypes,
	UPDATE,
} from "./intent-params.js";
import { checkChargeAmount, readCurrency } from "./money.js";
import {
	assertOpenForUpdate,
	authenticatePaymentIntent,
	confirmPaymentIntent,
	createPaymentIntent,
} from "./payment-intents.js";
import { createdFilter, listPage, snapshot } from "./store.js";

// HTTP endpoints for PaymentIntents and PaymentMethods: parameter reading and validation in
// Stripe's terms; the state machine itself lives in payment-intents.ts.

function intentOf({ em, path, params, publishable }: ApiCall): Stripe.PaymentIntent {
	const intent = em.store.get(em.store.paymentIntents, "payment_intent", path.id ?? "");
	// A publishable key (Stripe.js) must prove it holds the intent's client secret.
	if (publishable) {
		const secret = params.string("client_secret");
		if (!secret) throw missingParam("client_secret");
		if (secret !== intent.client_secret) {
			throw invalidParam(
				"The client_secret provided does not match the client_secret associated with the PaymentIntent.",
				"client_secret",
			);
		}
	}
	return intent;
}

function create(call: ApiCall): unknown {
	const { em, params, ctx } = call;
	params.only(CREATE);
	const amountValue = params.positiveInteger("amount");
	if (amountValue === undefined) throw missingParam("amount");
	const currency = readCurrency(params.requiredString("currency"));
	checkChargeAmount(amountValue, currency);
	const { types, allowed, automatic } = paymentMethodTypes(params);
	const confirm = params.boolean("confirm") ?? false;
	const options = confirmOptions(params);
	if (
		!confirm &&
		(params.has("off_session") ||
			params.has("error_on_requires_action") ||
			params.has("return_url"))
	) {
		const name =
			["off_session", "error_on_requires_action", "return_url"].find((key) => params.has(key)) ??
			"";
		throw invalidParam(`You can only pass ${name} when confirm=true.`, name);
	}
	const statementDescriptor = params.nullableString("statement_descriptor", 22) ?? null;
	const method = paymentMethodParam(call);
	const intent = createPaymentIntent(
		em,
		{
			amount: amountValue,
			currency,
			captureMethod: params.enumeration("capture_method", CAPTURE_METHODS) ?? "automatic_async",
			confirmationMethod:
				params.enumeration("confirmation_method", ["automatic", "manual"]) ?? "automatic",
			paymentMethodTypes: types,
			allowedPaymentMethodTypes: allowed,
			automaticPaymentMethods: automatic,
			description: params.nullableString("description", 1000) ?? null,
			metadata: applyMetadata({}, params.metadata()),
			receiptEmail: params.nullableString("receipt_email") ?? null,
			statementDescriptor,
			statementDescriptorSuffix: params.nullableString("statement_descriptor_suffix", 22) ?? null,
			setupFutureUsage:
				params.enumeration("setup_future_usage", ["off_session", "on_session"]) ?? null,
			paymentMethod: method?.id ?? null,
		},
		ctx,
	);
	if (confirm) confirmPaymentIntent(em, intent, options, ctx);
	return snapshot(intent);
}

function update(call: ApiCall): unknown {
	const { params } = call;
	params.only(UPDATE);
	const intent = intentOf(call);
	const amount = params.positiveInteger("amount");
	const currencyValue = params.string("currency");
	const captureMethod = params.enumeration("capture_method", CAPTURE_METHODS);
	if (amount !== undefined) assertOpenForUpdate(intent, "amount");
	if (currencyValue !== undefined) assertOpenForUpdate(intent, "currency");
	if (captureMethod !== undefined) assertOpenForUpdate(intent, "capture_method");
	if (params.has("payment_method") || params.has("payment_method_data")) {
		assertOpenForUpdate(intent, "payment_method");
	}
	const typesChange = [
		"allowed_payment_method_types",
		"payment_method_types",
		"automatic_payment_methods",
	].some((key) => params.has(key));
	if (typesChange) assertOpenForUpdate(intent, "payment_method_types");
	const currency = currencyValue === undefined ? intent.currency : readCurrency(currencyValue);
	if (amount !== undefined || currencyValue !== undefined)
		checkChargeAmount(amount ?? intent.amount, currency);
	const method = paymentMethodParam(call);
	if (typesChange) {
		const types = paymentMethodTypes(params);
		intent.payment_method_types = types.types;
		intent.allowed_payment_method_types =
			types.allowed as Stripe.PaymentIntent["allowed_payment_method_types"];
		intent.automatic_payment_methods = types.automatic;
	}
	intent.amount = amount ?? intent.amount;
	intent.currency = currency;
	if (captureMethod) intent.capture_method = captureMethod;
	if (method) {
		intent.payment_method = method.id;
		intent.next_action = null;
		intent.status = "requires_confirmation";
	}
	intent.metadata = applyMetadata(intent.metadata, params.metadata());
	const description = params.nullableString("description", 1000);
	if (description !== undefined) intent.description = description;
	const receiptEmail = params.nullableString("receipt_email");
	if (receiptEmail !== undefined) intent.receipt_email = receiptEmail;
	const descriptor = params.nullableString("statement_descriptor", 22);
	if (descriptor !== undefined) intent.statement_descriptor = descriptor;
	const suffix = params.nullableString("statement_descriptor_suffix", 22);
	if (suffix !== undefined) intent.statement_descriptor_suffix = suffix;
	return snapshot(intent);
}

function confirm(call: ApiCall): unknown {
	const { em, params, ctx } = call;
	params.only(CONFIRM);
	const intent = intentOf(call);
	const captureMethod = params.enumeration("capture_method", CAPTURE_METHODS);
	const receiptEmail = params.nullableString("receipt_email");
	const method = paymentMethodParam(call);
	if (captureMethod) intent.capture_method = captureMethod;
	if (receiptEmail !== undefined) intent.receipt_email = receiptEmail;
	confirmPaymentIntent(em, intent, { ...confirmOptions(params), paymentMethod: method }, ctx);
	return snapshot(intent);
}

function capture(call: ApiCall): unknown {
	const { em, params, ctx } = call;
	params.only(CAPTURE);
	const intent = intentOf(call);
	const amount = params.positiveInteger("amount_to_capture");
	const metadata = params.metadata();
	capturePaymentIntent(em, intent, amount, ctx);
	intent.metadata = applyMetadata(intent.metadata, metadata);
	return snapshot(intent);
}

function cancel(call: ApiCall): unknown {
	const { em, params, ctx } = call;
	params.only(["cancellation_reason", "expand"]);
	const intent = intentOf(call);
	const reason = params.enumeration("cancellation_reason", CANCELLATION_REASONS) ?? null;
	cancelPaymentIntent(em, intent, reason, ctx);
	return snapshot(intent);
}

function authenticate(call: ApiCall): unknown {
	const { em, params, ctx } = call;
	params.only(["outcome", "expand"]);
	const intent = intentOf(call);
	const outcome = params.enumeration("outcome", ["succeed", "fail"]) ?? "succeed";
	authenticatePaymentIntent(em, intent, outcome, ctx);
	return snapshot(intent);
}

function list(call: ApiCall): unknown {
	const { em, params } = call;
	params.only([
		"created",
		"customer",
		"customer_account",
		"ending_before",
		"expand",
		"limit",
		"starting_after",
	]);
	const created = createdFilter(params);
	const items = [...em.store.paymentIntents.values()].filter((intent) => created(intent.created));
	return listPage(items, params, "/v1/payment_intents", "payment_intent");
}

function createPaymentMethod(call: ApiCall): unknown {
	const { em, params } = call;
	params.only(["type", "card", "billing_details", "metadata", "expand", "allow_redisplay"]);
	if (params.requiredString("type") !== "card") {
		throw invalidParam("The sandbox only supports card PaymentMethods.", "type");
	}
	const card = readRawCard(params.object("card"), new Date(em.store.now()), "card");
	const method = savePaymentMethod(
		em.store,
		card,
		billingDetails(params.object("billing_details")),
		applyMetadata({}, params.metadata()),
	);
	return snapshot(method);
}

export function registerPaymentIntentRoutes(router: Router, em: StripeEmulator): void {
	const retrieve = (call: ApiCall) => {
		call.params.only(["client_secret", "expand"]);
		return snapshot(intentOf(call));
	};
	router
		.post("/v1/payment_intents", apiRoute(em, create))
		.get("/v1/payment_intents", apiRoute(em, list))
		.get("/v1/payment_intents/:id", apiRoute(em, retrieve, { publishable: true }))
		.post("/v1/payment_intents/:id", apiRoute(em, update))
		.post("/v1/payment_intents/:id/confirm", apiRoute(em, confirm, { publishable: true }))
		.post("/v1/payment_intents/:id/capture", apiRoute(em, capture))
		.post("/v1/payment_intents/:id/cancel", apiRoute(em, cancel))
		.post("/v1/payment_intents/:id/_test/authenticate", apiRoute(em, authenticate, { test: true }))
		.post("/v1/payment_methods", apiRoute(em, createPaymentMethod, { publishable: true }))
		.get(
			"/v1/payment_methods/:id",
			apiRoute(em, ({ em: emulator, params, path }) => {
				params.only(["expand"]);
				const id = path.id ?? "";
				const method = emulator.store.paymentMethods.get(id);
				if (!method) throw resourceMissing("payment_method", id);
				return snapshot(method);
			}),
		);
}
