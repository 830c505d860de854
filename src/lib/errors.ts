import type { ContentfulStatusCode } from "hono/utils/http-status";

/** The closed set of error codes, each with its HTTP status and error type. */
export const ERROR_CODES = {
	parameter_invalid: { status: 400, type: "invalid_request_error" },
	parameter_missing: { status: 400, type: "invalid_request_error" },
	balance_insufficient: { status: 400, type: "invalid_request_error" },
	body_invalid: { status: 400, type: "invalid_request_error" },
	body_too_large: { status: 413, type: "invalid_request_error" },
	signature_invalid: { status: 400, type: "invalid_request_error" },
	card_declined: { status: 402, type: "card_error" },
	payment_blocked: { status: 402, type: "invalid_request_error" },
	processor_error: { status: 502, type: "api_error" },
	api_key_missing: { status: 401, type: "authentication_error" },
	api_key_invalid: { status: 401, type: "authentication_error" },
	api_key_expired: { status: 401, type: "authentication_error" },
	secret_key_required: { status: 401, type: "authentication_error" },
	sign_in_invalid: { status: 401, type: "authentication_error" },
	session_required: { status: 401, type: "authentication_error" },
	resource_missing: { status: 404, type: "invalid_request_error" },
	route_not_found: { status: 404, type: "invalid_request_error" },
	payment_unexpected_state: { status: 409, type: "invalid_request_error" },
	resource_conflict: { status: 409, type: "invalid_request_error" },
	idempotency_key_in_use: { status: 409, type: "idempotency_error" },
	idempotency_key_mismatch: { status: 422, type: "idempotency_error" },
	rate_limited: { status: 429, type: "rate_limit_error" },
	internal_error: { status: 500, type: "api_error" },
	service_unavailable: { status: 503, type: "api_error" },
} as const satisfies Record<string, { status: ContentfulStatusCode; type: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorBody {
	error: {
		type: string;
		code: ErrorCode;
		message: string;
		param?: string;
		request_id: string;
	};
}

/** An error meant for the API client: its message is safe to show. */
export class ApiError extends Error {
	readonly code: ErrorCode;
	readonly param?: string;

	constructor(code: ErrorCode, message: string, param?: string) {
		super(message);
		this.name = "ApiError";
		this.code = code;
		if (param !== undefined) this.param = param;
	}

	get status(): ContentfulStatusCode {
		return ERROR_CODES[this.code].status;
	}

	toBody(requestId: string): ErrorBody {
		return {
			error: {
				type: ERROR_CODES[this.code].type,
				code: this.code,
				message: this.message,
				...(this.param !== undefined ? { param: this.param } : {}),
				request_id: requestId,
			},
		};
	}
}

export function notFound(what: string, id: string, param = "id"): ApiError {
	// Ids are short; a huge path segment is not echoed back whole.
	const shown = id.length > 80 ? `${id.slice(0, 80)}…` : id;
	return new ApiError("resource_missing", `No such ${what}: '${shown}'`, param);
}
