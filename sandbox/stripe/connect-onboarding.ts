import type { ServerResponse } from "node:http";
import { type Router, readBody } from "../http.js";
import { completeOnboarding } from "./connect-accounts.js";
import type { StripeEmulator } from "./emulator.js";
import { parseForm } from "./form.js";
import type { AccountLinkState } from "./store.js";
import { escapeHtml, sendHtml } from "./three-d-secure.js";

// The hosted onboarding page an account link points at, standing in for Stripe's Express
// onboarding: "Complete onboarding" makes the account able to receive transfers and sends the
// browser to return_url; "Cancel" leaves it as it was and also goes to return_url (Stripe sends
// the merchant back either way; the platform reads the account to learn which). A link is
// single use and short-lived: opening it again, or after it expired, goes to refresh_url, where
// the platform makes a new one. Never affected by faults.

function redirect(res: ServerResponse, location: string): void {
	res.writeHead(303, { location, "content-length": 0, "cache-control": "no-store" });
	res.end();
}

function notFound(res: ServerResponse): void {
	sendHtml(res, 404, "Not found", "<p>This onboarding link does not exist.</p>");
}

export function registerOnboardingPage(router: Router, em: StripeEmulator): void {
	const expired = (link: AccountLinkState) => em.store.seconds() > link.expiresAt;

	router.get("/_test/connect/onboarding/:token", ({ res, params }) => {
		const link = em.store.accountLinks.get(params.token ?? "");
		const account = link ? em.store.accounts.get(link.account) : undefined;
		if (!link || !account) return notFound(res);
		if (link.visited || link.done || expired(link)) return redirect(res, link.refreshUrl);
		link.visited = true;
		const button = (outcome: string, label: string) =>
			`<button type="submit" name="outcome" value="${outcome}">${label}</button> `;
		sendHtml(
			res,
			200,
			"Stripe Express onboarding",
			`<h1>Stripe Express onboarding</h1><p>Stripe sandbox: set up payouts for ${escapeHtml(account.email ?? account.id)} (${escapeHtml(account.id)}).</p><form method="post">${button("complete", "Complete onboarding")}${button("cancel", "Cancel")}</form>`,
		);
	});

	router.post("/_test/connect/onboarding/:token", async ({ req, res, params }) => {
		const form = parseForm(await readBody(req));
		const link = em.store.accountLinks.get(params.token ?? "");
		const account = link ? em.store.accounts.get(link.account) : undefined;
		if (!link || !account) return notFound(res);
		if (link.done || expired(link)) return redirect(res, link.refreshUrl);
		link.visited = true;
		link.done = true;
		if (form.outcome === "complete") completeOnboarding(em, account, null);
		redirect(res, link.returnUrl);
	});
}
