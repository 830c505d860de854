import { stripeApi } from "./api";
import { runChallenge } from "./challenge-modal";
import { Elements, type ElementsOptions, IntegrationError, type StripeContext } from "./elements";
import type { BillingDetails, StripeJsError } from "./protocol";

// The stand-in for Stripe.js v3 that the sandbox's Stripe emulator serves at /js/v3/: the part
// of Stripe.js a checkout with the Payment Element uses, with Stripe's documented shapes.
//   const stripe = Stripe("pk_test_…");
//   const elements = stripe.elements({ clientSecret });
//   elements.create("payment").mount("#card-element");
//   const { error, paymentIntent } = await stripe.confirmPayment({ elements, confirmParams: {
//     return_url }, redirect: "if_required" });
// Test mode only: it talks to the emulator it was loaded from and nothing else.

interface PaymentIntent {
	id: string;
	object: "payment_intent";
	status: string;
	client_secret: string;
	next_action?: {
		type: string;
		redirect_to_url?: { url?: string | null } | null;
		use_stripe_sdk?: { stripe_js?: string } | null;
	} | null;
	last_payment_error?: StripeJsError | null;
}

type PaymentIntentResult = { paymentIntent: PaymentIntent } | { error: StripeJsError };

interface ConfirmPaymentOptions {
	elements: Elements;
	confirmParams?: {
		return_url?: string;
		payment_method_data?: { billing_details?: BillingDetails };
	};
	redirect?: "always" | "if_required";
}

/** Stripe.js's words when 3-D Secure fails or is abandoned. */
const AUTHENTICATION_FAILED =
	"We are unable to authenticate your payment method. Please choose a different payment method and try again.";
const PAID = new Set(["succeeded", "processing", "requires_capture"]);

/** Where this script was loaded from: the emulator serves the card frame and the API too. */
function scriptOrigin(): string {
	const current = document.currentScript;
	const src =
		current instanceof HTMLScriptElement && current.src
			? current.src
			: [...document.scripts].map((s) => s.src).find((s) => /\/js\/v3\/?(?:[?#]|$)/.test(s));
	if (!src) throw new Error("The stand-in Stripe.js could not tell which server it came from.");
	return new URL(src).origin;
}

const ORIGIN = scriptOrigin();

function intentIdOf(clientSecret: unknown, method: string): string {
	const match =
		typeof clientSecret === "string"
			? /^(pi_[A-Za-z0-9]+)_secret_[A-Za-z0-9]+$/.exec(clientSecret)
			: null;
	if (!match?.[1]) {
		throw new IntegrationError(
			`Invalid value for ${method}: clientSecret should be a client secret of the form \${id}_secret_\${secret}. You specified: ${String(clientSecret)}.`,
		);
	}
	return match[1];
}

function isAbsoluteUrl(value: unknown): boolean {
	try {
		new URL(String(value));
		return true;
	} catch {
		return false;
	}
}

function challengeUrlOf(intent: PaymentIntent): string | null {
	const action = intent.next_action;
	return action?.redirect_to_url?.url ?? action?.use_stripe_sdk?.stripe_js ?? null;
}

/** return_url with Stripe's query parameters, as after a redirect-based confirmation. */
function returnUrlFor(returnUrl: string, intent: PaymentIntent): string {
	const url = new URL(returnUrl);
	url.searchParams.set("payment_intent", intent.id);
	url.searchParams.set("payment_intent_client_secret", intent.client_secret);
	url.searchParams.set(
		"redirect_status",
		intent.status === "processing"
			? "processing"
			: PAID.has(intent.status)
				? "succeeded"
				: "failed",
	);
	return url.toString();
}

function failure(intent: PaymentIntent, fallbackCode: string): { error: StripeJsError } {
	const last = intent.last_payment_error;
	const code = last?.code ?? fallbackCode;
	return {
		error: {
			...(last ?? {}),
			type: last?.type ?? "invalid_request_error",
			code,
			message:
				code === "payment_intent_authentication_failure"
					? AUTHENTICATION_FAILED
					: (last?.message ?? AUTHENTICATION_FAILED),
			payment_intent: intent,
		},
	};
}

function createStripe(publishableKey: unknown, _options?: Record<string, unknown>) {
	if (typeof publishableKey !== "string") {
		throw new IntegrationError(
			`Invalid value for Stripe(): apiKey should be a string. You specified: ${String(publishableKey)}.`,
		);
	}
	if (/^[sr]k_/.test(publishableKey)) {
		throw new IntegrationError(
			"You should not use your secret key with Stripe.js.\nPlease pass a publishable key instead.",
		);
	}
	if (!/^pk_(test|live)_\w+$/.test(publishableKey)) {
		throw new IntegrationError(
			`Invalid value for Stripe(): apiKey should be a publishable key (pk_test_…). You specified: ${publishableKey}.`,
		);
	}
	const context: StripeContext = { origin: ORIGIN, publishableKey };

	const retrieve = async (clientSecret: string): Promise<PaymentIntentResult> => {
		const id = intentIdOf(clientSecret, "retrievePaymentIntent");
		const result = await stripeApi<PaymentIntent>(
			ORIGIN,
			publishableKey,
			"GET",
			`/v1/payment_intents/${id}`,
			{ client_secret: clientSecret },
		);
		return result.ok ? { paymentIntent: result.body } : { error: result.error };
	};

	/** After a confirmation: 3-D Secure if asked for, then Stripe's result or redirect. */
	const settle = async (
		confirmed: PaymentIntent,
		redirect: "always" | "if_required",
		returnUrl: string | undefined,
	): Promise<PaymentIntentResult> => {
		let intent = confirmed;
		if (intent.status === "requires_action") {
			const url = challengeUrlOf(intent);
			if (!url) return failure(intent, "payment_intent_authentication_failure");
			await runChallenge(url, ORIGIN);
			const after = await retrieve(intent.client_secret);
			if ("error" in after) return after;
			intent = after.paymentIntent;
			if (!PAID.has(intent.status)) return failure(intent, "payment_intent_authentication_failure");
		}
		if (!PAID.has(intent.status)) {
			return intent.last_payment_error
				? failure(intent, "card_declined")
				: { paymentIntent: intent };
		}
		if (redirect === "always" && returnUrl) {
			window.location.assign(returnUrlFor(returnUrl, intent));
			// Like Stripe.js: the page is leaving, so the promise never settles.
			return new Promise<never>(() => {});
		}
		return { paymentIntent: intent };
	};

	return {
		elements(options: ElementsOptions = {}): Elements {
			return new Elements(context, options);
		},

		retrievePaymentIntent: retrieve,

		async confirmPayment(options: ConfirmPaymentOptions): Promise<PaymentIntentResult> {
			const elements = options?.elements;
			if (!(elements instanceof Elements) || elements.context !== context) {
				throw new IntegrationError(
					"Invalid value for confirmPayment(): elements should be an Elements group created by this Stripe instance.",
				);
			}
			const redirect = options.redirect ?? "always";
			if (redirect !== "always" && redirect !== "if_required") {
				throw new IntegrationError(
					`Invalid value for confirmPayment(): redirect should be one of the following strings: always, if_required. You specified: ${String(redirect)}.`,
				);
			}
			const returnUrl = options.confirmParams?.return_url;
			if (returnUrl === undefined && redirect === "always") {
				throw new IntegrationError(
					"stripe.confirmPayment(): the `confirmParams.return_url` argument is required unless passing `redirect: 'if_required'`",
				);
			}
			if (returnUrl !== undefined && !isAbsoluteUrl(returnUrl)) {
				throw new IntegrationError(
					`Invalid value for confirmPayment(): confirmParams.return_url should be an absolute URL. You specified: ${returnUrl}.`,
				);
			}
			const element = elements.getElement("payment");
			if (!element?.mounted) {
				throw new IntegrationError(
					"confirmPayment(): the Payment Element of this Elements group is not mounted.",
				);
			}
			const id = intentIdOf(elements.clientSecret, "confirmPayment");
			const created = await element.createPaymentMethod(
				options.confirmParams?.payment_method_data?.billing_details ?? null,
			);
			if ("error" in created) return created;
			const confirmed = await stripeApi<PaymentIntent>(
				ORIGIN,
				publishableKey,
				"POST",
				`/v1/payment_intents/${id}/confirm`,
				{
					client_secret: elements.clientSecret,
					payment_method: created.paymentMethod.id,
					return_url: returnUrl,
					use_stripe_sdk: "true",
				},
			);
			if (!confirmed.ok) return { error: confirmed.error };
			return settle(confirmed.body, redirect, returnUrl);
		},
	};
}

export type StripeInstance = ReturnType<typeof createStripe>;

/** `Stripe(key)` and `new Stripe(key)` both work, as with Stripe.js. */
const Stripe = Object.assign(
	function Stripe(publishableKey: unknown, options?: Record<string, unknown>): StripeInstance {
		return createStripe(publishableKey, options);
	},
	{ version: 3, sandbox: true },
);

declare global {
	interface Window {
		Stripe?: typeof Stripe;
	}
}

// Loading the script twice keeps the first copy, as Stripe.js does.
window.Stripe ??= Stripe;
