import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { SolanaPaymentDetails } from "../../src/domain/payment";
import type { RefundJson } from "../../src/domain/refund";
import worker from "../../src/index";
import {
	ADMIN_TOKEN,
	admin,
	call,
	createMerchant,
	createPayment,
	expectApiError,
	json,
	type PaymentJson,
} from "./helpers/api";
import { recordConversionMessages } from "./helpers/objects";
import { payTransferRequestInFull } from "./helpers/solana";
import { deliverAll, stripe } from "./helpers/stripe";

type Merchant = Awaited<ReturnType<typeof createMerchant>>;
type SolanaPayment = PaymentJson & { solana: SolanaPaymentDetails };

const today = () => new Date().toISOString().slice(0, 10);
let seq = 0;

async function consume(queue: string, bodies: unknown[]) {
	const batch = createMessageBatch(
		queue,
		bodies.map((body) => ({ id: `admin-rpt-${++seq}`, timestamp: new Date(), attempts: 1, body })),
	);
	const ctx = createExecutionContext();
	await worker.queue(batch, env, ctx);
	return getQueueResult(batch, ctx);
}

async function paidCard(m: Merchant, amount: number) {
	const p = await createPayment(m.sk, { amount, payment_method_types: ["card"] });
	const opened = await call("POST", `/checkout/${p.id}/card`, { body: {} });
	const { client_secret } = await json<{ client_secret: string }>(opened);
	const intentId = client_secret.slice(0, client_secret.indexOf("_secret_"));
	await stripe.paymentIntents.confirm(intentId, { payment_method: "pm_card_visa" });
	await deliverAll(intentId);
	return p;
}

/** A $25.00 SOL payment paid in full and converted to the merchant's dollars. */
async function paidAndConvertedSol(m: Merchant) {
	const p = (await createPayment(m.sk, {
		payment_method_types: ["solana"],
		solana: { token: "SOL" },
	})) as SolanaPayment;
	const sent = await recordConversionMessages(p.id);
	await payTransferRequestInFull(p);
	await consume("conversions", sent);
	return json<SolanaPayment>(await call("GET", `/v1/payments/${p.id}`, { key: m.sk }));
}

describe("operator summary", () => {
	it("sums every merchant's payments, refunds, gateway fees and conversion spread, as JSON and CSV", async () => {
		const shop = await createMerchant("Shop, Ltd");
		const cafe = await createMerchant("=Cafe");
		await call("POST", `/admin/v1/merchants/${cafe.merchant.id}`, {
			key: ADMIN_TOKEN,
			body: { settings: { settlement_currency: "usd" } },
		});
		const card = await paidCard(shop, 10_000);
		await paidCard(shop, 2_000);
		await createPayment(shop.sk, { amount: 500, currency: "eur", payment_method_types: ["card"] });
		const refundRes = await call("POST", "/v1/refunds", {
			key: shop.sk,
			body: { payment: card.id, amount: 4_000 },
		});
		const refund = await json<RefundJson>(refundRes);
		await consume("refunds", [{ kind: "refund", refund_id: refund.id }]);
		const sol = await paidAndConvertedSol(cafe);
		const solFee = sol.solana.quote.fee;
		await createPayment(cafe.skLive, { amount: 100 });

		const res = await admin("GET", `/admin/v1/reports/summary?from=${today()}&to=${today()}`);
		expect(res.status).toBe(200);
		const body = await json<{ object: string; from: string; to: string; data: unknown[] }>(res);
		const ordered = [shop.merchant.id, cafe.merchant.id].sort();
		const expected: Record<string, unknown[]> = {
			[shop.merchant.id]: [
				{
					merchant: shop.merchant.id,
					merchant_name: "Shop, Ltd",
					livemode: false,
					payments: 3,
					succeeded: 2,
					volume: { usd: "12000" },
					refunds: 1,
					refunded: { usd: "4000" },
					// Card fees are Stripe's, not the gateway's.
					fees: {},
					conversion_spread: {},
				},
			],
			[cafe.merchant.id]: [
				{
					merchant: cafe.merchant.id,
					merchant_name: "=Cafe",
					livemode: false,
					payments: 1,
					succeeded: 1,
					volume: { usd: "2500" },
					refunds: 0,
					refunded: {},
					fees: { sol: solFee },
					conversion_spread: { usd: "7" },
				},
				{
					merchant: cafe.merchant.id,
					merchant_name: "=Cafe",
					livemode: true,
					payments: 1,
					succeeded: 0,
					volume: {},
					refunds: 0,
					refunded: {},
					fees: {},
					conversion_spread: {},
				},
			],
		};
		expect(body).toEqual({
			object: "operator_summary",
			from: today(),
			to: today(),
			data: ordered.flatMap((id) => expected[id] ?? []),
		});

		const csvRes = await admin(
			"GET",
			`/admin/v1/reports/summary?from=${today()}&to=${today()}&format=csv`,
		);
		expect(csvRes.status).toBe(200);
		expect(csvRes.headers.get("Content-Type")).toBe("text/csv; charset=utf-8");
		expect(csvRes.headers.get("Content-Disposition")).toBe(
			`attachment; filename="summary-${today()}-${today()}.csv"`,
		);
		const lines = (await csvRes.text()).split("\r\n");
		expect(lines[0]).toBe(
			"merchant,merchant_name,mode,currency,payments,succeeded,volume,volume_decimal,refunds,refunded,refunded_decimal,fees,fees_decimal,conversion_spread,conversion_spread_decimal",
		);
		const feeDecimal = `0.${solFee.padStart(9, "0")}`;
		const rows: Record<string, string[]> = {
			[shop.merchant.id]: [
				`${shop.merchant.id},"Shop, Ltd",test,eur,1,0,0,0.00,0,0,0.00,0,0.00,0,0.00`,
				`${shop.merchant.id},"Shop, Ltd",test,usd,2,2,12000,120.00,1,4000,40.00,0,0.00,0,0.00`,
			],
			[cafe.merchant.id]: [
				`${cafe.merchant.id},'=Cafe,test,sol,0,0,0,0.000000000,0,0,0.000000000,${solFee},${feeDecimal},0,0.000000000`,
				`${cafe.merchant.id},'=Cafe,test,usd,1,1,2500,25.00,0,0,0.00,0,0.00,7,0.07`,
				`${cafe.merchant.id},'=Cafe,live,usd,1,0,0,0.00,0,0,0.00,0,0.00,0,0.00`,
			],
		};
		expect(lines.slice(1)).toEqual([...ordered.flatMap((id) => rows[id] ?? []), ""]);
	});

	it("needs the admin token and a valid period", async () => {
		const m = await createMerchant();
		await expectApiError(
			await call("GET", `/admin/v1/reports/summary?from=${today()}&to=${today()}`, { key: m.sk }),
			"api_key_invalid",
		);
		await expectApiError(
			await admin("GET", `/admin/v1/reports/summary?from=2026-03-02&to=2026-03-01`),
			"parameter_invalid",
			"to",
		);
		await expectApiError(
			await admin("GET", `/admin/v1/reports/summary?from=2026-02-30&to=2026-03-01`),
			"parameter_invalid",
			"from",
		);
		await expectApiError(
			await admin("GET", `/admin/v1/reports/summary?to=${today()}`),
			"parameter_missing",
			"from",
		);
		await expectApiError(
			await admin("GET", `/admin/v1/reports/summary?from=${today()}&to=${today()}&format=xml`),
			"parameter_invalid",
			"format",
		);
	});
});
