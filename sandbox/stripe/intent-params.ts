import type Stripe from "stripe";
import type { ApiCall } from "./api.js";
import { billingDetails, readRawCard, resolvePaymentMethod, savePaymentMethod } from "./cards.js";
import { invalidParam } from "./errors.js";
import { applyMetadata, type Params } from "./form.js";

// PaymentIntent parameters in Stripe's terms: which ones each endpoint takes, and the ones that
// need more than a typed read (payment method, payment method types, confirmation options).

function words(text: string): string[] {
	return text.split(" ");
}

// Every parameter stripe-node 23 can send, plus `payment_method_types` from API versions before
// 2026-10-28.endive; the ones the emulator does not model are accepted and ignored, so an
// integration that works against Stripe is not refused here.
export const CREATE = words(
	"amount currency allowed_payment_method_types amount_details application_fee_amount " +
		"automatic_payment_methods capture_method confirm confirmation_method confirmation_token " +
		"customer customer_account description error_on_requires_action " +
		"excluded_payment_method_types expand hooks mandate mandate_data metadata off_session " +
		"on_behalf_of payment_details payment_method payment_method_configuration " +
		"payment_method_data payment_method_options payment_method_types radar_options " +
		"receipt_email return_url setup_future_usage shipping statement_descriptor " +
		"statement_descriptor_suffix transfer_data transfer_group use_stripe_sdk",
);
export const UPDATE = words(
	"allowed_payment_method_types amount amount_details application_fee_amount " +
		"capture_method currency customer customer_account description " +
		"excluded_payment_method_types expand hooks metadata payment_details payment_method " +
		"payment_method_configuration payment_method_data payment_method_options " +
		"payment_method_types receipt_email setup_future_usage shipping statement_descriptor " +
		"statement_descriptor_suffix transfer_data transfer_group",
);
export const CONFIRM = words(
	"allowed_payment_method_types amount_details amount_to_confirm capture_method " +
		"client_secret confirmation_token error_on_requires_action excluded_payment_method_types " +
		"expand hooks mandate mandate_data off_session payment_details payment_method " +
		"payment_method_data payment_method_options radar_options receipt_email return_url " +
		"setup_future_usage shipping use_stripe_sdk",
);
export const CAPTURE = words(
	"amount_details amount_to_capture application_fee_amount expand final_capture hooks " +
		"metadata payment_details statement_descriptor statement_descriptor_suffix transfer_data",
);
export const CAPTURE_METHODS = ["automatic", "automatic_async", "manual"] as const;
export const CANCELLATION_REASONS = [
	"abandoned",
	"duplicate",
	"fraudulent",
	"requested_by_customer",
] as const;

/** `payment_method` (an id or `pm_card_*`) or `payment_method_data[type]=card&…[card][number]=…`. */
export function paymentMethodParam(call: ApiCall): Stripe.PaymentMethod | undefined {
	const { em, params } = call;
	const id = params.string("payment_method");
	const data = params.object("payment_method_data");
	if (id && data) {
		throw invalidParam(
			"You cannot specify both payment_method and payment_method_data.",
			"payment_method_data",
		);
	}
	if (id) return resolvePaymentMethod(em.store, id, "payment_method");
	if (!data) return undefined;
	data.only(["type", "card", "billing_details", "metadata", "allow_redisplay"]);
	if (data.requiredString("type") !== "card") {
		throw invalidParam("The sandbox only supports card PaymentMethods.", data.name("type"));
	}
	const card = readRawCard(data.object("card"), new Date(em.store.now()), data.name("card"));
	return savePaymentMethod(
		em.store,
		card,
		billingDetails(data.object("billing_details")),
		applyMetadata({}, data.metadata()),
	);
}

export interface MethodTypes {
	types: string[];
	allowed: string[] | null;
	automatic: Stripe.PaymentIntent.AutomaticPaymentMethods | null;
}

/**
 * `allowed_payment_method_types` (API 2026-10-28.endive on), the older `payment_method_types`,
 * or `automatic_payment_methods`, which is on by default since 2023-08-16.
 */
export function paymentMethodTypes(params: Params): MethodTypes {
	const allowed = params.list("allowed_payment_method_types");
	const legacy = params.list("payment_method_types");
	const automatic = params.object("automatic_payment_methods");
	const given = [
		allowed && "allowed_payment_method_types",
		legacy && "payment_method_types",
		automatic && "automatic_payment_methods",
	].filter((name): name is string => typeof name === "string");
	if (given.length > 1) {
		throw invalidParam(
			`You may only specify one of these parameters: ${given.join(", ")}.`,
			given[1] ?? "",
			"parameters_exclusive",
		);
	}
	const explicit = allowed ?? legacy;
	if (explicit) {
		const name = allowed ? "allowed_payment_method_types" : "payment_method_types";
		const unsupported = explicit.find((type) => type !== "card");
		if (unsupported) {
			throw invalidParam(
				`The payment method type provided: ${unsupported} is invalid. The sandbox supports: card.`,
				name,
			);
		}
		return { types: ["card"], allowed: allowed ? ["card"] : null, automatic: null };
	}
	automatic?.only(["enabled", "allow_redirects"]);
	const enabled = automatic ? (automatic.boolean("enabled") ?? false) : true;
	if (!enabled) return { types: ["card"], allowed: null, automatic: null };
	return {
		types: ["card"],
		allowed: null,
		automatic: {
			allow_redirects: automatic?.enumeration("allow_redirects", ["always", "never"]) ?? "always",
			enabled: true,
		},
	};
}

export function confirmOptions(params: Params): {
	offSession: boolean;
	errorOnRequiresAction: boolean;
	returnUrl: string | null;
} {
	const offSession = params.string("off_session");
	return {
		// `off_session` is a boolean or, for legacy integrations, one_off / recurring.
		offSession: offSession === "true" || offSession === "one_off" || offSession === "recurring",
		errorOnRequiresAction: params.boolean("error_on_requires_action") ?? false,
		returnUrl: params.nullableString("return_url") ?? null,
	};
}
