import {
	createExecutionContext,
	createMessageBatch,
	getQueueResult,
	runDurableObjectAlarm,
	runInDurableObject,
} from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { createKeyPairSignerFromPrivateKeyBytes, type KeyPairSigner } from "@solana/kit";
import { beforeAll, describe, expect, it } from "vitest";
import type { SenderStatus } from "../../durable-objects/refund-object";
import type { SolanaPaymentDetails } from "../../src/domain/payment";
import type { RefundJson } from "../../src/domain/refund";
import { parseTransferRequest } from "../../src/domain/solana-pay";
import worker from "../../src/index";
import {
	call,
	createMerchant,
	createPayment,
	expectApiError,
	json,
	type PaymentJson,
} from "./helpers/api";
import { accountBalance, expectLedgerBalanced, tokenBalance as usdc } from "./helpers/ledger";
import { eventTypes } from "./helpers/objects";
import {
	advanceSlots,
	detect,
	fundedPayer,
	rpc,
	sendTransfer,
	TOKEN_PROGRAM,
	USDC_MINT,
} from "./helpers/solana";
import { deliverAll, stripe } from "./helpers/stripe";

type Payment = PaymentJson & {
	solana: SolanaPaymentDetails;
	risk: { score: number; decision: string; reasons: { rule: string; detail: string }[] } | null;
	failure_code: string | null;
};

const USDC = { address: USDC_MINT, decimals: 6, program: TOKEN_PROGRAM };

async function putRules(key: string, body: unknown): Promise<Response> {
	return call("PUT", "/v1/risk_rules", { key, body });
}

async function setRules(key: string, body: unknown): Promise<Record<string, unknown>> {
	const res = await putRules(key, body);
	expect(res.status, await res.clone().text()).toBe(200);
	return json(res);
}

async function getPayment(key: string, id: string): Promise<Payment> {
	const res = await call("GET", `/v1/payments/${id}`, { key });
	expect(res.status).toBe(200);
	return json<Payment>(res);
}

function create(
	key: string,
	body: Record<string, unknown> = {},
	headers: Record<string, string> = {},
) {
	return call("POST", "/v1/payments", {
		key,
		headers,
		body: { amount: 2500, currency: "usd", ...body },
	});
}

/** A wallet on the sample sanctions list (data/sanctioned-addresses.json, seed 1). */
async function sanctionedWallet(): Promise<KeyPairSigner> {
	const seed = new Uint8Array(32);
	seed[0] = 0x5a;
	seed[31] = 1;
	const signer = await createKeyPairSignerFromPrivateKeyBytes(seed);
	await rpc("requestAirdrop", [signer.address, 10_000_000_000]);
	await rpc("simulator_mintTokens", [signer.address, USDC_MINT, "100000000"]);
	await advanceSlots(2);
	return signer;
}

/** Pays a USDC payment in full from `payer` and lets its object look at the chain. */
async function pay(p: Payment, payer: KeyPairSigner): Promise<void> {
	const request = parseTransferRequest(p.solana.solana_pay_url);
	await sendTransfer({
		payer,
		recipient: request.recipient,
		amount: BigInt(p.solana.amount),
		mint: USDC,
		references: request.references,
		memo: [p.id],
	});
	await advanceSlots(1);
	await detect(p.id);
}

async function usdcPayment(key: string): Promise<Payment> {
	return (await createPayment(key, {
		payment_method_types: ["solana"],
		solana: { token: "USDC" },
	})) as Payment;
}

async function auditActions(merchantId: string): Promise<string[]> {
	const { results } = await env.DB.prepare(
		"SELECT action FROM audit_log WHERE merchant_id = ? ORDER BY id",
	)
		.bind(merchantId)
		.all<{ action: string }>();
	return results.map((r) => r.action);
}

/** Refunds the payment's held funds end to end: the consumer, then the sender until final. */
async function refundHeld(key: string, paymentId: string): Promise<RefundJson> {
	const res = await call("POST", "/v1/refunds", {
		key,
		body: { payment: paymentId, funds: "held" },
	});
	expect(res.status, await res.clone().text()).toBe(200);
	const refund = await json<RefundJson>(res);
	const batch = createMessageBatch("refunds", [
		{
			id: `risk-${refund.id}`,
			timestamp: new Date(),
			attempts: 1,
			body: { kind: "refund", refund_id: refund.id },
		},
	]);
	const ctx = createExecutionContext();
	await worker.queue(batch, env, ctx);
	await getQueueResult(batch, ctx);
	const ns = env.REFUNDS as NonNullable<typeof env.REFUNDS>;
	const stub = ns.get(ns.idFromName(refund.id));
	for (let i = 0; i < 6; i++) {
		await advanceSlots(3);
		await runInDurableObject(stub, (_i, state) => {
			state.storage.sql.exec("UPDATE jobs SET due = 0");
			return state.storage.setAlarm(Date.now() + 60 * 60 * 1000);
		});
		await runDurableObjectAlarm(stub);
		const status: SenderStatus = await stub.status();
		if (status.state !== "sending") break;
	}
	const done = await call("GET", `/v1/refunds/${refund.id}`, { key });
	return json<RefundJson>(done);
}

describe("risk rules API", () => {
	it("starts empty, round-trips a replacement (normalised), and records an event and an audit entry", async () => {
		const m = await createMerchant();
		const empty = await json(await call("GET", "/v1/risk_rules", { key: m.sk }));
		expect(empty).toEqual({
			object: "risk_rules",
			livemode: false,
			review_at: 50,
			block_at: 90,
			rules: [],
			updated: null,
		});
		const body = {
			review_at: 40,
			rules: [
				{ id: "cap", kind: "amount", currency: "USD", max: 100_000 },
				{ id: "ips", kind: "velocity", key: "ip", window_seconds: 3600, max: 10, action: "review" },
				{ id: "bad", kind: "block_list", field: "ip", values: ["203.0.113.0/24", "2001:db8::/32"] },
				{ id: "vip", kind: "allow_list", field: "email", values: ["vip@shop.example"] },
				{ id: "new", kind: "first_seen_wallet" },
			],
		};
		const put = await setRules(m.sk, body);
		expect(put).toMatchObject({ object: "risk_rules", review_at: 40, block_at: 90 });
		expect((put.rules as { currency?: string }[])[0]?.currency).toBe("usd");
		expect(put.updated).toBeTypeOf("number");
		expect(await json(await call("GET", "/v1/risk_rules", { key: m.sk }))).toEqual(put);
		expect(await eventTypes(m.merchant.id)).toContain("risk_rules.updated");
		expect(await auditActions(m.merchant.id)).toContain("risk_rules.updated");
	});

	it("keeps each merchant's and each mode's rules apart", async () => {
		const a = await createMerchant();
		const b = await createMerchant();
		await setRules(a.sk, { rules: [{ id: "cap", kind: "amount", max: 1 }] });
		expect((await json(await call("GET", "/v1/risk_rules", { key: b.sk }))).rules).toEqual([]);
		const live = await json(await call("GET", "/v1/risk_rules", { key: a.skLive }));
		expect(live).toMatchObject({ livemode: true, rules: [] });
		// B's payments are untouched by A's rule.
		expect((await create(b.sk)).status).toBe(200);
		await expectApiError(await create(a.sk), "payment_blocked");
	});

	it.each([
		[{ rules: [{ id: "x", kind: "amount" }] }, "rules[0][max]"],
		[
			{ rules: [{ id: "x", kind: "block_list", field: "ip", values: ["300.1.1.1"] }] },
			"rules[0][values][0]",
		],
		[{ review_at: 95, block_at: 90 }, "review_at"],
		[
			{ rules: [{ id: "x", kind: "velocity", key: "phone", window_seconds: 60, max: 1 }] },
			"rules[0]",
		],
	])("refuses %j, naming %s", async (body, param) => {
		const m = await createMerchant();
		await expectApiError(await putRules(m.sk, body), "parameter_invalid", param);
		expect((await json(await call("GET", "/v1/risk_rules", { key: m.sk }))).rules).toEqual([]);
	});

	it("needs a secret key", async () => {
		const m = await createMerchant();
		await expectApiError(await call("GET", "/v1/risk_rules", { key: m.pk }), "secret_key_required");
	});
});

describe("risk at payment creation", () => {
	it("records an allow with score 0 on every payment, and passes the decision to routing", async () => {
		const m = await createMerchant();
		const p = (await createPayment(m.sk)) as Payment;
		expect(p.risk).toEqual({ score: 0, decision: "allow", reasons: [] });
	});

	it("refuses a payment over an amount limit with payment_blocked (402), naming the rule", async () => {
		const m = await createMerchant();
		await setRules(m.sk, { rules: [{ id: "cap", kind: "amount", max: 2_000 }] });
		const res = await create(m.sk);
		const error = await expectApiError(res, "payment_blocked");
		expect(res.status).toBe(402);
		expect(error.message).toContain("cap (amount 2500 usd is above 2000)");
		expect((await create(m.sk, { amount: 2_000 })).status).toBe(200);
	});

	it("marks a payment for review without refusing it", async () => {
		const m = await createMerchant();
		await setRules(m.sk, { rules: [{ id: "big", kind: "amount", min: 5_000, action: "review" }] });
		const p = await json<Payment>(await create(m.sk));
		expect(p.risk).toMatchObject({ decision: "review", score: 50, reasons: [{ rule: "big" }] });
	});

	it("blocks by IP range (v4 and v6) from CF-Connecting-IP", async () => {
		const m = await createMerchant();
		await setRules(m.sk, {
			rules: [
				{ id: "bad", kind: "block_list", field: "ip", values: ["203.0.113.0/24", "2001:db8::/32"] },
			],
		});
		await expectApiError(
			await create(m.sk, {}, { "CF-Connecting-IP": "203.0.113.7" }),
			"payment_blocked",
		);
		await expectApiError(
			await create(m.sk, {}, { "CF-Connecting-IP": "2001:db8:5::1" }),
			"payment_blocked",
		);
		expect((await create(m.sk, {}, { "CF-Connecting-IP": "198.51.100.1" })).status).toBe(200);
	});

	it("blocks by country from request.cf.country", async () => {
		const m = await createMerchant();
		await setRules(m.sk, {
			rules: [{ id: "kp", kind: "block_list", field: "country", values: ["KP"] }],
		});
		const send = (country: string) =>
			exports.default.fetch(
				new Request("http://gateway.test/v1/payments", {
					method: "POST",
					headers: { Authorization: `Bearer ${m.sk}`, "Content-Type": "application/json" },
					body: JSON.stringify({ amount: 2500, currency: "usd" }),
					cf: { country },
				} as RequestInit),
			);
		await expectApiError(await send("KP"), "payment_blocked");
		expect((await send("FR")).status).toBe(200);
	});

	it("blocks by the customer's email domain", async () => {
		const m = await createMerchant();
		const customer = await json<{ id: string }>(
			await call("POST", "/v1/customers", { key: m.sk, body: { email: "someone@spam.example" } }),
		);
		await setRules(m.sk, {
			rules: [{ id: "spam", kind: "block_list", field: "email", values: ["spam.example"] }],
		});
		await expectApiError(await create(m.sk, { customer: customer.id }), "payment_blocked");
		expect((await create(m.sk)).status).toBe(200);
	});

	it("declines a payment link visit the rules block, with a page for the payer", async () => {
		const m = await createMerchant();
		const link = await json<{ id: string }>(
			await call("POST", "/v1/payment_links", {
				key: m.sk,
				body: { amount: 2500, currency: "usd" },
			}),
		);
		await setRules(m.sk, {
			rules: [{ id: "visits", kind: "velocity", key: "ip", window_seconds: 600, max: 1 }],
		});
		const visit = () =>
			exports.default.fetch(
				new Request(`http://gateway.test/l/${link.id}`, {
					headers: { "CF-Connecting-IP": "198.51.100.23" },
					redirect: "manual",
				}),
			);
		expect((await visit()).status).toBe(303);
		const declined = await visit();
		expect(declined.status).toBe(402);
		expect(await declined.text()).toContain("This payment was declined");
	});

	it("counts velocity exactly under concurrency: N payments at once with a limit of N-2 refuse exactly 2", async () => {
		const m = await createMerchant();
		const n = 8;
		await setRules(m.sk, {
			rules: [{ id: "ip", kind: "velocity", key: "ip", window_seconds: 3600, max: n - 2 }],
		});
		const results = await Promise.all(
			Array.from({ length: n }, () => create(m.sk, {}, { "CF-Connecting-IP": "192.0.2.44" })),
		);
		const statuses = results.map((r) => r.status).sort();
		expect(statuses.filter((s) => s === 200)).toHaveLength(n - 2);
		expect(statuses.filter((s) => s === 402)).toHaveLength(2);
		// Another IP has its own counter.
		expect((await create(m.sk, {}, { "CF-Connecting-IP": "192.0.2.45" })).status).toBe(200);
	});
});

describe("risk when funds arrive", () => {
	beforeAll(async () => {
		await rpc("requestAirdrop", [env.SOLANA_SETTLEMENT_WALLET, 100_000_000_000]);
		await advanceSlots(1);
	});

	it("holds a sanctioned payer's funds (failed, risk_blocked), refundable in full through the refunds API", async () => {
		const m = await createMerchant();
		const p = await usdcPayment(m.sk);
		const payer = await sanctionedWallet();
		const before = await usdc(payer.address);
		await pay(p, payer);
		const after = await getPayment(m.sk, p.id);
		expect(after).toMatchObject({ status: "failed", failure_code: "risk_blocked" });
		expect(after.risk).toMatchObject({
			decision: "block",
			reasons: [{ rule: "sanctioned_address" }],
		});
		const holding = `test:payment:${p.id}:${USDC_MINT}`;
		expect(await accountBalance(holding)).toBe(BigInt(p.solana.amount));
		expect(await accountBalance(`test:merchant:${m.merchant.id}:${USDC_MINT}:available`)).toBe(0n);
		const refund = await refundHeld(m.sk, p.id);
		expect(refund).toMatchObject({ status: "succeeded", funds: "held" });
		expect(await usdc(payer.address)).toBe(before);
		expect(await accountBalance(holding)).toBe(0n);
		await expectLedgerBalanced();
	});

	it("puts a first-seen wallet under review; approval settles it like a normal success", async () => {
		const m = await createMerchant();
		await setRules(m.sk, { rules: [{ id: "new", kind: "first_seen_wallet", action: "review" }] });
		const p = await usdcPayment(m.sk);
		const payer = await fundedPayer([{ mint: USDC_MINT, amount: 100_000_000n }]);
		await pay(p, payer);
		const review = await getPayment(m.sk, p.id);
		expect(review.status).toBe("requires_review");
		expect(review.risk).toMatchObject({ decision: "review", reasons: [{ rule: "new" }] });
		const checkout = await call("GET", `/checkout/${p.id}/status`);
		if (checkout.status === 200) {
			expect(JSON.stringify(await checkout.json())).toContain("requires_review");
		}
		const merchantUsdc = `test:merchant:${m.merchant.id}:${USDC_MINT}:available`;
		expect(await accountBalance(merchantUsdc)).toBe(0n);

		const approved = await call("POST", `/v1/payments/${p.id}/approve`, { key: m.sk });
		expect(approved.status, await approved.clone().text()).toBe(200);
		expect(await json<Payment>(approved)).toMatchObject({ status: "succeeded" });
		const fee = BigInt(p.solana.quote.fee);
		expect(await accountBalance(merchantUsdc)).toBe(BigInt(p.solana.amount) - fee);
		expect(await accountBalance(`test:payment:${p.id}:${USDC_MINT}`)).toBe(0n);
		expect(await eventTypes(p.id)).toEqual(
			expect.arrayContaining(["payment.requires_review", "payment.succeeded"]),
		);
		expect(await auditActions(m.merchant.id)).toContain("payment.approved");
		await expectLedgerBalanced();

		// The wallet is known now: its next payment goes straight through.
		const second = await usdcPayment(m.sk);
		await pay(second, payer);
		expect((await getPayment(m.sk, second.id)).status).toBe("succeeded");
		// Approving twice, or a payment not under review, is refused.
		await expectApiError(
			await call("POST", `/v1/payments/${p.id}/approve`, { key: m.sk }),
			"payment_unexpected_state",
		);
	});

	it("rejection fails the payment (risk_rejected) and holds the funds for refund", async () => {
		const m = await createMerchant();
		await setRules(m.sk, { rules: [{ id: "new", kind: "first_seen_wallet", action: "review" }] });
		const p = await usdcPayment(m.sk);
		const payer = await fundedPayer([{ mint: USDC_MINT, amount: 100_000_000n }]);
		const before = await usdc(payer.address);
		await pay(p, payer);
		expect((await getPayment(m.sk, p.id)).status).toBe("requires_review");
		const rejected = await call("POST", `/v1/payments/${p.id}/reject`, { key: m.sk });
		expect(rejected.status, await rejected.clone().text()).toBe(200);
		expect(await json<Payment>(rejected)).toMatchObject({
			status: "failed",
			failure_code: "risk_rejected",
		});
		expect(await auditActions(m.merchant.id)).toContain("payment.rejected");
		expect(await accountBalance(`test:payment:${p.id}:${USDC_MINT}`)).toBe(BigInt(p.solana.amount));
		const refund = await refundHeld(m.sk, p.id);
		expect(refund.status).toBe("succeeded");
		expect(await usdc(payer.address)).toBe(before);
		await expectLedgerBalanced();
	});

	it("lets a first-seen wallet through with only a score when the rule just scores", async () => {
		const m = await createMerchant();
		await setRules(m.sk, { rules: [{ id: "new", kind: "first_seen_wallet" }] });
		const p = await usdcPayment(m.sk);
		await pay(p, await fundedPayer([{ mint: USDC_MINT, amount: 100_000_000n }]));
		const after = await getPayment(m.sk, p.id);
		expect(after.status).toBe("succeeded");
		expect(after.risk).toMatchObject({ score: 25, decision: "allow", reasons: [{ rule: "new" }] });
	});

	it("refuses approve and reject of an unknown or other merchant's payment as not found", async () => {
		const a = await createMerchant();
		const b = await createMerchant();
		const p = await createPayment(a.sk);
		await expectApiError(
			await call("POST", `/v1/payments/${p.id}/approve`, { key: b.sk }),
			"resource_missing",
			"id",
		);
		await expectApiError(
			await call("POST", `/v1/payments/${p.id}/reject`, { key: a.sk }),
			"payment_unexpected_state",
		);
	});

	it("holds a card charge the rules block by fingerprint velocity: failed, booked as held, refundable", async () => {
		const m = await createMerchant();
		await setRules(m.sk, {
			rules: [
				{ id: "card", kind: "velocity", key: "card_fingerprint", window_seconds: 3600, max: 1 },
			],
		});
		const payByCard = async () => {
			const p = (await createPayment(m.sk, { payment_method_types: ["card"] })) as Payment;
			const opened = await call("POST", `/checkout/${p.id}/card`, { body: {} });
			const { client_secret } = await json<{ client_secret: string }>(opened);
			const intentId = client_secret.slice(0, client_secret.indexOf("_secret_"));
			await stripe.paymentIntents.confirm(intentId, { payment_method: "pm_card_visa" });
			await deliverAll(intentId);
			return getPayment(m.sk, p.id);
		};
		const first = await payByCard();
		expect(first.status).toBe("succeeded");
		const second = await payByCard();
		expect(second).toMatchObject({ status: "failed", failure_code: "risk_blocked" });
		expect(second.risk).toMatchObject({ decision: "block", reasons: [{ rule: "card" }] });
		// Booked as a charge that arrived after the payment closed: held (less Stripe's fee), not the merchant's.
		const fee = BigInt((second.card as { fee: number }).fee);
		expect(await accountBalance(`test:payment:${second.id}:usd`)).toBe(2500n - fee);
		const firstFee = BigInt((first.card as { fee: number }).fee);
		expect(await accountBalance(`test:merchant:${m.merchant.id}:usd:pending`)).toBe(
			2500n - firstFee,
		);

		const res = await call("POST", "/v1/refunds", { key: m.sk, body: { payment: second.id } });
		expect(res.status, await res.clone().text()).toBe(200);
		const refund = await json<RefundJson>(res);
		expect(refund).toMatchObject({ funds: "held", amount: 2500, processor: "stripe" });
		const batch = createMessageBatch("refunds", [
			{
				id: `risk-${refund.id}`,
				timestamp: new Date(),
				attempts: 1,
				body: { kind: "refund", refund_id: refund.id },
			},
		]);
		const ctx = createExecutionContext();
		await worker.queue(batch, env, ctx);
		await getQueueResult(batch, ctx);
		const done = await json<RefundJson>(
			await call("GET", `/v1/refunds/${refund.id}`, { key: m.sk }),
		);
		expect(done.status).toBe("succeeded");
		await expectLedgerBalanced();
	});
});
