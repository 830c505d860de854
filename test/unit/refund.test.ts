import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CardPaymentDetails } from "../../src/domain/card-details";
import { validateTransfer } from "../../src/domain/ledger";
import { newPaymentRecord, type PaymentRecord, refundStatusOf } from "../../src/domain/payment";
import type { RefundRecord } from "../../src/domain/refund";
import {
	bookCardRefundsSeen,
	bookRefundFailed,
	bookRefundSucceeded,
	refundAvailableDraw,
} from "../../src/domain/refund-booking";
import { heldByPayer, heldFunds, splitByPayer, tokenShare } from "../../src/domain/refund-held";
import { planRefund, type RefundRequest } from "../../src/domain/refund-plan";

const PAYER = "9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM";
const OTHER = "8xAUZPtVV9sgijsar6Jkg5v7zmUEwD758hwPWTptWJze";
const THIRD = "GokivDYuQXPZCWRkwMhdH2h91KpDQXBEmpgBgs55bnpH";
const USDC = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v";

function payment(patch: Partial<PaymentRecord> = {}): PaymentRecord {
	return {
		...newPaymentRecord({
			id: "pay_1",
			merchant_id: "mch_1",
			livemode: false,
			amount: 2500,
			currency: "usd",
			payment_method_types: ["solana", "card"],
			description: null,
			metadata: {},
			success_url: null,
			cancel_url: null,
			checkout_url: "https://pay.example/checkout/pay_1",
			expires_at: 2_000,
			created: 1_000,
		}),
		...patch,
	};
}

function cryptoPayment(patch: Partial<PaymentRecord> = {}, received = "25125000"): PaymentRecord {
	return payment({
		status: "succeeded",
		amount_received: 2500,
		solana: {
			token: "USDC",
			mint: USDC,
			token_program: null,
			decimals: 6,
			amount: "25125000",
			recipient: OTHER,
			reference: OTHER,
			memo: "pay_1",
			solana_pay_url: "",
			transaction_request_url: "",
			quote: {
				rate: "1",
				fee: "125000",
				amount_before_fee: "25000000",
				source: "pyth",
				expires_at: 1_900,
			},
			required_commitment: "confirmed",
			amount_received: received,
			amount_excess: "0",
			signature: "sig",
			payer: PAYER,
		},
		...patch,
	});
}

function card(patch: Partial<CardPaymentDetails> = {}): CardPaymentDetails {
	return {
		payment_intent: "pi_1",
		intent_status: "succeeded",
		capture_method: "automatic",
		amount_capturable: 0,
		amount_received: 10_000,
		charge: "ch_1",
		fee: 320,
		available_on: null,
		amount_refunded: 0,
		last_payment_error: null,
		disputes: [],
		...patch,
	};
}

let seq = 0;
function request(patch: Partial<RefundRequest> = {}): RefundRequest {
	return { id: `re_${++seq}`, metadata: {}, now: 1_500, ...patch };
}

const noHeld = { tokens: 0n, payers: [] };

function planned(plan: ReturnType<typeof planRefund>): RefundRecord {
	if (!plan.ok) throw new Error(plan.message);
	return plan.refund;
}

describe("token share of a price refund", () => {
	it("sends the payer's share of everything paid, the fee included, rounding down", () => {
		expect(
			tokenShare({
				paid: 167_500_001n,
				received: 2500,
				refundedBefore: 0,
				amount: 1250,
				tokensBefore: 0n,
			}),
		).toBe(83_750_000n);
		expect(
			tokenShare({
				paid: 167_500_001n,
				received: 2500,
				refundedBefore: 1250,
				amount: 1250,
				tokensBefore: 83_750_000n,
			}),
		).toBe(83_750_001n);
	});

	it("adds up to exactly what was paid, however the price is split", () => {
		fc.assert(
			fc.property(
				fc.bigInt({ min: 1n, max: 10n ** 15n }),
				fc.array(fc.integer({ min: 1, max: 5_000 }), { minLength: 1, maxLength: 12 }),
				(paid, parts) => {
					const received = parts.reduce((s, a) => s + a, 0);
					let refunded = 0;
					let tokens = 0n;
					for (const amount of parts) {
						const share = tokenShare({
							paid,
							received,
							refundedBefore: refunded,
							amount,
							tokensBefore: tokens,
						});
						expect(share).toBeGreaterThanOrEqual(0n);
						refunded += amount;
						tokens += share;
					}
					expect(tokens).toBe(paid);
				},
			),
		);
	});
});

describe("held funds", () => {
	const r = (amount: bigint, disposition: "counted" | "late" | "rejected", payer = PAYER) => ({
		amount,
		payer,
		disposition,
	});

	it("holds an overpayment's excess once the payment succeeded", () => {
		expect(heldFunds(cryptoPayment(), [r(26_125_000n, "counted")])).toEqual({
			tokens: 1_000_000n,
			payers: [PAYER],
		});
		expect(heldFunds(cryptoPayment(), [r(25_125_000n, "counted")])).toEqual({
			tokens: 0n,
			payers: [],
		});
	});

	it("holds late funds, but not what an open payment has counted towards its price", () => {
		const open = cryptoPayment({ status: "requires_payment" });
		expect(heldFunds(open, [r(5n, "counted"), r(7n, "late", OTHER), r(9n, "rejected")])).toEqual({
			tokens: 7n,
			payers: [OTHER],
		});
	});

	it("holds everything an expired payment received, from every wallet", () => {
		const expired = cryptoPayment({ status: "expired" });
		expect(heldFunds(expired, [r(5n, "counted"), r(7n, "late", OTHER)])).toEqual({
			tokens: 12n,
			payers: [OTHER, PAYER],
		});
	});
});

describe("planning a refund", () => {
	it("reserves card refunds against what Stripe has refunded and what is in flight", () => {
		const p = payment({
			status: "succeeded",
			amount_received: 10_000,
			card: card({ amount_refunded: 1_000 }),
		});
		const first = planned(planRefund(p, [], noHeld, request({ amount: 6_000 })));
		expect(first).toMatchObject({
			status: "pending",
			funds: "received",
			amount: 6_000,
			processor: "stripe",
		});
		const rest = planRefund(p, [first], noHeld, request({ amount: 3_001 }));
		expect(rest).toMatchObject({ ok: false, code: "parameter_invalid", param: "amount" });
		expect(planned(planRefund(p, [first], noHeld, request())).amount).toBe(3_000);
		const failed = { ...first, status: "failed" as const };
		expect(planned(planRefund(p, [failed], noHeld, request())).amount).toBe(9_000);
	});

	it("refuses a card destination, a disputed charge and a fully refunded one", () => {
		const p = payment({ status: "succeeded", amount_received: 10_000, card: card() });
		expect(planRefund(p, [], noHeld, request({ destination: PAYER }))).toMatchObject({
			ok: false,
			param: "destination",
		});
		const disputed = {
			...p,
			card: card({
				disputes: [
					{
						id: "dp",
						amount: 1,
						currency: "usd",
						reason: "fraudulent",
						status: "open",
						created: 1,
					},
				],
			}),
		};
		expect(planRefund(disputed, [], noHeld, request())).toMatchObject({
			ok: false,
			code: "payment_unexpected_state",
		});
		const done = { ...p, card: card({ amount_refunded: 10_000 }) };
		expect(planRefund(done, [], noHeld, request())).toMatchObject({
			ok: false,
			code: "payment_unexpected_state",
		});
	});

	it("plans crypto refunds in tokens, to the payer or a named wallet", () => {
		const p = cryptoPayment();
		const part = planned(planRefund(p, [], noHeld, request({ amount: 1_000 })));
		expect(part.solana).toMatchObject({ amount: "10050000", recipient: PAYER, memo: part.id });
		const rest = planned(planRefund(p, [part], noHeld, request({ destination: OTHER })));
		expect(rest).toMatchObject({ amount: 1_500, solana: { amount: "15075000", recipient: OTHER } });
	});

	it("returns held funds whole, each sender its own, never to a wallet the merchant names", () => {
		const expired = cryptoPayment({ status: "expired", amount_received: 0 });
		expect(
			planRefund(expired, [], { tokens: 10n, payers: [PAYER] }, request({ amount: 5 })),
		).toMatchObject({ ok: false, param: "amount" });
		const two = { tokens: 10n, payers: [PAYER, OTHER] };
		const by = [
			{ payer: PAYER, amount: 7n },
			{ payer: OTHER, amount: 3n },
		];
		expect(
			planRefund(expired, [], two, request({ destination: THIRD }), undefined, by),
		).toMatchObject({ ok: false, code: "parameter_invalid", param: "destination" });
		const split = planned(planRefund(expired, [], two, request(), undefined, by));
		expect(split.solana?.splits).toEqual([
			{ recipient: PAYER, amount: "7" },
			{ recipient: OTHER, amount: "3" },
		]);
		// One sender owed everything may be paid at another address it asked for, once.
		const asked = planned(
			planRefund(expired, [], { tokens: 7n, payers: [PAYER] }, request({ destination: THIRD })),
		);
		expect(asked.solana).toMatchObject({ recipient: THIRD, sender: PAYER, amount: "7" });
		expect(planRefund(expired, [asked], { tokens: 7n, payers: [PAYER] }, request())).toMatchObject({
			ok: false,
			code: "payment_unexpected_state",
		});
		const whole = planned(planRefund(expired, [], { tokens: 10n, payers: [PAYER] }, request()));
		expect(whole).toMatchObject({ funds: "held", amount: null, solana: { amount: "10" } });
		expect(planRefund(expired, [whole], { tokens: 10n, payers: [PAYER] }, request())).toMatchObject(
			{ ok: false, code: "payment_unexpected_state" },
		);
		expect(planRefund(expired, [], noHeld, request({ funds: "received" }))).toMatchObject({
			ok: false,
			code: "payment_unexpected_state",
		});
	});
});

describe("booking a refund", () => {
	it("marks the payment refunded or partially refunded; its status stays", () => {
		expect(refundStatusOf({ amount_received: 2500, amount_refunded: 0, card: null })).toBeNull();
		expect(refundStatusOf({ amount_received: 2500, amount_refunded: 1 })).toBe(
			"partially_refunded",
		);
		expect(refundStatusOf({ amount_received: 2500, amount_refunded: 2500 })).toBe("refunded");
		expect(
			refundStatusOf({
				amount_received: 0,
				amount_refunded: 5000,
				card: card({ amount_received: 5000 }),
			}),
		).toBe("refunded");
	});

	it("writes balanced transfers for every kind of refund, the network fee to the merchant", () => {
		const crypto = cryptoPayment();
		const part = planned(planRefund(crypto, [], noHeld, request({ amount: 1_000 })));
		const booked = bookRefundSucceeded(
			crypto,
			part,
			{ solana: { signature: "s", network_fee: "5000" } },
			false,
			1_600,
		);
		expect(booked.payment).toMatchObject({ amount_refunded: 1_000, version: crypto.version + 1 });
		expect(booked.transfers.map((t) => t.id)).toEqual([
			`${part.id}:refund`,
			`${part.id}:network_fee`,
		]);
		expect(booked.transfers[0]?.postings).toEqual([
			{ account: `test:merchant:mch_1:${USDC}:available`, currency: USDC, amount: -10_050_000n },
			{ account: `test:settlement:solana:${USDC}`, currency: USDC, amount: 10_050_000n },
		]);
		expect(booked.transfers[1]?.postings).toEqual([
			{ account: "test:merchant:mch_1:sol:available", currency: "sol", amount: -5000n },
			{ account: "test:settlement:solana:sol", currency: "sol", amount: 5000n },
		]);

		const lateCard = payment({
			status: "expired",
			card: card({ amount_received: 5_000, fee: 175 }),
		});
		const held = planned(planRefund(lateCard, [], noHeld, request()));
		const cardBooked = bookRefundSucceeded(
			lateCard,
			held,
			{ card: { stripe_refund: "re_s", stripe_status: "succeeded" } },
			false,
			1_600,
		);
		expect(cardBooked.payment?.card?.amount_refunded).toBe(5_000);
		expect(cardBooked.transfers[0]?.postings).toEqual([
			{ account: "test:payment:pay_1:usd", currency: "usd", amount: -4_825n },
			{ account: "test:merchant:mch_1:usd:available", currency: "usd", amount: -175n },
			{ account: "test:settlement:stripe:usd", currency: "usd", amount: 5_000n },
		]);
		for (const t of [...booked.transfers, ...cardBooked.transfers]) validateTransfer(t);
	});

	it("knows what a pending refund will take from available: the debit it books there, or nothing", () => {
		const crypto = cryptoPayment();
		const part = planned(planRefund(crypto, [], noHeld, request({ amount: 1_000 })));
		expect(refundAvailableDraw(crypto, part, false)).toEqual({
			account: `test:merchant:mch_1:${USDC}:available`,
			currency: USDC,
			amount: 10_050_000n,
			payment_id: crypto.id,
			transfer_id: `${part.id}:refund`,
			unit: "base units of USDC",
		});
		const paid = payment({ status: "succeeded", card: card({ amount_received: 5_000, fee: 175 }) });
		const cardRefund = planned(planRefund(paid, [], noHeld, request({ amount: 2_000 })));
		expect(refundAvailableDraw(paid, cardRefund, true)).toMatchObject({
			account: "test:merchant:mch_1:usd:available",
			amount: 2_000n,
			unit: "usd minor units",
		});
		// Card funds still pending are not in available: nothing to hold there.
		expect(refundAvailableDraw(paid, cardRefund, false)).toBeNull();
		// A late card charge goes back from its holding account; only Stripe's fee from available.
		const lateCard = payment({
			status: "expired",
			card: card({ amount_received: 5_000, fee: 175 }),
		});
		const held = planned(planRefund(lateCard, [], noHeld, request()));
		expect(refundAvailableDraw(lateCard, held, false)).toMatchObject({ amount: 175n });
	});

	it("charges a failed crypto refund's spent network fee and nothing else", () => {
		const crypto = cryptoPayment();
		const r = planned(planRefund(crypto, [], noHeld, request()));
		const failed = bookRefundFailed(crypto, r, { reason: "no", network_fee: "5000" }, 1_600);
		expect(failed.refund).toMatchObject({ status: "failed", failure_reason: "no" });
		expect(failed.payment).toMatchObject({ amount_refunded: 0, version: crypto.version + 1 });
		expect(failed.transfers.map((t) => t.id)).toEqual([`${r.id}:network_fee`]);
		expect(bookRefundFailed(crypto, r, { reason: "no" }, 1_600)).toMatchObject({
			payment: null,
			transfers: [],
		});
	});

	it("books Stripe refunds made elsewhere only beyond ours in flight", () => {
		const p = payment({
			status: "succeeded",
			amount_received: 10_000,
			card: card({ amount_refunded: 3_000 }),
			amount_refunded: 3_000,
		});
		expect(bookCardRefundsSeen(p, 5_000, 2_000, 1_600)).toBeNull();
		const seen = bookCardRefundsSeen(p, 5_000, 0, 1_600);
		expect(seen?.payment).toMatchObject({
			amount_refunded: 5_000,
			card: { amount_refunded: 5_000 },
		});
		expect(seen?.transfers.map((t) => t.id)).toEqual(["pay_1:stripe_refund:5000"]);
	});
});

describe("a full refund split between the wallets that paid", () => {
	it("shares the tokens by what each paid, the rounding to the largest payer, adding up exactly", () => {
		const shares = splitByPayer(1_000n, [
			{ payer: "A", amount: 2n },
			{ payer: "B", amount: 1n },
		]);
		expect(shares).toEqual([
			{ recipient: "A", amount: 667n },
			{ recipient: "B", amount: 333n },
		]);
		expect(shares.reduce((s, x) => s + x.amount, 0n)).toBe(1_000n);
	});
});

describe("who held funds belong to", () => {
	it("gives late funds to their payers and an excess to the wallets that paid, by what each paid", () => {
		const payment = { status: "succeeded" as const, solana: { amount: "100" } as never };
		expect(
			heldByPayer(payment, [
				{ amount: 90n, payer: "A", disposition: "counted" },
				{ amount: 30n, payer: "B", disposition: "counted" },
				{ amount: 7n, payer: "C", disposition: "late" },
			]),
		).toEqual([
			{ payer: "A", amount: 15n },
			{ payer: "C", amount: 7n },
			{ payer: "B", amount: 5n },
		]);
	});
});
