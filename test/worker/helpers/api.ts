import { exports } from "cloudflare:workers";
import { expect } from "vitest";
import type { EventResponse } from "../../../src/routes/events";
import type { PaymentResponse } from "../../../src/routes/payments";

export const ADMIN_TOKEN = "test-admin-token";

export interface CreatedMerchant {
	merchant: { id: string; name: string };
	keys: { id: string; type: "secret" | "publishable"; livemode: boolean; secret: string }[];
}

/** Sends a request to the gateway Worker exactly as a client on the network would. */
export function call(
	method: string,
	path: string,
	options: {
		key?: string;
		body?: unknown;
		rawBody?: string;
		headers?: Record<string, string>;
	} = {},
): Promise<Response> {
	const headers: Record<string, string> = { ...options.headers };
	if (options.key) headers.Authorization = `Bearer ${options.key}`;
	let body: string | undefined;
	if (options.rawBody !== undefined) body = options.rawBody;
	else if (options.body !== undefined) {
		body = JSON.stringify(options.body);
		headers["Content-Type"] ??= "application/json";
	}
	return exports.default.fetch(
		new Request(`http://gateway.test${path}`, { method, headers, body }),
	);
}

export async function json<T = Record<string, unknown>>(res: Response): Promise<T> {
	return (await res.json()) as T;
}

export async function createMerchant(
	name = "Acme",
): Promise<CreatedMerchant & { sk: string; pk: string; skLive: string }> {
	const res = await call("POST", "/admin/v1/merchants", { key: ADMIN_TOKEN, body: { name } });
	if (res.status !== 201)
		throw new Error(`merchant create failed: ${res.status} ${await res.text()}`);
	const created = await json<CreatedMerchant>(res);
	const find = (type: string, livemode: boolean) =>
		created.keys.find((k) => k.type === type && k.livemode === livemode)?.secret as string;
	return {
		...created,
		sk: find("secret", false),
		pk: find("publishable", false),
		skLive: find("secret", true),
	};
}

export type PaymentJson = PaymentResponse;

export async function createPayment(
	key: string,
	body: Record<string, unknown> = {},
): Promise<PaymentJson> {
	const res = await call("POST", "/v1/payments", {
		key,
		body: { amount: 2500, currency: "usd", ...body },
	});
	if (res.status !== 200)
		throw new Error(`payment create failed: ${res.status} ${await res.text()}`);
	return json<PaymentJson>(res);
}

/** Sends a request with the operator's admin token. */
export function admin(method: string, path: string, body?: unknown): Promise<Response> {
	return call(method, path, body === undefined ? { key: ADMIN_TOKEN } : { key: ADMIN_TOKEN, body });
}

/** Request ids are `req_` plus 30 Crockford base32 characters. */
export const REQUEST_ID = /^req_[0-9A-HJKMNP-TV-Z]{30}$/;

/** Asserts the response carries a well-formed `Request-Id` header and returns it. */
export function expectRequestId(res: Response): string {
	const id = res.headers.get("Request-Id");
	if (id === null || !REQUEST_ID.test(id))
		throw new Error(`expected a Request-Id header like req_…, got ${String(id)}`);
	return id;
}

/**
 * The error type each code must carry, written out independently of src/lib/errors.ts so that
 * a change to the table there is caught here.
 */
export const EXPECTED_ERRORS = {
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
} as const;

export type ExpectedErrorCode = keyof typeof EXPECTED_ERRORS;

export interface ErrorJson {
	error: {
		type: string;
		code: string;
		message: string;
		param?: string;
		request_id: string;
	};
}

/**
 * Asserts the house error exactly: the status and type that belong to `code`, `param` present
 * only when expected, `request_id` equal to the `Request-Id` header, and no other keys.
 * Returns the error object for further checks (such as the message).
 */
export async function expectApiError(
	res: Response,
	code: ExpectedErrorCode,
	param?: string,
): Promise<ErrorJson["error"]> {
	const text = await res.text();
	const expected = EXPECTED_ERRORS[code];
	const requestId = expectRequestId(res);
	expect(res.status, text).toBe(expected.status);
	expect(res.headers.get("Content-Type"), text).toMatch(/^application\/json/);
	const body = JSON.parse(text) as ErrorJson;
	expect(body).toStrictEqual({
		error: {
			type: expected.type,
			code,
			message: expect.stringMatching(/\S/),
			...(param !== undefined ? { param } : {}),
			request_id: requestId,
		},
	});
	return body.error;
}

export interface ListJson<T> {
	object: "list";
	data: T[];
	has_more: boolean;
	url: string;
}

export type EventJson = EventResponse;

export interface ApiKeyJson {
	id: string;
	object: "api_key";
	type: "secret" | "publishable";
	livemode: boolean;
	redacted: string;
	created: number;
	expires_at: number | null;
	revoked_at: number | null;
	rolled_to: string | null;
	last_used_at: number | null;
	secret?: string;
}

/** GETs a list endpoint and returns its body, failing on anything but 200. */
export async function list<T>(key: string, path: string): Promise<ListJson<T>> {
	const res = await call("GET", path, { key });
	if (res.status !== 200) throw new Error(`list ${path} failed: ${res.status} ${await res.text()}`);
	return json<ListJson<T>>(res);
}

/** Cancels a payment, failing on anything but 200. */
export async function cancelPayment(key: string, id: string): Promise<PaymentJson> {
	const res = await call("POST", `/v1/payments/${id}/cancel`, { key });
	if (res.status !== 200) throw new Error(`cancel ${id} failed: ${res.status} ${await res.text()}`);
	return json<PaymentJson>(res);
}

/** A well-formed API key that was never issued. */
export function unknownKey(prefix: "sk_test" | "sk_live" | "pk_test" = "sk_test"): string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	const body = Array.from(crypto.getRandomValues(new Uint8Array(32)), (b) => alphabet[b % 62]);
	return `${prefix}_${body.join("")}`;
}
