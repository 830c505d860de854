import { createServer, type Server, type ServerResponse } from "node:http";
import { errorMessage, type Log, Router, routerListener, sendJson } from "../http.js";
import { stripeRequestId } from "./api.js";
import { registerOnboardingPage } from "./connect-onboarding.js";
import { registerConnectRoutes } from "./connect-routes.js";
import { applyCors } from "./cors.js";
import { StripeEmulator } from "./emulator.js";
import type { StripeErrorBody } from "./errors.js";
import { registerStripeJs } from "./js/assets.js";
import { registerPaymentIntentRoutes } from "./payment-intent-routes.js";
import { registerResourceRoutes } from "./routes.js";
import { registerThreeDSecurePage } from "./three-d-secure.js";

// Stripe API emulator: the HTTP server and router. The endpoints live beside the resources they
// serve (payment-intent-routes.ts, routes.ts), the 3-D Secure page in three-d-secure.ts, the
// stand-in Stripe.js in js/, CORS for browsers in cors.ts, and the state in StripeEmulator
// (emulator.ts).

export { stripeRequestId } from "./api.js";
export type { StripeErrorBody, StripeErrorType } from "./errors.js";

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

/**
 * The emulator's router: the health check, and with an emulator every Stripe endpoint it
 * serves. Without one, a bare router that tests register their own endpoints on.
 */
export function createStripeRouter(emulator?: StripeEmulator): Router {
	const router = new Router();
	// Not a Stripe endpoint: lets scripts and the control server probe the emulator.
	router.get("/health", ({ res }) => sendJson(res, 200, { status: "ok" }));
	if (emulator) {
		registerPaymentIntentRoutes(router, emulator);
		registerResourceRoutes(router, emulator);
		registerConnectRoutes(router, emulator);
		registerOnboardingPage(router, emulator);
		registerThreeDSecurePage(router, emulator);
		registerStripeJs(router, emulator.log);
	}
	return router;
}

export interface StripeServerOptions {
	router?: Router;
	/** The state behind the endpoints; a fresh one when neither it nor a router is given. */
	emulator?: StripeEmulator;
	log?: Log;
}

export function createStripeServer(options: StripeServerOptions = {}): Server {
	const router =
		options.router ??
		createStripeRouter(options.emulator ?? new StripeEmulator({ log: options.log }));
	const log = options.log ?? (() => {});
	const listener = routerListener(router, {
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
	});
	return createServer((req, res) => {
		if (!applyCors(req, res)) listener(req, res);
	});
}
