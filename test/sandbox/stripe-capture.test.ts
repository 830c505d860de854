import type Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { card, invalidRequest, useStripeSandbox } from "./stripe-helpers.js";

// Manual capture (full and partial) and cancelation through stripe-node.

const { sandbox, stripe, confirmCardIntent, eventTypes } = await useStripeSandbox();

describe("manual capture and cancel", () => {
	it("authorises, then captures part: the rest is released, fees on the captured amount", async () => {
		const intent = await confirmCardIntent(10_000, "pm_card_visa", {
			capture_method: "manual",
		});
		expect(intent).toMatchObject({
			status: "requires_capture",
			amount_capturable: 10_000,
			amount_received: 0,
		});
		const authorised = await stripe.charges.retrieve(intent.latest_charge as string);
		expect(authorised).toMatchObject({
			captured: false,
			paid: true,
			status: "succeeded",
			amount_captured: 0,
			balance_transaction: null,
		});
		const tooMuch = await invalidRequest(
			stripe.paymentIntents.capture(intent.id, { amount_to_capture: 10_001 }),
		);
		expect(tooMuch.code).toBe("amount_too_large");
		const captured = await stripe.paymentIntents.capture(intent.id, {
			amount_to_capture: 7_500,
			expand: ["latest_charge.balance_transaction"],
		});
		expect(captured).toMatchObject({
			status: "succeeded",
			amount_received: 7_500,
			amount_capturable: 0,
		});
		const charge = captured.latest_charge as Stripe.Charge;
		expect(charge).toMatchObject({
			captured: true,
			amount: 10_000,
			amount_captured: 7_500,
			amount_refunded: 0,
			refunded: false,
		});
		// 2.9% of $75.00 is 217.5 cents, rounded to 218, plus 30.
		expect(charge.balance_transaction).toMatchObject({ amount: 7_500, fee: 248, net: 7_252 });
		expect(eventTypes(intent.id)).toEqual([
			"payment_intent.created",
			"payment_intent.amount_capturable_updated",
			"payment_intent.succeeded",
		]);
		expect(eventTypes(charge.id)).toEqual(["charge.succeeded", "charge.captured"]);
		const captureEvent = [...sandbox.stripe.store.events.values()].find(
			(e) => e.type === "charge.captured" && (e.data.object as Stripe.Charge).id === charge.id,
		);
		expect(captureEvent?.data.previous_attributes).toEqual({
			amount_captured: 0,
			balance_transaction: null,
			captured: false,
		});
		const twice = await invalidRequest(stripe.paymentIntents.capture(intent.id));
		expect(twice.code).toBe("payment_intent_unexpected_state");
		expect(twice.message).toBe(
			"This PaymentIntent could not be captured because it has a status of succeeded. Only a PaymentIntent with one of the following statuses may be captured: requires_capture.",
		);
	});

	it("cancels an authorisation: the hold is released and nothing is captured", async () => {
		const intent = await confirmCardIntent(4_000, "pm_card_visa", {
			capture_method: "manual",
		});
		const canceled = await stripe.paymentIntents.cancel(intent.id, {
			cancellation_reason: "requested_by_customer",
		});
		expect(canceled).toMatchObject({
			status: "canceled",
			cancellation_reason: "requested_by_customer",
			amount_capturable: 0,
			amount_received: 0,
		});
		expect(canceled.canceled_at).toBeGreaterThan(0);
		const charge = await stripe.charges.retrieve(canceled.latest_charge as string);
		expect(charge).toMatchObject({
			captured: false,
			refunded: true,
			amount_refunded: 4_000,
			balance_transaction: null,
		});
		expect(eventTypes(intent.id).at(-1)).toBe("payment_intent.canceled");
		expect(eventTypes(charge.id)).toEqual(["charge.succeeded", "charge.refunded"]);
		const capture = await invalidRequest(stripe.paymentIntents.capture(intent.id));
		expect(capture.code).toBe("payment_intent_unexpected_state");
	});

	it("cancels open intents but not succeeded ones, and refuses confirming a canceled one", async () => {
		const open = await stripe.paymentIntents.create(card);
		expect((await stripe.paymentIntents.cancel(open.id)).status).toBe("canceled");
		const confirm = await invalidRequest(
			stripe.paymentIntents.confirm(open.id, { payment_method: "pm_card_visa" }),
		);
		expect(confirm.message).toContain("it has a status of canceled");
		const paid = await confirmCardIntent(1000, "pm_card_visa");
		const error = await invalidRequest(stripe.paymentIntents.cancel(paid.id));
		expect(error.message).toBe(
			"You cannot cancel this PaymentIntent because it has a status of succeeded. Only a PaymentIntent with one of the following statuses may be canceled: requires_payment_method, requires_capture, requires_confirmation, requires_action, processing.",
		);
		expect(error.raw as object).toMatchObject({
			payment_intent: { id: paid.id, status: "succeeded" },
		});
		const reconfirm = await invalidRequest(stripe.paymentIntents.confirm(paid.id));
		expect(reconfirm.message).toBe(
			"You cannot confirm this PaymentIntent because it has already succeeded after being previously confirmed.",
		);
		const bad = await invalidRequest(
			stripe.paymentIntents.cancel(paid.id, { cancellation_reason: "bored" as "abandoned" }),
		);
		expect(bad.param).toBe("cancellation_reason");
	});
});
