import type Stripe from "stripe";
import { beforeEach, describe, expect, it } from "vitest";
import { eventually } from "../../sandbox/stripe/testing.js";
import { card, cardError, invalidRequest, useStripeSandbox } from "./stripe-helpers.js";

// PaymentIntents through the official stripe-node client, configured as the gateway does.

const { sandbox, stripe, confirmCardIntent, eventTypes } = await useStripeSandbox({
	disputeDelayMs: 20,
});
beforeEach(() => sandbox.stripe.setTimings({ processingMs: 0 }));

describe("create, retrieve, update, list", () => {
	it("creates an unconfirmed intent with Stripe's shape and form-encoded metadata", async () => {
		const intent = await stripe.paymentIntents.create({
			amount: 2500,
			currency: "USD",
			allowed_payment_method_types: ["card"],
			description: "Order 6735",
			metadata: { order_id: "6735", "note-x": "a=b&c", empty: "" },
			receipt_email: "payer@example.com",
			statement_descriptor_suffix: "ORDER 6735",
		});
		expect(intent).toMatchObject({
			object: "payment_intent",
			amount: 2500,
			currency: "usd",
			status: "requires_payment_method",
			capture_method: "automatic_async",
			amount_received: 0,
			amount_capturable: 0,
			latest_charge: null,
			last_payment_error: null,
			next_action: null,
			livemode: false,
			description: "Order 6735",
			metadata: { order_id: "6735", "note-x": "a=b&c" },
			payment_method_types: ["card"],
			allowed_payment_method_types: ["card"],
			automatic_payment_methods: null,
			receipt_email: "payer@example.com",
		});
		expect(intent.id).toMatch(/^pi_[0-9A-Za-z]{24}$/);
		expect(intent.client_secret).toMatch(new RegExp(`^${intent.id}_secret_[0-9A-Za-z]{25}$`));
		expect(intent.lastResponse.requestId).toMatch(/^req_/);
		expect(eventTypes(intent.id)).toEqual(["payment_intent.created"]);
	});

	it("still takes payment_method_types, the parameter's name before API version 2026-10-28", async () => {
		const intent = await stripe.paymentIntents.create({
			amount: 1000,
			currency: "usd",
			payment_method_types: ["card"],
		} as Stripe.PaymentIntentCreateParams);
		expect(intent).toMatchObject({
			payment_method_types: ["card"],
			allowed_payment_method_types: null,
			automatic_payment_methods: null,
		});
		const error = await invalidRequest(
			stripe.paymentIntents.create({
				amount: 1000,
				currency: "usd",
				allowed_payment_method_types: ["card"],
				automatic_payment_methods: { enabled: true },
			}),
		);
		expect(error.code).toBe("parameters_exclusive");
	});

	it("defaults to automatic payment methods, which need a return_url to confirm", async () => {
		const intent = await stripe.paymentIntents.create({ amount: 1000, currency: "eur" });
		expect(intent.automatic_payment_methods).toEqual({ enabled: true, allow_redirects: "always" });
		const error = await invalidRequest(
			stripe.paymentIntents.confirm(intent.id, { payment_method: "pm_card_visa" }),
		);
		expect(error.message).toContain("set the `return_url` parameter when confirming");
		const confirmed = await stripe.paymentIntents.confirm(intent.id, {
			payment_method: "pm_card_visa",
			return_url: "https://shop.example/return",
		});
		expect(confirmed.status).toBe("succeeded");
		const noRedirects = await stripe.paymentIntents.create({
			amount: 1000,
			currency: "eur",
			automatic_payment_methods: { enabled: true, allow_redirects: "never" },
			payment_method: "pm_card_visa",
			confirm: true,
		});
		expect(noRedirects.status).toBe("succeeded");
	});

	it("updates metadata key by key, unsets with an empty value, and moves to requires_confirmation with a payment method", async () => {
		const intent = await stripe.paymentIntents.create({ ...card, metadata: { a: "1", b: "2" } });
		const updated = await stripe.paymentIntents.update(intent.id, {
			amount: 1500,
			metadata: { b: "", c: "3" },
			description: "changed",
			payment_method: "pm_card_visa",
		});
		expect(updated).toMatchObject({
			amount: 1500,
			metadata: { a: "1", c: "3" },
			description: "changed",
			status: "requires_confirmation",
		});
		expect(updated.payment_method).toMatch(/^pm_/);
		const cleared = await stripe.paymentIntents.update(intent.id, {
			metadata: "" as unknown as Stripe.MetadataParam,
		});
		expect(cleared.metadata).toEqual({});
		expect((await stripe.paymentIntents.retrieve(intent.id)).amount).toBe(1500);
	});

	it("refuses unknown parameters, bad values and amounts below Stripe's minimum", async () => {
		let error = await invalidRequest(
			stripe.paymentIntents.create({
				amount: 1000,
				currency: "usd",
				colour: "red",
			} as Stripe.PaymentIntentCreateParams),
		);
		expect(error).toMatchObject({ code: "parameter_unknown", param: "colour", statusCode: 400 });
		expect(error.message).toBe("Received unknown parameter: colour");
		error = await invalidRequest(
			stripe.paymentIntents.create({ currency: "usd" } as Stripe.PaymentIntentCreateParams),
		);
		expect(error).toMatchObject({
			code: "parameter_missing",
			param: "amount",
			message: "Missing required param: amount.",
		});
		error = await invalidRequest(stripe.paymentIntents.create({ amount: 49, currency: "usd" }));
		expect(error).toMatchObject({
			code: "amount_too_small",
			message: "Amount must be at least $0.50 usd",
		});
		error = await invalidRequest(
			stripe.paymentIntents.create({
				amount: 1000,
				currency: "usd",
				capture_method: "later" as "manual",
			}),
		);
		expect(error.param).toBe("capture_method");
		error = await invalidRequest(stripe.paymentIntents.retrieve("pi_missing"));
		expect(error).toMatchObject({
			statusCode: 404,
			code: "resource_missing",
			message: "No such payment_intent: 'pi_missing'",
		});
	});

	it("lists newest first with limit and starting_after cursors", async () => {
		const ids: string[] = [];
		for (let i = 0; i < 3; i++) {
			ids.push((await stripe.paymentIntents.create({ ...card, amount: 1000 + i })).id);
		}
		const first = await stripe.paymentIntents.list({ limit: 2 });
		expect(first.object).toBe("list");
		expect(first.url).toBe("/v1/payment_intents");
		expect(first.data.map((pi) => pi.id)).toEqual([ids[2], ids[1]]);
		expect(first.has_more).toBe(true);
		const next = await stripe.paymentIntents.list({ limit: 1, starting_after: ids[1] });
		expect(next.data.map((pi) => pi.id)).toEqual([ids[0]]);
	});
});

describe("card outcomes", () => {
	it("succeeds with pm_card_visa: charge, balance transaction with Stripe's fee, events", async () => {
		const intent = await confirmCardIntent(2000, "pm_card_visa", {
			expand: ["latest_charge.balance_transaction", "payment_method"],
		});
		expect(intent).toMatchObject({
			status: "succeeded",
			amount_received: 2000,
			amount_capturable: 0,
		});
		const charge = intent.latest_charge as Stripe.Charge;
		expect(charge).toMatchObject({
			object: "charge",
			amount: 2000,
			amount_captured: 2000,
			captured: true,
			paid: true,
			status: "succeeded",
			payment_intent: intent.id,
			outcome: { type: "authorized", network_status: "approved_by_network" },
			payment_method_details: {
				type: "card",
				card: { brand: "visa", last4: "4242", funding: "credit" },
			},
		});
		expect(charge.id).toMatch(/^ch_/);
		const txn = charge.balance_transaction as Stripe.BalanceTransaction;
		// 2.9% of $20.00 is 58 cents, plus 30.
		expect(txn).toMatchObject({
			object: "balance_transaction",
			amount: 2000,
			fee: 88,
			net: 1912,
			type: "charge",
			source: charge.id,
			status: "pending",
		});
		expect(txn.id).toMatch(/^txn_/);
		expect(txn.available_on).toBeGreaterThan(txn.created);
		expect(txn.available_on % 86_400).toBe(0);
		expect((intent.payment_method as Stripe.PaymentMethod).card?.last4).toBe("4242");
		expect(await stripe.balanceTransactions.retrieve(txn.id)).toMatchObject({ fee: 88, net: 1912 });
		expect(eventTypes(intent.id)).toEqual(["payment_intent.created", "payment_intent.succeeded"]);
		expect(eventTypes(charge.id)).toEqual(["charge.succeeded"]);
	});

	it.each([
		["pm_card_chargeDeclined", "card_declined", "generic_decline", "Your card was declined."],
		[
			"pm_card_chargeDeclinedInsufficientFunds",
			"card_declined",
			"insufficient_funds",
			"Your card has insufficient funds.",
		],
		["pm_card_chargeDeclinedLostCard", "card_declined", "lost_card", "Your card was declined."],
		["pm_card_chargeDeclinedExpiredCard", "expired_card", undefined, "Your card has expired."],
		[
			"pm_card_chargeDeclinedIncorrectCvc",
			"incorrect_cvc",
			undefined,
			"Your card's security code is incorrect.",
		],
	])(
		"declines %s with %s / %s and returns to requires_payment_method",
		async (token, code, declineCode, message) => {
			const intent = await stripe.paymentIntents.create(card);
			const error = await cardError(
				stripe.paymentIntents.confirm(intent.id, { payment_method: token }),
			);
			expect(error).toMatchObject({ statusCode: 402, type: "StripeCardError", code, message });
			expect((error.raw as { decline_code?: string }).decline_code).toBe(declineCode);
			expect(error.raw as object).toMatchObject({
				type: "card_error",
				charge: expect.stringMatching(/^ch_/),
			});
			expect(error.payment_intent?.status).toBe("requires_payment_method");
			const after = await stripe.paymentIntents.retrieve(intent.id);
			expect(after).toMatchObject({
				status: "requires_payment_method",
				payment_method: null,
				amount_received: 0,
			});
			expect(after.last_payment_error).toMatchObject({
				type: "card_error",
				code,
				message,
				charge: (error.raw as { charge: string }).charge,
			});
			expect(after.last_payment_error?.decline_code).toBe(declineCode);
			const charge = await stripe.charges.retrieve(after.latest_charge as string);
			expect(charge).toMatchObject({
				status: "failed",
				paid: false,
				captured: false,
				failure_code: code,
				failure_message: message,
				balance_transaction: null,
			});
			expect(eventTypes(intent.id)).toEqual([
				"payment_intent.created",
				"payment_intent.payment_failed",
			]);
			// The payer may try again with another card.
			const retried = await stripe.paymentIntents.confirm(intent.id, {
				payment_method: "pm_card_visa",
			});
			expect(retried.status).toBe("succeeded");
		},
	);

	it("accepts Stripe's raw test numbers through payment_method_data and POST /v1/payment_methods", async () => {
		const year = new Date().getUTCFullYear() + 2;
		const paid = await stripe.paymentIntents.create({
			...card,
			confirm: true,
			payment_method_data: {
				type: "card",
				card: { number: "4242424242424242", exp_month: 12, exp_year: year, cvc: "123" },
			} as unknown as Stripe.PaymentIntentCreateParams.PaymentMethodData,
		});
		expect(paid.status).toBe("succeeded");
		const declined = await stripe.paymentMethods.create({
			type: "card",
			card: { number: "4000000000000002", exp_month: 1, exp_year: year, cvc: "123" },
			billing_details: { name: "Ada Lovelace" },
		} as Stripe.PaymentMethodCreateParams);
		expect(declined).toMatchObject({
			object: "payment_method",
			type: "card",
			card: { last4: "0002", exp_year: year },
			billing_details: { name: "Ada Lovelace" },
		});
		expect((await stripe.paymentMethods.retrieve(declined.id)).id).toBe(declined.id);
		const error = await cardError(confirmCardIntent(1000, declined.id));
		expect(error.decline_code).toBe("generic_decline");
		const insufficient = await stripe.paymentMethods.create({
			type: "card",
			card: { number: "4000 0000 0000 9995", exp_month: 1, exp_year: year },
		} as Stripe.PaymentMethodCreateParams);
		const poor = await cardError(confirmCardIntent(1000, insufficient.id));
		expect(poor.decline_code).toBe("insufficient_funds");
		const wrong = await cardError(
			stripe.paymentMethods.create({
				type: "card",
				card: { number: "4242424242424241", exp_month: 1, exp_year: year },
			} as Stripe.PaymentMethodCreateParams),
		);
		expect(wrong).toMatchObject({ code: "incorrect_number", param: "card[number]" });
		const live = await cardError(
			stripe.paymentMethods.create({
				type: "card",
				card: { number: "4111111111111111", exp_month: 1, exp_year: year },
			} as Stripe.PaymentMethodCreateParams),
		);
		expect(live.decline_code).toBe("test_mode_live_card");
	});

	it("passes through processing when the processing time knob is set", async () => {
		sandbox.stripe.setTimings({ processingMs: 50 });
		const intent = await confirmCardIntent(1000, "pm_card_visa");
		expect(intent.status).toBe("processing");
		expect((await stripe.charges.retrieve(intent.latest_charge as string)).status).toBe("pending");
		const done = await eventually(async () => {
			const current = await stripe.paymentIntents.retrieve(intent.id);
			return current.status === "succeeded" ? current : undefined;
		});
		expect(done.amount_received).toBe(1000);
		expect(eventTypes(intent.id)).toEqual([
			"payment_intent.created",
			"payment_intent.processing",
			"payment_intent.succeeded",
		]);
	});
});
