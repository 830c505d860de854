// Stripe's error body and the exception handlers throw to produce it. The pipeline turns a
// StripeApiError into `{error: {...}}` with its HTTP status; anything else is a 500 api_error.

export type StripeErrorType =
	| "api_error"
	| "card_error"
	| "idempotency_error"
	| "invalid_request_error";

export interface StripeErrorBody {
	type: StripeErrorType;
	message: string;
	code?: string;
	decline_code?: string;
	param?: string;
	doc_url?: string;
	/** Card errors and PaymentIntent state errors carry these, as on Stripe. */
	charge?: string;
	payment_intent?: unknown;
	payment_method?: unknown;
}

export class StripeApiError extends Error {
	constructor(
		readonly status: number,
		readonly body: StripeErrorBody,
		/** Validation failures are not stored under an idempotency key (Stripe's rule). */
		readonly validation = false,
	) {
		super(body.message);
		this.name = "StripeApiError";
	}
}

export function docUrl(code: string): string {
	return `https://stripe.com/docs/error-codes/${code.replaceAll("_", "-")}`;
}

/** A 400 invalid_request_error raised while reading parameters: never stored for replay. */
export function invalidParam(message: string, param: string, code?: string): StripeApiError {
	const body: StripeErrorBody = { type: "invalid_request_error", message, param };
	if (code) {
		body.code = code;
		body.doc_url = docUrl(code);
	}
	return new StripeApiError(400, body, true);
}

export function missingParam(param: string): StripeApiError {
	return invalidParam(`Missing required param: ${param}.`, param, "parameter_missing");
}

export function unknownParam(param: string): StripeApiError {
	return invalidParam(`Received unknown parameter: ${param}`, param, "parameter_unknown");
}

/** `No such payment_intent: 'pi_…'`, Stripe's 404 for an unknown id. */
export function resourceMissing(kind: string, id: string, param = "id"): StripeApiError {
	return new StripeApiError(404, {
		type: "invalid_request_error",
		message: `No such ${kind}: '${id}'`,
		code: "resource_missing",
		doc_url: docUrl("resource_missing"),
		param,
	});
}

/** A request that is well-formed but not allowed in the object's current state. */
export function invalidRequest(
	message: string,
	extra: Omit<StripeErrorBody, "type" | "message"> = {},
): StripeApiError {
	const body: StripeErrorBody = { type: "invalid_request_error", message, ...extra };
	if (body.code && !body.doc_url) body.doc_url = docUrl(body.code);
	return new StripeApiError(400, body);
}
