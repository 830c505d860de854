import { env, exports } from "cloudflare:workers";
import type Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { usableDestination } from "../../src/db/payout-destinations";
import type { ApiPayoutDestination } from "../../src/domain/payout-destination";
import { call, createMerchant, expectApiError, json } from "./helpers/api";
import { deliver, stripe } from "./helpers/stripe";

const nowSeconds = () => Math.floor(Date.now() / 1000);

describe("Stripe Connect destinations", () => {
	async function accountUpdatedEvents(accountId: string): Promise<Stripe.Event[]> {
		const events = await stripe.events.list({ limit: 100, type: "account.updated" });
		return events.data.filter((e) => (e.data.object as Stripe.Account).id === accountId).reverse();
	}

	it("creates an Express account onboarding; Stripe's completion and account.updated make it active", async () => {
		const m = await createMerchant("Fiat Payouts");
		const res = await call("POST", "/v1/payout_destinations", {
			key: m.sk,
			body: { type: "stripe_account" },
		});
		expect(res.status, await res.clone().text()).toBe(200);
		const created = await json<ApiPayoutDestination & { onboarding_url: string }>(res);
		expect(created).toMatchObject({
			type: "stripe_account",
			status: "onboarding",
			default: true,
			address: null,
		});
		expect(created.stripe_account).toMatch(/^acct_/);
		expect(created.onboarding_url).toMatch(/^https?:\/\//);
		const account = await stripe.accounts.retrieve(created.stripe_account as string);
		expect(account.type).toBe("express");
		expect(account.metadata?.payout_destination).toBe(created.id);

		const owner = { merchantId: m.merchant.id, livemode: false, type: "stripe_account" as const };
		expect(await usableDestination(env.DB, owner, nowSeconds())).toMatchObject({
			ok: false,
			reason: "onboarding",
		});

		await stripe.rawRequest(
			"POST",
			`/v1/accounts/${created.stripe_account}/_test/complete_onboarding`,
			{},
		);
		const events = await accountUpdatedEvents(created.stripe_account as string);
		expect(events.length).toBeGreaterThan(0);
		for (const event of events) expect((await deliver(event)).status).toBe(200);
		const row = await env.DB.prepare("SELECT status FROM payout_destinations WHERE id = ?")
			.bind(created.id)
			.first<{ status: string }>();
		expect(row?.status).toBe("active");
		const usable = await usableDestination(env.DB, owner, nowSeconds());
		expect(usable.ok && usable.destination.stripe_account_id).toBe(created.stripe_account);
		const updated = await json<{ data: { data: { object: { id: string; status: string } } }[] }>(
			await call("GET", "/v1/events?type=payout_destination.updated", { key: m.sk }),
		);
		expect(updated.data.map((e) => e.data.object)).toContainEqual(
			expect.objectContaining({ id: created.id, status: "active" }),
		);
	});

	it("the signed return URL re-reads the account; a forged one is refused; refresh mints a new link", async () => {
		const m = await createMerchant("Return Trip");
		const created = await json<ApiPayoutDestination & { onboarding_url: string }>(
			await call("POST", "/v1/payout_destinations", {
				key: m.sk,
				body: { type: "stripe_account" },
			}),
		);
		const linkRes = await call("POST", `/v1/payout_destinations/${created.id}/onboarding_link`, {
			key: m.sk,
		});
		expect(linkRes.status).toBe(200);
		const page = await fetch(created.onboarding_url);
		expect(page.status).toBe(200);
		await stripe.rawRequest(
			"POST",
			`/v1/accounts/${created.stripe_account}/_test/complete_onboarding`,
			{},
		);
		const returnPath = await onboardingPath(created.onboarding_url, "return");
		const back = await call("GET", returnPath);
		expect(back.status, await back.clone().text()).toBe(200);
		expect(await back.text()).toContain("can receive payouts");
		const fetched = await json<ApiPayoutDestination>(
			await call("GET", `/v1/payout_destinations/${created.id}`, { key: m.sk }),
		);
		expect(fetched.status).toBe("active");

		const refreshPath = await onboardingPath(created.onboarding_url, "refresh");
		const refresh = await exports.default.fetch(
			new Request(`http://gateway.test${refreshPath}`, { redirect: "manual" }),
		);
		expect(refresh.status, `${refreshPath} ${await refresh.clone().text()}`).toBe(303);
		expect(refresh.headers.get("Location")).toMatch(/onboarding/);

		const forged = returnPath.replace(/token=[^&]+/, "token=AAAA");
		await expectApiError(await call("GET", forged), "parameter_invalid");
	});
});

/**
 * The gateway path of the return or refresh URL the gateway gave Stripe: the emulator's onboarding
 * page redirects there when its form is posted, so the Location is read rather than followed.
 */
async function onboardingPath(onboardingUrl: string, step: "return" | "refresh"): Promise<string> {
	// Cancel redirects to the return URL, a link already used to the refresh URL.
	const res = await fetch(onboardingUrl, {
		method: "POST",
		headers: { "Content-Type": "application/x-www-form-urlencoded" },
		body: "outcome=cancel",
		redirect: "manual",
	});
	const location = res.headers.get("Location") ?? "";
	const url = new URL(location);
	const path = url.pathname.replace(/\/onboarding\/(return|refresh)$/, `/onboarding/${step}`);
	return `${path}${url.search}`;
}
