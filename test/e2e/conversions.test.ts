import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { gatewayJson } from "../../scripts/lib/gateway-api";
import { type LocalMerchant, LocalStack } from "../../scripts/lib/local-stack";
import type { PaymentObjectJson } from "../../src/domain/payment";
import type { ConversionJson } from "../../src/services/conversions";
import { fundedPayer, signAndSend } from "./helpers/chain";

// A conversion end to end through `wrangler dev`: a SOL payment paid on the local chain, its
// success published to the conversions queue (local Queues), converted into the merchant's
// settlement currency at the quote's rate, with the ledger showing the result.

let stack: LocalStack;
let merchant: LocalMerchant;

beforeAll(async () => {
	stack = new LocalStack({
		name: "conversions",
		solana: { slotMs: 100, confirmedLag: 1, finalizedLag: 8 },
		readyTimeoutMs: 90_000,
		say: (line) => process.stdout.write(`[e2e conversions] ${line}\n`),
	});
	try {
		await stack.start();
	} catch (error) {
		await stack.stop();
		throw error;
	}
	merchant = await stack.createMerchant("Conversions Bakery");
}, 120_000);

afterAll(async () => {
	await stack?.stop();
}, 30_000);

function api<T>(path: string, body?: unknown): Promise<T> {
	return gatewayJson(stack.gatewayUrl, path, {
		token: merchant.secretKey,
		...(body === undefined
			? {}
			: { method: "POST", body, headers: { "idempotency-key": randomUUID() } }),
	}) as Promise<T>;
}

async function until<T>(what: string, read: () => Promise<T>, done: (v: T) => boolean) {
	const deadline = Date.now() + 45_000;
	for (;;) {
		const value = await read();
		if (done(value)) return value;
		if (Date.now() > deadline)
			throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
		await new Promise((r) => setTimeout(r, 250));
	}
}

describe("conversions through wrangler dev", () => {
	test("a SOL payment is converted into the merchant's USD through the conversions queue", async () => {
		await api("/v1/settings", { settlement_currency: "usd", conversion_rate_policy: "locked" });
		const payment = await api<PaymentObjectJson>("/v1/payments", {
			amount: 2500,
			currency: "usd",
			payment_method_types: ["solana"],
			solana: { token: "SOL" },
		});
		const payer = await fundedPayer(stack.sandbox.urls.solana);
		const { transaction } = (await gatewayJson(stack.gatewayUrl, `/solana-pay/${payment.id}`, {
			method: "POST",
			body: { account: payer.address },
		})) as { transaction: string };
		await signAndSend(stack.sandbox.urls.solana, payer, transaction);
		await until(
			"the payment to succeed",
			() => api<PaymentObjectJson>(`/v1/payments/${payment.id}`),
			(p) => p.status === "succeeded",
		);
		const { data } = await until(
			"the conversion",
			() => api<{ data: ConversionJson[] }>(`/v1/conversions?payment=${payment.id}`),
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
		const balances = await api<{ available: { currency: string; amount: number | string }[] }>(
			"/v1/balances",
		);
		expect(balances.available).toContainEqual({
			currency: "usd",
			amount: Number(conversion.to.amount),
		});
	});
});
