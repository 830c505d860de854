import type { IncomingMessage, ServerResponse } from "node:http";
import { BadRequest, type Router, readJsonObject, sendJson } from "../http.js";
import { completeOnboarding, restrictAccount } from "./connect-accounts.js";
import { balanceJson, platformBalance, topUp } from "./connect-transfers.js";
import { createDispute } from "./disputes.js";
import type { StripeEmulator } from "./emulator.js";
import { StripeApiError } from "./errors.js";
import { MAX_AMOUNT, readCurrency } from "./money.js";
import { authenticatePaymentIntent } from "./payment-intents.js";
import { snapshot } from "./store.js";

// The Stripe emulator's knobs on the sandbox control server (JSON in and out, under
// /admin/stripe): the webhook endpoint, faults, the timings of asynchronous steps, and the
// things a card network or payer does on Stripe's side (3-D Secure, disputes).

function optionalString(body: Record<string, unknown>, name: string): string | undefined {
	const value = body[name];
	if (value === undefined) return undefined;
	if (typeof value !== "string" || value === "")
		throw new BadRequest(`${name} must be a non-empty string`);
	return value;
}

function fail(res: ServerResponse, error: unknown): void {
	if (error instanceof StripeApiError) {
		const code = error.body.code ?? (error.status === 404 ? "resource_missing" : "invalid_request");
		sendJson(res, error.status, { error: { code, message: error.body.message } });
	} else if (error instanceof BadRequest || error instanceof RangeError) {
		sendJson(res, 400, { error: { code: "invalid_request", message: error.message } });
	} else {
		throw error;
	}
}

type JsonHandler = (body: Record<string, unknown>, params: Record<string, string>) => unknown;

function json(handler: JsonHandler) {
	return async ({
		req,
		res,
		params,
	}: {
		req: IncomingMessage;
		res: ServerResponse;
		params: Record<string, string>;
	}) => {
		try {
			const body = req.method === "POST" ? await readJsonObject(req) : {};
			sendJson(res, 200, await handler(body, params));
		} catch (error) {
			fail(res, error);
		}
	};
}

export function registerStripeControlRoutes(router: Router, em: StripeEmulator): void {
	const state = () => ({
		webhook: em.webhook(),
		retry: em.webhooks.retryOptions(),
		faults: em.faults.get(),
		timings: { ...em.timings },
	});

	router.get("/admin/stripe", json(state));

	router.get(
		"/admin/stripe/webhook",
		json(() => ({ webhook: em.webhook(), retry: em.webhooks.retryOptions() })),
	);
	router.post(
		"/admin/stripe/webhook",
		json((body) => {
			const url = optionalString(body, "url");
			if (!url) throw new BadRequest("url must be a non-empty string");
			const events = body.enabledEvents;
			if (
				events !== undefined &&
				(!Array.isArray(events) || !events.every((e) => typeof e === "string"))
			) {
				throw new BadRequest("enabledEvents must be an array of event types");
			}
			const retry = body.retry;
			if (retry !== undefined) {
				if (typeof retry !== "object" || retry === null)
					throw new BadRequest("retry must be an object");
				for (const [key, value] of Object.entries(retry)) {
					if (!["attempts", "initialDelayMs", "maxDelayMs", "timeoutMs"].includes(key)) {
						throw new BadRequest(`unknown retry field ${key}`);
					}
					if (
						typeof value !== "number" ||
						!Number.isInteger(value) ||
						value < (key === "attempts" ? 1 : 0)
					) {
						throw new BadRequest(`retry.${key} must be a non-negative integer`);
					}
				}
			}
			const webhook = em.setWebhook({
				url,
				secret: optionalString(body, "secret"),
				enabledEvents: events as string[] | undefined,
			});
			if (retry) em.webhooks.setRetry(retry as Record<string, number>);
			return { webhook, retry: em.webhooks.retryOptions() };
		}),
	);
	router.delete(
		"/admin/stripe/webhook",
		json(() => {
			em.clearWebhook();
			return { webhook: null };
		}),
	);
	router.get(
		"/admin/stripe/webhook/deliveries",
		json(() => ({ deliveries: em.deliveries() })),
	);

	router.get(
		"/admin/stripe/faults",
		json(() => em.faults.get()),
	);
	router.post(
		"/admin/stripe/faults",
		json((body) => em.setFaults(body)),
	);

	router.get(
		"/admin/stripe/timings",
		json(() => ({ ...em.timings })),
	);
	router.post(
		"/admin/stripe/timings",
		json((body) => em.setTimings(body)),
	);

	router.post(
		"/admin/stripe/payment_intents/:id/authenticate",
		json((body, params) => {
			const intent = em.store.get(em.store.paymentIntents, "payment_intent", params.id ?? "");
			const outcome = body.outcome ?? "succeed";
			if (outcome !== "succeed" && outcome !== "fail")
				throw new BadRequest("outcome must be succeed or fail");
			authenticatePaymentIntent(em, intent, outcome, null);
			return snapshot(intent);
		}),
	);

	router.post(
		"/admin/stripe/disputes",
		json((body) => {
			const chargeId = optionalString(body, "charge");
			const intentId = optionalString(body, "payment_intent");
			let id = chargeId;
			if (!id && intentId) {
				const intent = em.store.get(em.store.paymentIntents, "payment_intent", intentId);
				id = (intent.latest_charge as string | null) ?? undefined;
			}
			if (!id) throw new BadRequest("charge or payment_intent (with a charge) is required");
			const charge = em.store.get(em.store.charges, "charge", id);
			const amount = body.amount;
			if (amount !== undefined && typeof amount !== "number")
				throw new BadRequest("amount must be an integer");
			const reason = optionalString(body, "reason");
			const dispute = createDispute(
				em,
				charge,
				{ ...(reason ? { reason } : {}), ...(amount !== undefined ? { amount } : {}) },
				null,
			);
			return snapshot(dispute);
		}),
	);

	// Connect: what the merchant (onboarding) and Stripe (restricting an account) do, and money
	// for the platform's balance; the same as the `/v1/…/_test/…` routes.
	const accountFor = (params: Record<string, string>) =>
		em.store.get(em.store.accounts, "account", params.id ?? "");
	router.post(
		"/admin/stripe/accounts/:id/complete_onboarding",
		json((_body, params) => snapshot(completeOnboarding(em, accountFor(params), null))),
	);
	router.post(
		"/admin/stripe/accounts/:id/restrict",
		json((_body, params) => snapshot(restrictAccount(em, accountFor(params), null))),
	);
	router.post(
		"/admin/stripe/accounts/:id/fail_next_transfer",
		json((_body, params) => {
			const account = accountFor(params);
			em.store.failNextTransfer.add(account.id);
			return { account: account.id, fail_next_transfer: true };
		}),
	);
	router.get(
		"/admin/stripe/balance",
		json(() => balanceJson(platformBalance(em))),
	);
	router.post(
		"/admin/stripe/balance/top_up",
		json((body) => {
			const amount = body.amount;
			if (
				typeof amount !== "number" ||
				!Number.isSafeInteger(amount) ||
				amount < 1 ||
				amount > MAX_AMOUNT
			) {
				throw new BadRequest(`amount must be an integer number of minor units (1..${MAX_AMOUNT})`);
			}
			const currency = readCurrency(optionalString(body, "currency") ?? "usd");
			const txn = topUp(em, amount, currency);
			return { balance_transaction: snapshot(txn), balance: balanceJson(platformBalance(em)) };
		}),
	);

	router.post(
		"/admin/stripe/reset",
		json(async () => {
			await em.reset();
			return state();
		}),
	);
}
