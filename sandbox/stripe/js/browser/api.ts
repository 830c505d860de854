import type { StripeJsError } from "./protocol";

// Calls to the Stripe API with the publishable key, form-encoded as Stripe.js sends them
// (`card[number]=…`), from the merchant's page (CORS) or from the card frame (same origin).

/** The API version the emulator speaks (stripe-node 23's), sent as Stripe.js sends its own. */
export const STRIPE_JS_API_VERSION = "2026-10-28.endive";

type FormInput = { [key: string]: FormInput | string | number | boolean | null | undefined };

/** `{card: {number: "4242…"}}` → `card[number]=4242…`; null and undefined are left out. */
export function encodeForm(params: FormInput): string {
	const pairs: string[] = [];
	const walk = (value: FormInput[string], key: string) => {
		if (value === null || value === undefined) return;
		if (typeof value === "object") {
			for (const [inner, child] of Object.entries(value)) walk(child, `${key}[${inner}]`);
			return;
		}
		pairs.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`);
	};
	for (const [key, value] of Object.entries(params)) walk(value, key);
	return pairs.join("&");
}

export type ApiResult<T> = { ok: true; body: T } | { ok: false; error: StripeJsError };

export async function stripeApi<T>(
	base: string,
	key: string,
	method: "GET" | "POST",
	path: string,
	params: FormInput,
): Promise<ApiResult<T>> {
	const form = encodeForm(params);
	const url = method === "GET" && form ? `${base}${path}?${form}` : `${base}${path}`;
	let response: Response;
	try {
		response = await fetch(url, {
			method,
			headers: {
				Authorization: `Bearer ${key}`,
				"Stripe-Version": STRIPE_JS_API_VERSION,
				...(method === "POST" ? { "Content-Type": "application/x-www-form-urlencoded" } : {}),
			},
			...(method === "POST" ? { body: form } : {}),
		});
	} catch {
		return {
			ok: false,
			error: {
				type: "api_connection_error",
				message: "We could not connect to Stripe. Please check your connection and try again.",
			},
		};
	}
	let body: unknown;
	try {
		body = await response.json();
	} catch {
		body = undefined;
	}
	if (response.ok) return { ok: true, body: body as T };
	const error = (body as { error?: StripeJsError } | undefined)?.error;
	return {
		ok: false,
		error: error ?? {
			type: "api_error",
			message: `An unexpected error occurred (HTTP ${response.status}).`,
		},
	};
}
