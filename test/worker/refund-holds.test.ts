import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { freeBalance, getBalanceHold, placeRefundHold } from "../../src/db/balance-holds";
import { postTransfer } from "../../src/db/ledger";
import type { CardPaymentDetails } from "../../src/domain/card-details";
import { newId } from "../../src/domain/ids";
import { accounts } from "../../src/domain/ledger";
import type { RefundJson } from "../../src/domain/refund";
import { abandonRefund } from "../../src/services/refunds";
import {
	call,
	createMerchant,
	createPayment,
	expectApiError,
	json,
	type PaymentJson,
} from "./helpers/api";
import { accountBalance, expectLedgerBalanced } from "./helpers/ledger";
import { eventTypes, fireDueJobs, paymentObject } from "./helpers/objects";
import { addDestination, consumePayouts, getPayoutJson, type PayoutJson } from "./helpers/payouts";
import { consume } from "./helpers/refunds";
import { deliverAll, stripe } from "./helpers/stripe";

type Payment = PaymentJson & { amount_refunded: number; card: CardPaymentDetails | null };

const usdAvailable = (merchantId: string) => accounts.merchantAvailable(merchantId, false, "usd");

/** Calls one of the Stripe emulator's `_test` routes. */
async function emulator(path: string, body: Record<string, string> = {}): Promise<void> {
	const res = await fetch(`${env.STRIPE_API_URL}${path}`, {
		method: "POST",
		headers: {
			Authorization: `Bearer ${env.STRIPE_SECRET_KEY}`,
			"Content-Type": "application/x-www-form-urlencoded",
		},
		body: new URLSearchParams(body).toString(),
	});
	expect(res.status, await res.clone().text()).toBe(200);
}

/**
 * A card payment of `amount` paid and its funds available (net of Stripe's fee), the merchant
 * with an onboarded Connect account as its fiat payout destination.
 */
async function paidCardAvailable(amount = 5_000) {
	const m = await createMerchant();
	const p = (await createPayment(m.sk, { amount, payment_method_types: ["card"] })) as Payment;
	const opened = await call("POST", `/checkout/${p.id}/card`, { body: {} });
	const { client_secret } = await json<{ client_secret: string }>(opened);
	const intentId = client_secret.slice(0, client_secret.indexOf("_secret_"));
	await stripe.paymentIntents.confirm(intentId, { payment_method: "pm_card_visa" });
	await deliverAll(intentId);
	await fireDueJobs(p.id, ["card_available"]);
	const payment = (await paymentObject(p.id).get()) as unknown as { card: CardPaymentDetails };
	const fee = BigInt(payment.card.fee ?? 0);
	expect(await accountBalance(usdAvailable(m.merchant.id))).toBe(BigInt(amount) - fee);
	const account = await stripe.accounts.create({
		type: "express",
		capabilities: { transfers: { requested: true } },
	});
	await emulator(`/v1/accounts/${account.id}/_test/complete_onboarding`);
	// Other files' payouts and refunds draw on the same emulator balance meanwhile.
	await emulator("/v1/balance/_test/top_up", { amount: "10000000", currency: "usd" });
	await addDestination(m.merchant.id, { type: "stripe_account", stripeAccount: account.id });
	return { m, p, intentId, fee };
}

async function stripeRefundsOf(intentId: string) {
	return (await stripe.refunds.list({ payment_intent: intentId, limit: 10 })).data;
}

async function getRefund(key: string, id: string): Promise<RefundJson> {
	const res = await call("GET", `/v1/refunds/${id}`, { key });
	expect(res.status, await res.clone().text()).toBe(200);
	return json<RefundJson>(res);
}

async function createRefundOk(key: string, body: Record<string, unknown>): Promise<RefundJson> {
	const res = await call("POST", "/v1/refunds", { key, body });
	expect(res.status, await res.clone().text()).toBe(200);
	return json<RefundJson>(res);
}

/** Takes `amount` from a merchant's available USD, as a dispute elsewhere would. */
async function drain(merchantId: string, amount: bigint): Promise<void> {
	await postTransfer(env.DB, {
		id: `test-drain:${newId("transfer")}`,
		kind: "adjustment",
		reference: merchantId,
		livemode: false,
		created: Math.floor(Date.now() / 1000),
		postings: [
			{ account: usdAvailable(merchantId), currency: "usd", amount: -amount },
			{ account: accounts.settlement(false, "stripe", "usd"), currency: "usd", amount },
		],
	});
}

describe("card refunds need the merchant's available balance", () => {
	it("refuses a full refund of card funds already paid out through Connect: 400 balance_insufficient, nothing refunded at Stripe", async () => {
		const { m, p, intentId, fee } = await paidCardAvailable(5_000);
		const payout = await call("POST", "/v1/payouts", {
			key: m.sk,
			body: { amount: 4_500, currency: "usd" },
		});
		expect(payout.status, await payout.clone().text()).toBe(200);
		const { id: payoutId } = await json<PayoutJson>(payout);
		await consumePayouts([payoutId]);
		expect((await getPayoutJson(m.sk, payoutId)).status).toBe("paid");
		const before = await accountBalance(usdAvailable(m.merchant.id));
		expect(before).toBe(500n - fee);

		const res = await call("POST", "/v1/refunds", { key: m.sk, body: { payment: p.id } });
		const error = await expectApiError(res, "balance_insufficient", "amount");
		expect(error.message).toContain("short by");
		expect(error.message).toContain("usd minor units");
		expect(error.message).toContain(`short by ${5_000n - fee - before} usd minor units`);

		expect(await stripeRefundsOf(intentId)).toEqual([]);
		expect(await paymentObject(p.id).listRefunds()).toEqual([]);
		expect(await accountBalance(usdAvailable(m.merchant.id))).toBe(before);
		// What is left can be refunded: the card's fee may go below zero only with the payment's
		// last part, and the payout took that.
		const over = await call("POST", "/v1/refunds", {
			key: m.sk,
			body: { payment: p.id, amount: Number(before) + 1 },
		});
		await expectApiError(over, "balance_insufficient", "amount");
		const part = await createRefundOk(m.sk, { payment: p.id, amount: Number(before) });
		await consume([part.id]);
		expect((await getRefund(m.sk, part.id)).status).toBe("succeeded");
		expect(await accountBalance(usdAvailable(m.merchant.id))).toBe(0n);
		await expectLedgerBalanced();
	});

	it("lets a refund and a payout race for the same funds: never both, and available never below the card's fee", async () => {
		for (let round = 0; round < 3; round++) {
			for (const order of ["together", "send-vs-payout"] as const) {
				const { m, p, intentId, fee } = await paidCardAvailable(5_000);
				const refundBody = { payment: p.id };
				const payoutBody = { amount: 4_500, currency: "usd" };
				let refundId: string | null = null;
				let payoutRes: Response;
				if (order === "together") {
					const [r, po] = await Promise.all([
						call("POST", "/v1/refunds", { key: m.sk, body: refundBody }),
						call("POST", "/v1/payouts", { key: m.sk, body: payoutBody }),
					]);
					if (r.status === 200) refundId = (await json<RefundJson>(r)).id;
					else await expectApiError(r, "balance_insufficient", "amount");
					payoutRes = po;
					if (refundId) await consume([refundId]);
				} else {
					refundId = (await createRefundOk(m.sk, refundBody)).id;
					const [, po] = await Promise.all([
						consume([refundId]),
						call("POST", "/v1/payouts", { key: m.sk, body: payoutBody }),
					]);
					payoutRes = po;
				}
				const payoutOk = payoutRes.status === 200;
				if (payoutOk) await consumePayouts([(await json<PayoutJson>(payoutRes)).id]);
				else await expectApiError(payoutRes, "parameter_invalid", "amount");
				const refund = refundId ? await getRefund(m.sk, refundId) : null;
				const refunded = refund?.status === "succeeded";
				expect(payoutOk && refunded, `${order} round ${round}`).toBe(false);
				expect(payoutOk || refunded, `${order} round ${round}: one of them goes through`).toBe(
					true,
				);
				if (refund && !refunded) {
					expect(refund).toMatchObject({ status: "failed", failure_reason: "insufficient_funds" });
				}
				expect((await stripeRefundsOf(intentId)).length).toBe(refunded ? 1 : 0);
				expect(await accountBalance(usdAvailable(m.merchant.id))).toBeGreaterThanOrEqual(-fee);
			}
		}
		await expectLedgerBalanced();
	});

	it("fails a refund whose balance was drained between its creation and its sending: insufficient_funds, amount freed, nothing at Stripe", async () => {
		const { m, p, intentId, fee } = await paidCardAvailable(5_000);
		const r = await createRefundOk(m.sk, { payment: p.id, amount: 4_000 });
		await drain(m.merchant.id, 4_000n);
		const before = await accountBalance(usdAvailable(m.merchant.id));
		expect(before).toBe(1_000n - fee);

		const result = await consume([r.id]);
		expect(result.explicitAcks).toHaveLength(1);
		const failed = await getRefund(m.sk, r.id);
		expect(failed).toMatchObject({ status: "failed", failure_reason: "insufficient_funds" });
		expect(await eventTypes(r.id)).toEqual(["refund.created", "refund.failed"]);
		expect(await stripeRefundsOf(intentId)).toEqual([]);
		expect(await getBalanceHold(env.DB, r.id)).toBeNull();
		expect(await accountBalance(usdAvailable(m.merchant.id))).toBe(before);
		// A redelivered message changes nothing.
		await consume([r.id]);
		expect((await getRefund(m.sk, r.id)).status).toBe("failed");
		// The amount is free again: what the balance covers can still be refunded.
		const small = await createRefundOk(m.sk, { payment: p.id, amount: Number(before) });
		await consume([small.id]);
		expect((await getRefund(m.sk, small.id)).status).toBe("succeeded");
		await expectLedgerBalanced();
	});

	it("refunds a card payment in full with no payouts, and the hold stops counting once the refund is booked", async () => {
		const { m, p, intentId, fee } = await paidCardAvailable(5_000);
		const account = usdAvailable(m.merchant.id);
		const r = await createRefundOk(m.sk, { payment: p.id });
		await consume([r.id]);
		expect((await getRefund(m.sk, r.id)).status).toBe("succeeded");
		expect((await stripeRefundsOf(intentId)).map((x) => x.amount)).toEqual([5_000]);
		expect(await getBalanceHold(env.DB, r.id)).toMatchObject({
			account,
			currency: "usd",
			amount: "5000",
			transfer_id: `${r.id}:refund`,
		});
		expect(await accountBalance(account)).toBe(-fee);
		// The debit is booked: the hold no longer counts on top of it.
		expect(await freeBalance(env.DB, account)).toBe(-fee);
		await expectLedgerBalanced();
	});

	it("stops counting a failed refund's hold", async () => {
		const { m, p, fee } = await paidCardAvailable(5_000);
		const account = usdAvailable(m.merchant.id);
		const r = await createRefundOk(m.sk, { payment: p.id, amount: 3_000 });
		// The hold as the consumer places it before calling Stripe, from the payment's own draw.
		const draw = await paymentObject(p.id).refundDraw(r.id);
		expect(draw).toMatchObject({ account, amount: 3_000n, payment_id: p.id });
		if (!draw) throw new Error("no draw");
		const held = await placeRefundHold(env.DB, {
			refund_id: r.id,
			merchant_id: m.merchant.id,
			livemode: false,
			draw,
			now: Math.floor(Date.now() / 1000),
		});
		expect(held).toEqual({ placed: true });
		expect(await freeBalance(env.DB, account)).toBe(2_000n - fee);
		// A dispute elsewhere takes 1,500: the rest of the payment cannot be refunded on top of the
		// held part.
		await drain(m.merchant.id, 1_500n);
		const res = await call("POST", "/v1/refunds", { key: m.sk, body: { payment: p.id } });
		const error = await expectApiError(res, "balance_insufficient", "amount");
		// The last 2,000 of the payment may take the card's fee below zero: 2,000 - fee are needed.
		expect(error.message).toContain(`short by ${2_000n - fee - (500n - fee)} usd minor units`);

		await abandonRefund(env, r.id, "Gave up for the test");
		expect((await getRefund(m.sk, r.id)).status).toBe("failed");
		expect(await freeBalance(env.DB, account)).toBe(3_500n - fee);
		// Its amount is free on the payment too: more than the 2,000 left before can be refunded.
		const again = await createRefundOk(m.sk, { payment: p.id, amount: 3_500 - Number(fee) });
		expect(again.amount).toBe(3_500 - Number(fee));
		await expectLedgerBalanced();
	});
});
