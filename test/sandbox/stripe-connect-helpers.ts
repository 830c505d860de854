import type Stripe from "stripe";
import { expect } from "vitest";
import { TEST_SECRET_KEY } from "../../sandbox/stripe/testing.js";
import type { StripeSandbox } from "./stripe-helpers.js";

// Shared by the Connect suites: the emulator-only routes (form and secret key, like the rest of
// /v1), money for the platform, an onboarded account, and balances read through stripe-node.

export interface ConnectHelpers {
	testRoute(path: string, form?: Record<string, string>): Promise<Response>;
	/** Adds to the platform's available balance through `_test/top_up`. */
	topUp(amount: number, currency?: string): Promise<void>;
	/** An Express account whose onboarding is complete (transfers active). */
	activeAccount(): Promise<Stripe.Account>;
	/** The available USD balance of the platform, or of a connected account. */
	available(stripeAccount?: string): Promise<number>;
}

export function connectHelpers({ sandbox, stripe }: StripeSandbox): ConnectHelpers {
	/** The emulator-only routes take a form and a secret key, like the rest of /v1. */
	async function testRoute(path: string, form: Record<string, string> = {}): Promise<Response> {
		return fetch(`${sandbox.urls.stripe}${path}`, {
			method: "POST",
			headers: {
				authorization: `Bearer ${TEST_SECRET_KEY}`,
				"content-type": "application/x-www-form-urlencoded",
			},
			body: new URLSearchParams(form).toString(),
		});
	}

	async function topUp(amount: number, currency = "usd"): Promise<void> {
		const res = await testRoute("/v1/balance/_test/top_up", {
			amount: String(amount),
			currency,
		});
		expect(res.status).toBe(200);
	}

	async function activeAccount(): Promise<Stripe.Account> {
		const account = await stripe.accounts.create({
			type: "express",
			capabilities: { transfers: { requested: true } },
		});
		const res = await testRoute(`/v1/accounts/${account.id}/_test/complete_onboarding`);
		expect(res.status).toBe(200);
		return (await res.json()) as Stripe.Account;
	}

	async function available(stripeAccount?: string): Promise<number> {
		const balance = await stripe.balance.retrieve({}, stripeAccount ? { stripeAccount } : {});
		return balance.available.find((b) => b.currency === "usd")?.amount ?? 0;
	}
	return { testRoute, topUp, activeAccount, available };
}
