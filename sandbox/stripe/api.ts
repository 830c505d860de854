import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { BodyTooLargeError, type RouteContext, type RouteHandler, readBody } from "../http.js";
import type { RequestContext, StripeEmulator } from "./emulator.js";
import { docUrl, StripeApiError, type StripeErrorBody } from "./errors.js";
import { canonicalParams, type FormObject, Params, parseForm } from "./form.js";
import { expandPaths } from "./store.js";

// The request pipeline every Stripe endpoint runs through: faults, form parsing, API-key auth,
// idempotency (replay or refuse), the handler, `expand[]`, and Stripe's error and header shapes.
// Handlers are synchronous over the in-memory store, so a request runs to completion before the
// next one starts and two requests with one key can never interleave.

/** Stripe puts a Request-Id on every response; stripe-node surfaces it on errors. */
export function stripeRequestId(): string {
	return `req_${randomBytes(7).toString("hex")}`;
}

export interface ApiCall {
	em: StripeEmulator;
	params: Params;
	path: Record<string, string>;
	ctx: RequestContext;
	/** Sent with a pk_test_ key: the handler must check the object's client_secret. */
	publishable: boolean;
	/** The connected account named by `Stripe-Account` (only on routes with `connect`), else null. */
	account: string | null;
	/** The secret (or publishable) key the request came with. */
	apiKey: string;
}

export type ApiHandler = (call: ApiCall) => unknown;

export interface ApiRouteOptions {
	/** Emulator-only routes (`…/_test/…`): never delayed or failed by faults. */
	test?: boolean;
	/** Also open to pk_test_ keys, as Stripe.js uses them with a client secret. */
	publishable?: boolean;
	/** Acts on a connected account when `Stripe-Account` names one (Connect). */
	connect?: boolean;
}

function send(
	res: ServerResponse,
	status: number,
	text: string,
	headers: Record<string, string>,
): void {
	res.writeHead(status, {
		"content-type": "application/json; charset=utf-8",
		"content-length": Buffer.byteLength(text),
		...headers,
	});
	res.end(text);
}

function errorText(error: StripeErrorBody): string {
	return JSON.stringify({ error }, null, 2);
}

const NO_KEY =
	"You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.";

function apiKeyOf(req: IncomingMessage): string | undefined {
	const header = req.headers.authorization?.trim();
	if (!header) return undefined;
	const bearer = /^Bearer\s+(\S+)$/i.exec(header);
	if (bearer) return bearer[1];
	// curl -u sk_test_…: — Basic auth with the key as the user name.
	const basic = /^Basic\s+(\S+)$/i.exec(header);
	if (basic)
		return Buffer.from(basic[1] ?? "", "base64")
			.toString("utf8")
			.split(":")[0];
	return "";
}

function redact(key: string): string {
	const prefix = /^[a-z]{2}_(test|live)_/.exec(key)?.[0] ?? key.slice(0, 3);
	return `${prefix}${"*".repeat(Math.max(0, key.length - prefix.length - 4))}${key.slice(-4)}`;
}

/** undefined when the key is a test secret key; otherwise Stripe's 401 message. */
function authProblem(key: string | undefined, publishable: boolean): string | undefined {
	if (key === undefined) return NO_KEY;
	if (/^sk_test_\w+$/.test(key)) return undefined;
	if (publishable && /^pk_test_\w+$/.test(key)) return undefined;
	if (/^pk_(test|live)_/.test(key)) {
		return "This API call cannot be made with a publishable API key. Please use a secret API key. You can find a list of your API keys at https://dashboard.stripe.com/account/apikeys.";
	}
	if (key === "") return NO_KEY;
	return `Invalid API Key provided: ${redact(key)}`;
}

function accountOf(req: IncomingMessage): string | null {
	const header = req.headers["stripe-account"];
	const value = (Array.isArray(header) ? header[0] : header)?.trim();
	return value ? value : null;
}

/**
 * Stripe answers a `Stripe-Account` naming an account the key cannot reach with a 403
 * `account_invalid`. Endpoints that do not act on connected accounts here refuse the header,
 * rather than silently acting on the platform.
 */
function connectedAccountProblem(
	em: StripeEmulator,
	account: string,
	apiKey: string,
	connect: boolean,
): StripeApiError | undefined {
	if (!em.store.accounts.has(account)) return accountInvalid(apiKey, account);
	if (!connect) {
		return new StripeApiError(400, {
			type: "invalid_request_error",
			message:
				"The Stripe emulator does not act on connected accounts at this endpoint: send Stripe-Account only to GET /v1/balance.",
		});
	}
	return undefined;
}

/** Stripe's 403 for an account id the key cannot reach (unknown, deleted, or not connected). */
export function accountInvalid(apiKey: string, account: string): StripeApiError {
	return new StripeApiError(403, {
		type: "invalid_request_error",
		message: `The provided key '${redact(apiKey)}' does not have access to account '${account}' (or that account does not exist). Application access may have been revoked.`,
		code: "account_invalid",
		doc_url: docUrl("account_invalid"),
	});
}

function originOf(req: IncomingMessage): string {
	const host = req.headers.host ?? "127.0.0.1";
	return `http://${host}`;
}

export function apiRoute(
	em: StripeEmulator,
	handler: ApiHandler,
	options: ApiRouteOptions = {},
): RouteHandler {
	return async ({ req, res, url, params: path }: RouteContext) => {
		const requestId = stripeRequestId();
		const headers: Record<string, string> = {
			"request-id": requestId,
			"stripe-version": em.apiVersion,
		};
		const method = req.method ?? "GET";
		let form: FormObject;
		try {
			form = parseForm(method === "POST" ? await readBody(req) : url.search.slice(1));
		} catch (error) {
			if (!(error instanceof BodyTooLargeError)) throw error;
			send(res, 413, errorText({ type: "invalid_request_error", message: error.message }), headers);
			return;
		}
		if (!options.test) {
			const faults = em.faults.get();
			if (faults.latencyMs > 0)
				await new Promise((resolve) => setTimeout(resolve, faults.latencyMs));
			if (faults.outage) {
				send(
					res,
					503,
					errorText({
						type: "api_error",
						message: "Stripe is temporarily unavailable (sandbox outage).",
					}),
					headers,
				);
				return;
			}
			if (em.faults.nextRequestFails()) {
				send(
					res,
					500,
					errorText({ type: "api_error", message: "An unknown error occurred (sandbox fault)." }),
					headers,
				);
				return;
			}
		}
		const apiKey = apiKeyOf(req);
		const problem = authProblem(apiKey, options.publishable ?? false);
		if (problem) {
			send(res, 401, errorText({ type: "invalid_request_error", message: problem }), {
				...headers,
				"www-authenticate": 'Bearer realm="Stripe"',
			});
			return;
		}
		const account = accountOf(req);
		const accountProblem =
			account === null
				? undefined
				: connectedAccountProblem(em, account, apiKey as string, options.connect ?? false);
		if (accountProblem) {
			send(res, accountProblem.status, errorText(accountProblem.body), headers);
			return;
		}
		const idempotencyKey =
			method === "POST" ? (req.headers["idempotency-key"] as string | undefined) : undefined;
		const ctx: RequestContext = {
			id: requestId,
			idempotencyKey: idempotencyKey ?? null,
			baseUrl: originOf(req),
		};
		const endpoint = `${method} ${url.pathname}`;
		const fingerprint = canonicalParams(form);
		// Stripe scopes keys by account: the platform's and each connected account's are separate.
		const scope = account === null ? (apiKey as string) : `${apiKey}\n${account}`;
		if (idempotencyKey !== undefined) {
			let stored: ReturnType<StripeEmulator["idempotency"]["lookup"]>;
			try {
				stored = em.idempotency.lookup(scope, idempotencyKey, endpoint, fingerprint);
			} catch (error) {
				if (!(error instanceof StripeApiError)) throw error;
				send(res, error.status, errorText(error.body), headers);
				return;
			}
			if (stored) {
				send(res, stored.status, stored.body, {
					...headers,
					"idempotency-key": idempotencyKey,
					"idempotent-replayed": "true",
					"original-request": stored.requestId,
				});
				return;
			}
		}
		let status = 200;
		let text: string;
		let store = true;
		try {
			const params = new Params(form);
			const publishable = apiKey?.startsWith("pk_") ?? false;
			const body = handler({
				em,
				params,
				path,
				ctx,
				publishable,
				account,
				apiKey: apiKey as string,
			});
			const expand = params.list("expand") ?? [];
			if (expand.length > 0) expandPaths(body, expand, em.store);
			text = JSON.stringify(body, null, 2);
		} catch (error) {
			if (!(error instanceof StripeApiError)) throw error;
			status = error.status;
			text = errorText(error.body);
			store = !error.validation;
		}
		if (idempotencyKey !== undefined) {
			headers["idempotency-key"] = idempotencyKey;
			if (store) {
				em.idempotency.save(scope, idempotencyKey, {
					endpoint,
					fingerprint,
					status,
					body: text,
					requestId,
				});
			}
		}
		send(res, status, text, headers);
	};
}
