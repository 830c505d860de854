import { randomBytes } from "node:crypto";
import { createServer, type Server, type ServerResponse } from "node:http";
import { errorMessage, type Log, Router, routerListener, sendJson } from "../http.js";

// Stripe API emulator. Only the skeleton for now; PaymentIntents, Refunds and webhooks
// register their routes on the router returned by createStripeRouter().

export type StripeErrorType =
	| "api_error"
	| "card_error"
	| "idempotency_error"
	| "invalid_request_error";

export interface StripeErrorBody {
	type: StripeErrorType;
	message: string;
	code?: string;
	param?: string;
}

/** Stripe puts a Request-Id on every response; stripe-node surfaces it on errors. */
export function stripeRequestId(): string {
	return `req_${randomBytes(7).toString("hex")}`;
}

export function sendStripeError(res: ServerResponse, status: number, error: StripeErrorBody): void {
	sendJson(res, status, { error }, { "request-id": stripeRequestId() });
}

export function sendStripeJson(res: ServerResponse, status: number, body: unknown): void {
	sendJson(res, status, body, { "request-id": stripeRequestId() });
}

/** Stripe's own wording, including the trailing-slash hint it adds for `/v1/refunds/`. */
export function unrecognizedUrlMessage(method: string, pathname: string): string {
	const hint =
		pathname.endsWith("/") && pathname !== "/"
			? " If you are trying to list objects, remove the trailing slash. If you are trying to retrieve an object, make sure you passed a valid (non-empty) identifier in your code."
			: "";
	return `Unrecognized request URL (${method}: ${pathname}).${hint} Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`;
}

export function createStripeRouter(): Router {
	const router = new Router();
	// Not a Stripe endpoint: lets scripts and the control server probe the emulator.
	router.get("/health", ({ res }) => sendJson(res, 200, { status: "ok" }));
	return router;
}

export interface StripeServerOptions {
	router?: Router;
	log?: Log;
}

export function createStripeServer(options: StripeServerOptions = {}): Server {
	const router = options.router ?? createStripeRouter();
	const log = options.log ?? (() => {});
	return createServer(
		routerListener(router, {
			notFound: ({ req, res, url }) =>
				sendStripeError(res, 404, {
					type: "invalid_request_error",
					message: unrecognizedUrlMessage(req.method ?? "GET", url.pathname),
					code: "resource_missing",
				}),
			onError: ({ req, res, url }, error) => {
				log(`stripe: ${req.method} ${url.pathname} failed: ${errorMessage(error)}`);
				if (res.headersSent) {
					res.destroy();
					return;
				}
				sendStripeError(res, 500, {
					type: "api_error",
					message: "An unknown error occurred in the Stripe emulator.",
				});
			},
		}),
	);
}
