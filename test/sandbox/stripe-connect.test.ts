import Stripe from "stripe";
import { afterAll, describe, expect, it } from "vitest";
import { startWebhookReceiver, TEST_SECRET_KEY } from "../../sandbox/stripe/testing.js";
import { invalidRequest, rejection, useStripeSandbox } from "./stripe-helpers.js";

// Connect in the emulator, through stripe-node: Express accounts, account links and the hosted
// onboarding page, the account.updated webhook, and the emulator-only onboarding route.

const SECRET = "whsec_connectTestSecret";
/** Added to the emulator's clock, to expire account links. */
let skew = 0;
const { sandbox, stripe } = await useStripeSandbox({
	now: () => Date.now() + skew,
	webhookRetry: { attempts: 2, initialDelayMs: 20, timeoutMs: 2_000 },
});
const receiver = await startWebhookReceiver();
sandbox.stripe.setWebhook({
	url: receiver.url,
	secret: SECRET,
	enabledEvents: ["account.updated"],
});
afterAll(() => receiver.close());

const express = (email: string): Stripe.AccountCreateParams => ({
	type: "express",
	country: "US",
	email,
	capabilities: { transfers: { requested: true } },
	business_type: "individual",
	metadata: { merchant: email },
});

function link(account: string): Promise<Stripe.AccountLink> {
	return stripe.accountLinks.create({
		account,
		refresh_url: "https://merchant.example/payouts/refresh?x=1",
		return_url: "https://merchant.example/payouts/return",
		type: "account_onboarding",
	});
}

async function answer(url: string, outcome: "complete" | "cancel"): Promise<Response> {
	return fetch(url, {
		method: "POST",
		redirect: "manual",
		headers: { "content-type": "application/x-www-form-urlencoded" },
		body: new URLSearchParams({ outcome }).toString(),
	});
}

describe("connected accounts", () => {
	it("creates an Express account that cannot receive anything yet, retrieves, lists and deletes it", async () => {
		const account = await stripe.accounts.create(express("a@merchant.example"));
		expect(account.id).toMatch(/^acct_[0-9A-Za-z]{16}$/);
		expect(account).toMatchObject({
			object: "account",
			type: "express",
			country: "US",
			default_currency: "usd",
			email: "a@merchant.example",
			business_type: "individual",
			details_submitted: false,
			charges_enabled: false,
			payouts_enabled: false,
			capabilities: { transfers: "inactive" },
			metadata: { merchant: "a@merchant.example" },
		});
		expect(account.requirements?.currently_due?.length).toBeGreaterThan(0);
		expect(account.requirements?.disabled_reason).toBe("requirements.past_due");
		expect(await stripe.accounts.retrieve(account.id)).toEqual(account);

		const second = await stripe.accounts.create(express("b@merchant.example"));
		const first = await stripe.accounts.list({ limit: 1 });
		expect(first.data.map((a) => a.id)).toEqual([second.id]);
		expect(first.has_more).toBe(true);
		const next = await stripe.accounts.list({ limit: 1, starting_after: second.id });
		expect(next.data.map((a) => a.id)).toEqual([account.id]);

		const updated = await stripe.accounts.update(second.id, {
			email: "b2@merchant.example",
			metadata: { tier: "gold" },
		});
		expect(updated).toMatchObject({
			email: "b2@merchant.example",
			metadata: { merchant: "b@merchant.example", tier: "gold" },
		});
		const change = [...sandbox.stripe.store.events.values()].find(
			(e) => e.type === "account.updated" && e.account === second.id,
		);
		expect(change?.data.previous_attributes).toEqual({
			email: "b@merchant.example",
			metadata: { merchant: "b@merchant.example" },
		});
		expect(await stripe.accounts.del(second.id)).toEqual({
			id: second.id,
			object: "account",
			deleted: true,
		});
		const gone = await rejection(stripe.accounts.retrieve(second.id));
		expect(gone).toBeInstanceOf(Stripe.errors.StripePermissionError);
		expect(gone).toMatchObject({ statusCode: 403, code: "account_invalid" });
		expect(gone.message).toContain(`does not have access to account '${second.id}'`);
	});

	it("refuses an account without the transfers capability, and unknown parameters", async () => {
		const noCapability = await invalidRequest(
			stripe.accounts.create({ type: "express", country: "US" }),
		);
		expect(noCapability.param).toBe("capabilities");
		const unknown = await invalidRequest(
			stripe.accounts.create({ ...express("c@merchant.example"), color: "red" } as never),
		);
		expect(unknown.code).toBe("parameter_unknown");
		const badLink = await invalidRequest(
			stripe.accountLinks.create({
				account: "acct_nope",
				refresh_url: "https://merchant.example/r",
				return_url: "https://merchant.example/b",
				type: "account_onboarding",
			}),
		);
		expect(badLink).toMatchObject({ code: "resource_missing", param: "account" });
	});
});

describe("onboarding", () => {
	it("completes through the hosted page: account.updated is signed and sent, the account is enabled, the link is single use", async () => {
		const account = await stripe.accounts.create(express("d@merchant.example"));
		const accountLink = await link(account.id);
		expect(accountLink).toMatchObject({ object: "account_link" });
		expect(accountLink.expires_at - accountLink.created).toBe(300);
		expect(accountLink.url.startsWith(`${sandbox.urls.stripe}/_test/connect/onboarding/`)).toBe(
			true,
		);
		const page = await fetch(accountLink.url);
		expect(page.status).toBe(200);
		const html = await page.text();
		expect(html).toContain("Complete onboarding");
		expect(html).toContain("Cancel");
		// Earlier tests' deliveries finish first, so the next one received is this account's.
		await sandbox.stripe.idle();
		const before = receiver.received.length;
		const done = await answer(accountLink.url, "complete");
		expect(done.status).toBe(303);
		expect(done.headers.get("location")).toBe("https://merchant.example/payouts/return");

		const [delivery] = (await receiver.waitFor(before + 1)).slice(before);
		const event = await stripe.webhooks.constructEventAsync(
			delivery?.body as string,
			delivery?.headers["stripe-signature"] as string,
			SECRET,
		);
		expect(event.type).toBe("account.updated");
		expect(event.account).toBe(account.id);
		expect(event.data.object).toMatchObject({
			id: account.id,
			details_submitted: true,
			charges_enabled: true,
			payouts_enabled: true,
			capabilities: { transfers: "active" },
		});
		expect(event.data.previous_attributes).toMatchObject({
			details_submitted: false,
			capabilities: { transfers: "inactive" },
		});
		const enabled = await stripe.accounts.retrieve(account.id);
		expect(enabled.requirements).toMatchObject({
			currently_due: [],
			past_due: [],
			disabled_reason: null,
		});
		// Opened again, or posted again: Stripe sends the browser to refresh_url.
		const reopened = await fetch(accountLink.url, { redirect: "manual" });
		expect(reopened.status).toBe(303);
		expect(reopened.headers.get("location")).toBe("https://merchant.example/payouts/refresh?x=1");
		expect((await answer(accountLink.url, "complete")).headers.get("location")).toBe(
			"https://merchant.example/payouts/refresh?x=1",
		);
	});

	it("cancelling goes back to return_url with the account unchanged; an expired link goes to refresh_url", async () => {
		const account = await stripe.accounts.create(express("e@merchant.example"));
		const cancelled = await link(account.id);
		await fetch(cancelled.url);
		const back = await answer(cancelled.url, "cancel");
		expect(back.headers.get("location")).toBe("https://merchant.example/payouts/return");
		expect(await stripe.accounts.retrieve(account.id)).toMatchObject({
			details_submitted: false,
			capabilities: { transfers: "inactive" },
		});
		const stale = await link(account.id);
		skew = 301_000;
		try {
			const expired = await fetch(stale.url, { redirect: "manual" });
			expect(expired.status).toBe(303);
			expect(expired.headers.get("location")).toBe("https://merchant.example/payouts/refresh?x=1");
			expect((await answer(stale.url, "complete")).status).toBe(303);
		} finally {
			skew = 0;
		}
		expect((await stripe.accounts.retrieve(account.id)).details_submitted).toBe(false);
		expect((await fetch(`${sandbox.urls.stripe}/_test/connect/onboarding/nope`)).status).toBe(404);
	});

	it("completes onboarding through the emulator-only route, once", async () => {
		const account = await stripe.accounts.create(express("f@merchant.example"));
		const res = await fetch(
			`${sandbox.urls.stripe}/v1/accounts/${account.id}/_test/complete_onboarding`,
			{ method: "POST", headers: { authorization: `Bearer ${TEST_SECRET_KEY}` } },
		);
		expect(res.status).toBe(200);
		expect(await res.json()).toMatchObject({
			id: account.id,
			details_submitted: true,
			capabilities: { transfers: "active" },
		});
		await fetch(`${sandbox.urls.stripe}/v1/accounts/${account.id}/_test/complete_onboarding`, {
			method: "POST",
			headers: { authorization: `Bearer ${TEST_SECRET_KEY}` },
		});
		const updates = [...sandbox.stripe.store.events.values()].filter(
			(e) => e.type === "account.updated" && e.account === account.id,
		);
		expect(updates).toHaveLength(1);
		const unknown = await fetch(
			`${sandbox.urls.stripe}/v1/accounts/acct_nope/_test/complete_onboarding`,
			{
				method: "POST",
				headers: { authorization: `Bearer ${TEST_SECRET_KEY}` },
			},
		);
		expect(unknown.status).toBe(403);
	});
});
