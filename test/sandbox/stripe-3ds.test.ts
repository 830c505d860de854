import type Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { cardError, useStripeSandbox } from "./stripe-helpers.js";

// 3-D Secure through stripe-node: next_action, the challenge page, and authentication outcomes.

const { sandbox, stripe, confirmCardIntent, eventTypes, authenticateIntent } =
	await useStripeSandbox();

describe("3-D Secure", () => {
	it.each(["pm_card_authenticationRequired", "pm_card_threeDSecure2Required"])(
		"%s needs action (use_stripe_sdk) and succeeds after authentication",
		async (token) => {
			const intent = await confirmCardIntent(3000, token);
			expect(intent.status).toBe("requires_action");
			expect(intent.latest_charge).toBeNull();
			expect(intent.next_action?.type).toBe("use_stripe_sdk");
			const res = await authenticateIntent(intent.id, "succeed");
			expect(res.status).toBe(200);
			const after = (await res.json()) as Stripe.PaymentIntent;
			expect(after).toMatchObject({
				status: "succeeded",
				amount_received: 3000,
				next_action: null,
			});
			const charge = await stripe.charges.retrieve(after.latest_charge as string);
			expect(charge.payment_method_details?.card?.three_d_secure).toMatchObject({
				result: "authenticated",
			});
			expect(eventTypes(intent.id)).toEqual([
				"payment_intent.created",
				"payment_intent.requires_action",
				"payment_intent.succeeded",
			]);
		},
	);

	it("redirects through the challenge page to return_url, and a failed challenge goes back to requires_payment_method", async () => {
		const intent = await confirmCardIntent(3000, "pm_card_authenticationRequired", {
			return_url: "https://shop.example/return?order=1",
		});
		expect(intent.next_action?.type).toBe("redirect_to_url");
		const url = intent.next_action?.redirect_to_url?.url as string;
		expect(url.startsWith(`${sandbox.urls.stripe}/_test/3ds/${intent.id}?client_secret=`)).toBe(
			true,
		);
		const page = await fetch(url);
		expect(page.status).toBe(200);
		expect(await page.text()).toContain("Fail");
		const res = await fetch(url, {
			method: "POST",
			redirect: "manual",
			headers: { "content-type": "application/x-www-form-urlencoded" },
			body: new URLSearchParams({
				client_secret: intent.client_secret as string,
				outcome: "fail",
			}).toString(),
		});
		expect(res.status).toBe(303);
		const location = new URL(res.headers.get("location") as string);
		expect(location.origin + location.pathname).toBe("https://shop.example/return");
		expect(Object.fromEntries(location.searchParams)).toEqual({
			order: "1",
			payment_intent: intent.id,
			payment_intent_client_secret: intent.client_secret,
			redirect_status: "failed",
		});
		const after = await stripe.paymentIntents.retrieve(intent.id);
		expect(after).toMatchObject({ status: "requires_payment_method", payment_method: null });
		expect(after.last_payment_error).toMatchObject({
			code: "payment_intent_authentication_failure",
			type: "invalid_request_error",
		});
		expect(eventTypes(intent.id).at(-1)).toBe("payment_intent.payment_failed");
	});

	it("authenticates through the control server, and fails off-session payments that need authentication", async () => {
		const intent = await confirmCardIntent(3000, "pm_card_authenticationRequiredOnSetup", {
			capture_method: "manual",
		});
		expect(intent.status).toBe("requires_action");
		const res = await fetch(
			`${sandbox.urls.control}/admin/stripe/payment_intents/${intent.id}/authenticate`,
			{
				method: "POST",
				body: JSON.stringify({ outcome: "succeed" }),
			},
		);
		expect(res.status).toBe(200);
		expect(((await res.json()) as Stripe.PaymentIntent).status).toBe("requires_capture");
		const offSession = await cardError(
			confirmCardIntent(3000, "pm_card_authenticationRequired", { off_session: true }),
		);
		expect(offSession).toMatchObject({
			code: "authentication_required",
			decline_code: "authentication_required",
		});
		const again = await fetch(
			`${sandbox.urls.control}/admin/stripe/payment_intents/${intent.id}/authenticate`,
			{ method: "POST" },
		);
		expect(again.status).toBe(400);
		expect(((await again.json()) as { error: { code: string } }).error.code).toBe(
			"payment_intent_unexpected_state",
		);
	});
});
