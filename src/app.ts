import { OpenAPIHono } from "@hono/zod-openapi";
import { HTTPException } from "hono/http-exception";
import { registerCheckout } from "./checkout/routes";
import { sandboxWallet } from "./checkout/sandbox-wallet";
import { registerCheckoutSignIn } from "./checkout/sign-in";
import { assertEnv } from "./config";
import { createServices } from "./context";
import { registerDashboard } from "./dashboard";
import { looksLikeJwt } from "./lib/checkout-token";
import { ApiError } from "./lib/errors";
import { log } from "./lib/log";
import { zodToApiError } from "./lib/validation";
import { authFailureLimit, bodyLimits, htmlSecurityHeaders } from "./middleware/abuse";
import { adminAuth, apiKeyAuth, checkoutTokenAuth } from "./middleware/auth";
import { idempotency } from "./middleware/idempotency";
import { ipRateLimit, rateLimit } from "./middleware/rate-limit";
import { requestId } from "./middleware/request-id";
import { registerAdminEncryption } from "./routes/admin/encryption";
import { registerAdminInvitations } from "./routes/admin/invitations";
import { registerAdminMerchants } from "./routes/admin/merchants";
import { registerAdminReports } from "./routes/admin/reports";
import { registerAdminTreasury } from "./routes/admin/treasury";
import { registerAdminUnattributed } from "./routes/admin/unattributed";
import { registerAnalytics } from "./routes/analytics";
import { registerAuditLog } from "./routes/audit-log";
import { registerBalances } from "./routes/balances";
import { registerConversions } from "./routes/conversions";
import { registerCustomers } from "./routes/customers";
import { registerDocs } from "./routes/docs";
import { registerEvents } from "./routes/events";
import { registerHealth } from "./routes/health";
import { registerPaymentLinks } from "./routes/payment-links";
import { registerPayments } from "./routes/payments";
import { registerPayoutDestinations } from "./routes/payout-destinations";
import { registerPayoutTransactions } from "./routes/payout-transactions";
import { registerPayouts } from "./routes/payouts";
import { registerRates } from "./routes/rates";
import { registerRefunds } from "./routes/refunds";
import { registerReports } from "./routes/reports";
import { registerRiskRules } from "./routes/risk-rules";
import { registerRoutingRules } from "./routes/routing-rules";
import { registerSettings } from "./routes/settings";
import { registerSolanaPay } from "./routes/solana-pay";
import { registerStripeWebhooks } from "./routes/stripe-webhooks";
import { registerWebhookEndpoints } from "./routes/webhook-endpoints";
import type { App, AppEnv } from "./types";

/** Builds the gateway's HTTP app: one error shape, one validation hook, routes registered per file. */
export function createApp(): App {
	const app = new OpenAPIHono<AppEnv>({
		defaultHook: (result, c) => {
			if (!result.success) {
				const error = zodToApiError(result.error, result.target);
				return c.json(error.toBody(c.get("requestId")), error.status);
			}
		},
	});

	app.use("*", requestId());
	// Configuration and bindings checked, services built: a bad variable fails every request
	// with one clear error rather than deep in a handler.
	app.use("*", async (c, next) => {
		assertEnv(c.env);
		c.set("services", createServices(c.env));
		await next();
	});
	app.use("*", htmlSecurityHeaders());
	app.use("*", async (c, next) => {
		// JSON in and out: a body in another format is refused before anything reads it.
		if (c.req.method === "POST" && c.req.header("Content-Length") !== "0") {
			const type = c.req.header("Content-Type");
			if (
				type !== undefined &&
				!/^application\/json\b/i.test(type) &&
				!c.req.path.startsWith("/webhooks/") &&
				// The dashboard's HTML forms post url-encoded bodies; it reads and checks them itself.
				!c.req.path.startsWith("/dashboard/")
			) {
				throw new ApiError(
					"body_invalid",
					"Request bodies must be JSON (Content-Type: application/json).",
				);
			}
		}
		await next();
	});
	// Bodies: 64 KB and strict JSON; Stripe's signed events are bigger and are taken as sent.
	app.use(
		"*",
		bodyLimits({
			overrides: [{ prefix: "/webhooks/", maxBytes: 512 * 1024 }],
			lenientJson: ["/webhooks/"],
		}),
	);

	const secretOnly = apiKeyAuth();
	// A checkout may re-quote with the publishable key; everything else needs the secret key.
	const secretOrPublishable = apiKeyAuth({ allow: ["secret", "publishable"] });
	// A checkout page re-quotes its own payment with its checkout token (a JWT, never an API key).
	const quotePath = /^\/v1\/payments\/([^/]+)\/quote$/;
	const checkoutToken = checkoutTokenAuth((path) => quotePath.exec(path)?.[1] ?? null);
	const v1Auth = authFailureLimit(async (c, next) => {
		if (c.req.path === "/v1/openapi.json") return next();
		if (quotePath.test(c.req.path)) {
			const bearer = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header("Authorization") ?? "")?.[1];
			if (bearer && looksLikeJwt(bearer)) return checkoutToken(c, next);
			return secretOrPublishable(c, next);
		}
		return secretOnly(c, next);
	});
	app.use("/v1/*", v1Auth);
	app.use("/v1/*", rateLimit());
	app.use("/v1/*", idempotency());
	// Payer-facing endpoints have no key to count by: limit per client IP (hashed assets excepted).
	const checkoutLimit = ipRateLimit("CHECKOUT_RATE_LIMITER");
	app.use("/checkout/*", async (c, next) =>
		c.req.path.startsWith("/checkout/assets/") ? next() : checkoutLimit(c, next),
	);
	app.use("/solana-pay/*", checkoutLimit);
	// Local development only (test-mode checkouts offer the sandbox's wallet); a no-op elsewhere.
	app.use("/checkout/:id", sandboxWallet());
	app.use("/admin/*", adminAuth());
	app.use("/admin/*", idempotency());

	registerHealth(app);
	registerAdminMerchants(app);
	registerAdminInvitations(app);
	registerAdminEncryption(app);
	registerAdminUnattributed(app);
	registerAdminReports(app);
	registerAdminTreasury(app);
	registerPayments(app);
	registerRefunds(app);
	registerPayouts(app);
	registerPayoutDestinations(app);
	registerCustomers(app);
	registerPaymentLinks(app);
	registerRoutingRules(app);
	registerRiskRules(app);
	registerEvents(app);
	registerAuditLog(app);
	registerWebhookEndpoints(app);
	registerBalances(app);
	registerAnalytics(app);
	registerConversions(app);
	registerReports(app);
	registerRates(app);
	registerSettings(app);
	registerPayoutTransactions(app);
	registerCheckout(app);
	registerCheckoutSignIn(app);
	registerDashboard(app);
	registerSolanaPay(app);
	registerStripeWebhooks(app);
	registerDocs(app);

	app.notFound((c) => {
		const error = new ApiError(
			"route_not_found",
			`Unrecognized request URL (${c.req.method}: ${c.req.path}).`,
		);
		return c.json(error.toBody(c.get("requestId")), error.status);
	});

	app.onError((err, c) => {
		const requestId = c.get("requestId") ?? "req_unknown";
		if (err instanceof ApiError) return c.json(err.toBody(requestId), err.status);
		if (err instanceof HTTPException && err.status === 400) {
			// Hono's JSON validator reports a body that is not JSON this way.
			const error = new ApiError("body_invalid", "The request body is not valid JSON.");
			return c.json(error.toBody(requestId), error.status);
		}
		log("error", "unhandled error", {
			request_id: requestId,
			method: c.req.method,
			path: c.req.path,
			error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
			stack: err instanceof Error ? err.stack : undefined,
		});
		const error = new ApiError(
			"internal_error",
			"An internal error occurred. Retry later; quote the request id if it persists.",
		);
		return c.json(error.toBody(requestId), error.status);
	});

	return app;
}
