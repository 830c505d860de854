import type Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { eventually } from "../../sandbox/stripe/testing.js";
import { card, invalidRequest, useStripeSandbox } from "./stripe-helpers.js";

// Refunds, their limits and asynchronous failure, and disputes.

const { sandbox, stripe, confirmCardIntent, events, disputeCharge } = await useStripeSandbox({
	refundFailureDelayMs: 30,
	disputeDelayMs: 30,
});

async function paid(
	amount: number,
	token = "pm_card_visa",
	capture?: number,
): Promise<Stripe.PaymentIntent> {
	const intent = await confirmCardIntent(amount, token, {
		capture_method: capture === undefined ? "automatic" : "manual",
	});
	if (capture === undefined) return intent;
	return stripe.paymentIntents.capture(intent.id, { amount_to_capture: capture });
}

describe("refunds", () => {
	it("refunds part by payment_intent, then the rest by charge, and no more", async () => {
		const intent = await paid(5_000);
		const chargeId = intent.latest_charge as string;
		const part = await stripe.refunds.create({
			payment_intent: intent.id,
			amount: 2_000,
			reason: "requested_by_customer",
			metadata: { ticket: "T-1" },
			expand: ["balance_transaction"],
		});
		expect(part).toMatchObject({
			object: "refund",
			amount: 2_000,
			currency: "usd",
			status: "succeeded",
			charge: chargeId,
			payment_intent: intent.id,
			reason: "requested_by_customer",
			metadata: { ticket: "T-1" },
			balance_transaction: {
				object: "balance_transaction",
				amount: -2_000,
				fee: 0,
				net: -2_000,
				type: "refund",
			},
		});
		expect(part.id).toMatch(/^re_/);
		expect(await stripe.charges.retrieve(chargeId)).toMatchObject({
			amount_refunded: 2_000,
			refunded: false,
		});
		const tooMuch = await invalidRequest(
			stripe.refunds.create({ charge: chargeId, amount: 3_001 }),
		);
		expect(tooMuch).toMatchObject({ statusCode: 400, param: "amount" });
		expect(tooMuch.message).toBe(
			"Refund amount ($30.01) is greater than unrefunded amount on charge ($30.00)",
		);
		const rest = await stripe.refunds.create({ charge: chargeId });
		expect(rest.amount).toBe(3_000);
		expect(await stripe.charges.retrieve(chargeId)).toMatchObject({
			amount_refunded: 5_000,
			refunded: true,
		});
		const again = await invalidRequest(
			stripe.refunds.create({ payment_intent: intent.id, amount: 1 }),
		);
		expect(again).toMatchObject({
			code: "charge_already_refunded",
			message: `Charge ${chargeId} has already been refunded.`,
		});
		const list = await stripe.refunds.list({ payment_intent: intent.id });
		expect(list.data.map((refund) => refund.id)).toEqual([rest.id, part.id]);
		expect((await stripe.refunds.retrieve(part.id)).amount).toBe(2_000);
		const refunded = events("charge.refunded", chargeId);
		expect(refunded.map((e) => (e.data.object as Stripe.Charge).amount_refunded)).toEqual([
			2_000, 5_000,
		]);
		expect(refunded[1]?.data.previous_attributes).toEqual({
			amount_refunded: 2_000,
			refunded: false,
		});
		expect(events("refund.created", part.id)).toHaveLength(1);
	});

	it("limits refunds to the captured amount after a partial capture", async () => {
		const intent = await paid(10_000, "pm_card_visa", 6_000);
		const error = await invalidRequest(
			stripe.refunds.create({ payment_intent: intent.id, amount: 6_001 }),
		);
		expect(error.message).toBe("Refund amount ($60.01) is greater than charge amount ($60.00)");
		expect((await stripe.refunds.create({ payment_intent: intent.id })).amount).toBe(6_000);
	});

	it("refuses a refund of an intent without a successful charge, or of an uncaptured authorisation", async () => {
		const open = await stripe.paymentIntents.create(card);
		const none = await invalidRequest(stripe.refunds.create({ payment_intent: open.id }));
		expect(none.message).toBe(
			`This PaymentIntent (${open.id}) does not have a successful charge to refund.`,
		);
		const held = await confirmCardIntent(1_000, "pm_card_visa", {
			capture_method: "manual",
		});
		const uncaptured = await invalidRequest(
			stripe.refunds.create({ charge: held.latest_charge as string }),
		);
		expect(uncaptured.message).toContain("has not been captured");
		const missing = await invalidRequest(stripe.refunds.create({} as Stripe.RefundCreateParams));
		expect(missing.code).toBe("parameter_missing");
	});

	it("updates a refund's metadata", async () => {
		const refund = await stripe.refunds.create({ payment_intent: (await paid(1_000)).id });
		const updated = await stripe.refunds.update(refund.id, { metadata: { note: "ok" } });
		expect(updated.metadata).toEqual({ note: "ok" });
	});

	it("fails a pm_card_refundFail refund asynchronously and makes the amount refundable again", async () => {
		const intent = await paid(2_000, "pm_card_refundFail");
		const chargeId = intent.latest_charge as string;
		const refund = await stripe.refunds.create({ payment_intent: intent.id });
		expect(refund.status).toBe("succeeded");
		const failed = await eventually(async () => {
			const current = await stripe.refunds.retrieve(refund.id);
			return current.status === "failed" ? current : undefined;
		});
		expect(failed.failure_reason).toBe("expired_or_canceled_card");
		const reversal = await stripe.balanceTransactions.retrieve(
			failed.failure_balance_transaction as string,
		);
		expect(reversal).toMatchObject({ amount: 2_000, type: "refund_failure" });
		expect(await stripe.charges.retrieve(chargeId)).toMatchObject({
			amount_refunded: 0,
			refunded: false,
		});
		expect(events("refund.updated", refund.id)[0]?.data.previous_attributes).toEqual({
			status: "succeeded",
		});
		expect(events("charge.refund.updated", refund.id)).toHaveLength(1);
		expect(events("refund.failed", refund.id)).toHaveLength(1);
		expect((await stripe.refunds.create({ payment_intent: intent.id })).amount).toBe(2_000);
	});
});

describe("disputes", () => {
	it("disputes a charge through the emulator-only route: funds and fee withdrawn, refunds refused", async () => {
		const intent = await paid(3_000);
		const chargeId = intent.latest_charge as string;
		const res = await disputeCharge(chargeId, "product_not_received");
		expect(res.status).toBe(200);
		const dispute = (await res.json()) as Stripe.Dispute;
		expect(dispute).toMatchObject({
			object: "dispute",
			amount: 3_000,
			charge: chargeId,
			payment_intent: intent.id,
			reason: "product_not_received",
			status: "needs_response",
			is_charge_refundable: false,
		});
		expect(dispute.id).toMatch(/^du_/);
		expect(dispute.balance_transactions[0]).toMatchObject({
			amount: -3_000,
			fee: 1_500,
			net: -4_500,
		});
		expect((await stripe.charges.retrieve(chargeId)).disputed).toBe(true);
		expect((await stripe.disputes.retrieve(dispute.id)).id).toBe(dispute.id);
		expect(events("charge.dispute.created", dispute.id)).toHaveLength(1);
		expect(events("charge.dispute.funds_withdrawn", dispute.id)).toHaveLength(1);
		const refund = await invalidRequest(stripe.refunds.create({ charge: chargeId }));
		expect(refund.code).toBe("charge_disputed");
	});

	it("disputes through the control server, and by itself with pm_card_createDispute", async () => {
		const intent = await paid(1_500);
		const res = await fetch(`${sandbox.urls.control}/admin/stripe/disputes`, {
			method: "POST",
			body: JSON.stringify({ payment_intent: intent.id }),
		});
		expect(res.status).toBe(200);
		expect(((await res.json()) as Stripe.Dispute).reason).toBe("fraudulent");
		const twice = await fetch(`${sandbox.urls.control}/admin/stripe/disputes`, {
			method: "POST",
			body: JSON.stringify({ charge: intent.latest_charge }),
		});
		expect(twice.status).toBe(400);
		const automatic = await paid(2_500, "pm_card_createDispute");
		const charge = await eventually(async () => {
			const current = await stripe.charges.retrieve(automatic.latest_charge as string);
			return current.disputed ? current : undefined;
		});
		expect(charge.amount_captured).toBe(2_500);
		const created = [...sandbox.stripe.store.events.values()].find(
			(event) =>
				event.type === "charge.dispute.created" &&
				(event.data.object as Stripe.Dispute).charge === charge.id,
		);
		expect(created?.request).toEqual({ id: null, idempotency_key: null });
	});
});
