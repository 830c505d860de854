import { beforeAll, describe, expect, test } from "vitest";
import { gatewayJson } from "../../scripts/lib/gateway-api";
import type { PaymentObjectJson } from "../../src/domain/payment";
import type { ConversionJson } from "../../src/services/conversion-json";
import { fundedPayer, signAndSend } from "./helpers/chain";
import { type StackMerchant, sharedStack, until } from "./helpers/stack";

// A conversion end to end through `wrangler dev`: a SOL payment paid on the local chain, its
// success published to the conversions queue (local Queues), converted into the merchant's
// settlement currency at the quote's rate, with the ledger showing the result.

const stack = sharedStack();
let merchant: StackMerchant;

beforeAll(async () => {
	merchant = await stack.merchant("Conversions Bakery");
});

describe("conversions through wrangler dev", () => {
	test("a SOL payment is converted into the merchant's USD through the conversions queue", async () => {
		await merchant.api("/v1/settings", {
			settlement_currency: "usd",
			conversion_rate_policy: "locked",
		});
		const payment = await merchant.api<PaymentObjectJson>("/v1/payments", {
			amount: 2500,
			currency: "usd",
			payment_method_types: ["solana"],
			solana: { token: "SOL" },
		});
		const payer = await fundedPayer(stack.rpcUrl);
		const { transaction } = (await gatewayJson(stack.gatewayUrl, `/solana-pay/${payment.id}`, {
			method: "POST",
			body: { account: payer.address },
		})) as { transaction: string };
		await signAndSend(stack.rpcUrl, payer, transaction);
		await until(
			"the payment to succeed",
			() => merchant.api<PaymentObjectJson>(`/v1/payments/${payment.id}`),
			(p) => p.status === "succeeded",
		);
		const { data } = await until(
			"the conversion",
			() => merchant.api<{ data: ConversionJson[] }>(`/v1/conversions?payment=${payment.id}`),
			(list) => list.data.length > 0,
		);
		const conversion = data[0] as ConversionJson;
		expect(conversion).toMatchObject({
			status: "completed",
			policy: "locked",
			from: { token: "SOL" },
			to: { currency: "usd" },
		});
		// Locked at the quote's rate: the price, less the spread, rounded for the merchant.
		const fee = Number(conversion.fee);
		expect(Number(conversion.to.amount) + fee).toBeGreaterThanOrEqual(2500);
		expect(Number(conversion.to.amount) + fee).toBeLessThanOrEqual(2501);
		const balances = await merchant.api<{
			available: { currency: string; amount: number | string }[];
		}>("/v1/balances");
		expect(balances.available).toContainEqual({
			currency: "usd",
			amount: Number(conversion.to.amount),
		});
	});
});
