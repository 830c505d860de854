import { describe, expect, it } from "vitest";
import type { PaymentObjectJson } from "../../src/domain/payment";
import type { RefundJson } from "../../src/domain/refund";
import {
	conversionRow,
	type DigitsOf,
	paymentRow,
	refundRow,
	TRANSACTION_COLUMNS,
	transactionCells,
	transactionJson,
} from "../../src/domain/report-rows";

const digitsOf: DigitsOf = (c) =>
	({ usd: 2, jpy: 0, sol: 9, EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v: 6 })[c] ?? null;

const base = {
	id: "pay_1",
	object: "payment",
	livemode: false,
	status: "succeeded",
	amount: 2500,
	currency: "usd",
	amount_received: 2500,
	amount_refunded: 0,
	payment_method_types: ["solana", "card"],
	description: null,
	metadata: {},
	created: 1_764_000_000,
	solana: null,
	card: null,
	customer: null,
} as unknown as PaymentObjectJson;

const cells = (row: Parameters<typeof transactionCells>[0]) =>
	Object.fromEntries(TRANSACTION_COLUMNS.map((c, i) => [c, transactionCells(row, digitsOf)[i]]));

describe("transactions report rows", () => {
	it("shows a card payment's Stripe fee and net in the price currency", () => {
		const row = paymentRow({
			...base,
			card: { payment_intent: "pi_1", amount_received: 2500, fee: 103 },
		} as unknown as PaymentObjectJson);
		expect(cells(row)).toMatchObject({
			method: "card",
			amount: 2500n,
			amount_decimal: "25.00",
			fee: 103n,
			fee_decimal: "1.03",
			net: 2397n,
			net_decimal: "23.97",
			token: null,
			processor_reference: "pi_1",
			created: "2025-11-24T16:00:00Z",
		});
	});

	it("shows a crypto payment's tokens, the gateway's fee in the token, and its signature", () => {
		const row = paymentRow({
			...base,
			solana: {
				token: "USDC",
				decimals: 6,
				amount_received: "25075000",
				signature: "5sig",
				quote: { fee: "75000" },
			},
		} as unknown as PaymentObjectJson);
		expect(cells(row)).toMatchObject({
			method: "solana",
			fee: 0n,
			net: 2500n,
			token: "USDC",
			token_amount: 25_075_000n,
			token_amount_decimal: "25.075000",
			token_fee: 75_000n,
			token_fee_decimal: "0.075000",
			processor_reference: "5sig",
		});
	});

	it("leaves the method empty while an unpaid payment offers two", () => {
		const row = paymentRow({ ...base, status: "requires_payment", amount_received: 0 });
		expect(cells(row)).toMatchObject({ method: "", net: 0n, token_amount: null });
	});

	it("shows a crypto refund negative, its network fee in lamports", () => {
		const row = refundRow({
			id: "re_1",
			payment: "pay_1",
			status: "succeeded",
			processor: "solana",
			amount: 1000,
			currency: "usd",
			created: 1_764_000_000,
			metadata: { ticket: "T-9" },
			card: null,
			solana: {
				token: "SOL",
				decimals: 9,
				amount: "66666667",
				signature: "9sig",
				network_fee: "5000",
			},
		} as unknown as RefundJson);
		expect(cells(row)).toMatchObject({
			type: "refund",
			amount: -1000n,
			amount_decimal: "-10.00",
			token_amount: -66_666_667n,
			token_amount_decimal: "-0.066666667",
			token_fee: 5000n,
			token_fee_decimal: "0.000005000",
			processor_reference: "9sig",
			payment: "pay_1",
			metadata: '{"ticket":"T-9"}',
		});
	});

	it("shows a conversion at its gross, the spread as its fee, the token sold negative", () => {
		const row = conversionRow(
			{
				id: "conv_1",
				payment_id: "pay_1",
				status: "completed",
				from_token: "SOL",
				from_currency: "sol",
				from_amount: "166666667",
				to_currency: "usd",
				to_amount: "2493",
				fee: "7",
				created: 1_764_000_000,
			},
			digitsOf,
		);
		expect(transactionJson(row, digitsOf)).toMatchObject({
			type: "conversion",
			amount: 2500,
			fee: 7,
			net: 2493,
			net_decimal: "24.93",
			token_amount: "-166666667",
			token_amount_decimal: "-0.166666667",
			metadata: {},
		});
	});

	it("leaves the decimal empty for a currency whose digits are unknown", () => {
		const row = paymentRow({ ...base, currency: "xyz" });
		expect(cells(row).amount_decimal).toBeNull();
	});
});
