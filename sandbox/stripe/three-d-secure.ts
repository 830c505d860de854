import type { ServerResponse } from "node:http";
import { type Router, readBody } from "../http.js";
import type { StripeEmulator } from "./emulator.js";
import { StripeApiError } from "./errors.js";
import { parseForm } from "./form.js";
import { type ChallengeDone, NS, parseOrigin } from "./js/browser/protocol.js";
import { formatAmount } from "./money.js";
import { authenticatePaymentIntent } from "./payment-intents.js";

// The issuer's 3-D Secure challenge page that `next_action` points at, like Stripe's test page:
// "Complete" or "Fail" authentication, then back to `return_url` with Stripe's query parameters
// (`payment_intent`, `payment_intent_client_secret`, `redirect_status`). Authorised by the
// PaymentIntent's client secret, as a browser would be; never affected by faults.
//
// Inside the stand-in Stripe.js's modal (`parent_origin=<the merchant page's origin>`), the page
// never navigates to return_url: once the payer has answered (or there is nothing to answer) it
// tells that origin, and only it, with a postMessage, and Stripe.js reads the intent's outcome.

export function escapeHtml(text: string): string {
	return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The script that tells the Stripe.js modal on `parentOrigin` the payer is done here. */
function notifyParent(parentOrigin: string | null, intentId: string): string {
	if (!parentOrigin) return "";
	const message: ChallengeDone = { ns: NS, type: "3ds-complete", payment_intent: intentId };
	// JSON inside <script>: "<" escaped so no value can close the element.
	const json = (value: unknown) => JSON.stringify(value).replace(/</g, "\\u003c");
	return `<script>window.parent.postMessage(${json(message)}, ${json(parentOrigin)});</script>`;
}

export function sendHtml(
	res: ServerResponse,
	status: number,
	title: string,
	body: string,
	script = "",
): void {
	const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><meta name="viewport" content="width=device-width, initial-scale=1"></head><body style="font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem">${body}${script}</body></html>`;
	res.writeHead(status, {
		"content-type": "text/html; charset=utf-8",
		"content-length": Buffer.byteLength(html),
		"cache-control": "no-store",
	});
	res.end(html);
}

export function registerThreeDSecurePage(router: Router, em: StripeEmulator): void {
	const intentFor = (id: string, secret: string | null | undefined) => {
		const intent = em.store.paymentIntents.get(id);
		return intent && secret && intent.client_secret === secret ? intent : undefined;
	};

	router.get("/_test/3ds/:id", ({ res, url, params }) => {
		const id = params.id ?? "";
		const secret = url.searchParams.get("client_secret");
		const parentOrigin = parseOrigin(url.searchParams.get("parent_origin"));
		const intent = intentFor(id, secret);
		if (!intent) {
			sendHtml(
				res,
				404,
				"Not found",
				"<p>No such payment, or the client secret does not match.</p>",
				notifyParent(parentOrigin, id),
			);
			return;
		}
		if (intent.status !== "requires_action") {
			sendHtml(
				res,
				409,
				"Nothing to authenticate",
				`<p>This payment is ${escapeHtml(intent.status)}.</p>`,
				notifyParent(parentOrigin, id),
			);
			return;
		}
		const amount = formatAmount(intent.amount, intent.currency);
		const embedded = parentOrigin
			? `<input type="hidden" name="parent_origin" value="${escapeHtml(parentOrigin)}">`
			: "";
		const form = (outcome: string, label: string) =>
			`<form method="post" style="display:inline"><input type="hidden" name="client_secret" value="${escapeHtml(secret ?? "")}">${embedded}<input type="hidden" name="outcome" value="${outcome}"><button type="submit" name="submit" value="${outcome}">${label}</button></form> `;
		sendHtml(
			res,
			200,
			"3D Secure test payment",
			`<h1>3D Secure test payment</h1><p>Stripe sandbox: authenticate a payment of ${escapeHtml(amount)} (${escapeHtml(intent.id)}).</p>${form("succeed", "Complete")}${form("fail", "Fail")}`,
		);
	});

	router.post("/_test/3ds/:id", async ({ req, res, params }) => {
		const form = parseForm(await readBody(req));
		const id = params.id ?? "";
		const secret = typeof form.client_secret === "string" ? form.client_secret : undefined;
		const parentOrigin =
			typeof form.parent_origin === "string" ? parseOrigin(form.parent_origin) : null;
		const intent = intentFor(id, secret);
		if (!intent) {
			sendHtml(
				res,
				404,
				"Not found",
				"<p>No such payment, or the client secret does not match.</p>",
				notifyParent(parentOrigin, id),
			);
			return;
		}
		const returnUrl = em.store.attempts.get(id)?.returnUrl ?? null;
		const outcome = form.outcome === "fail" ? "fail" : "succeed";
		try {
			authenticatePaymentIntent(em, intent, outcome, null);
		} catch (error) {
			if (!(error instanceof StripeApiError)) throw error;
			sendHtml(
				res,
				409,
				"Nothing to authenticate",
				`<p>${escapeHtml(error.body.message)}</p>`,
				notifyParent(parentOrigin, id),
			);
			return;
		}
		if (parentOrigin) {
			const done = outcome === "succeed" ? "Authentication complete." : "Authentication failed.";
			sendHtml(
				res,
				200,
				"3D Secure test payment",
				`<p>${done}</p>`,
				notifyParent(parentOrigin, id),
			);
			return;
		}
		if (!returnUrl) {
			sendHtml(
				res,
				200,
				"Authentication complete",
				"<p>Authentication complete. You can close this window.</p>",
			);
			return;
		}
		const target = new URL(returnUrl);
		target.searchParams.set("payment_intent", intent.id);
		target.searchParams.set("payment_intent_client_secret", intent.client_secret ?? "");
		target.searchParams.set(
			"redirect_status",
			intent.status === "requires_payment_method" ? "failed" : "succeeded",
		);
		res.writeHead(303, { location: target.toString(), "content-length": 0 });
		res.end();
	});
}
