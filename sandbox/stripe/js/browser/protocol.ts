// What the stand-in Stripe.js (on the merchant's page), its card frame and the 3-D Secure
// challenge page (both on the emulator's origin) say to each other over postMessage. Every
// message carries NS and, between the page and a card frame, the frame's id; each side checks
// the sender's origin and window before reading anything. DOM-free: the emulator imports it too.

export const NS = "streampayments-sandbox-stripe-js";

/** Stripe's error object, as Stripe.js resolves it (`{error}`). */
export interface StripeJsError {
	type: string;
	code?: string;
	decline_code?: string;
	message: string;
	param?: string;
	doc_url?: string;
	charge?: string;
	payment_intent?: unknown;
	payment_method?: unknown;
}

export interface BillingDetails {
	name?: string;
	email?: string;
	phone?: string;
	address?: Record<string, string>;
}

/** Appearance variables the card frame applies (a subset of Stripe's Appearance API). */
export const APPEARANCE_VARIABLES = [
	"colorPrimary",
	"colorBackground",
	"colorText",
	"colorDanger",
	"fontFamily",
	"fontSizeBase",
	"borderRadius",
	"spacingUnit",
] as const;
export type AppearanceVariable = (typeof APPEARANCE_VARIABLES)[number];

export interface FrameAppearance {
	theme: "stripe" | "night" | "flat";
	variables: Partial<Record<AppearanceVariable, string>>;
}

export type FrameToPage =
	| { type: "ready" }
	| { type: "change"; complete: boolean; empty: boolean }
	| { type: "focus" }
	| { type: "blur" }
	| { type: "resize"; height: number }
	| { type: "validated"; request: number; error: StripeJsError | null }
	| { type: "payment-method"; request: number; paymentMethod: { id: string } }
	| { type: "payment-method-error"; request: number; error: StripeJsError };

export type PageToFrame =
	| { type: "validate"; request: number }
	| { type: "create-payment-method"; request: number; billingDetails: BillingDetails | null }
	| { type: "focus" }
	| { type: "clear" };

export type Envelope<T> = T & { ns: typeof NS; frame: string };

/** Sent by the challenge page in a Stripe.js modal once the payer has answered. */
export interface ChallengeDone {
	ns: typeof NS;
	type: "3ds-complete";
	payment_intent: string;
}

export function isEnvelope(data: unknown): data is { ns: string; type: string; frame?: string } {
	return (
		typeof data === "object" &&
		data !== null &&
		(data as { ns?: unknown }).ns === NS &&
		typeof (data as { type?: unknown }).type === "string"
	);
}

/** `https://shop.example` from `https://shop.example/`; null for anything but an http(s) origin. */
export function parseOrigin(value: string | null | undefined): string | null {
	if (!value) return null;
	try {
		const url = new URL(value);
		if (url.protocol !== "http:" && url.protocol !== "https:") return null;
		return url.origin === value.replace(/\/$/, "") ? url.origin : null;
	} catch {
		return null;
	}
}
