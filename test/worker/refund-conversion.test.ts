import {
	createExecutionContext,
	createMessageBatch,
	getQueueResult,
	waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { merchantBalance } from "../../src/db/ledger";
import type { SolanaPaymentDetails } from "../../src/domain/payment";
import type { RefundJson } from "../../src/domain/refund";
import worker from "../../src/index";
import type { ConversionJson } from "../../src/services/conversion-json";
import {
	ADMIN_TOKEN,
	call,
	createMerchant,
	createPayment,
	expectApiError,
	json,
	type ListJson,
	type PaymentJson,
} from "./helpers/api";
import { accountBalance, expectLedgerBalanced } from "./helpers/ledger";
import { eventTypes, recordConversionMessages } from "./helpers/objects";
import { finalize } from "./helpers/refunds";
import { advanceSlots, payTransferRequestInFull, rpc } from "./helpers/solana";

// A merchant settling in USD is paid $25.00 in SOL (the sandbox's $150): the conversion moves
// the SOL it was credited into USD, and a refund of the payment is taken from the USD balance,
// the payer receiving SOL at the current rate, whichever of the conversion and the refund
// the gateway hears of first.

type SolanaPayment = PaymentJson & { solana: SolanaPaymentDetails; amount_refunded: number };
type Merchant = Awaited<ReturnType<typeof createMerchant>>;

const now = () => Math.floor(Date.now() / 1000);

async function merchantWith(settings: Record<string, unknown>): Promise<Merchant> {
	const m = await createMerchant();
	const res = await call("POST", `/admin/v1/merchants/${m.merchant.id}`, {
		key: ADMIN_TOKEN,
		body: { settings },
	});
	expect(res.status, await res.clone().text()).toBe(200);
	return m;
}

/** A SOL payment of $25.00, paid in full on the local chain; its conversion messages held back. */
async function paidSolPayment(m: Merchant) {
	const p = (await createPayment(m.sk, {
		payment_method_types: ["solana"],
		solana: { token: "SOL" },
	})) as SolanaPayment;
	const messages = await recordConversionMessages(p.id);
	await payTransferRequestInFull(p);
	const paid = await json<SolanaPayment>(await call("GET", `/v1/payments/${p.id}`, { key: m.sk }));
	expect(paid.status).toBe("succeeded");
	expect(messages).toEqual([{ kind: "payment_succeeded", payment_id: p.id }]);
	return { p: paid, messages };
}

let messageSeq = 0;

/** Hands messages to the gateway's queue handler, as the named queue would. */
async function deliver(queue: "conversions" | "refunds", bodies: unknown[]) {
	const batch = createMessageBatch(
		queue,
		bodies.map((body) => ({
			id: `rc-msg-${++messageSeq}`,
			timestamp: new Date(),
			attempts: 1,
			body,
		})),
	);
	const ctx = createExecutionContext();
	await worker.queue(batch, env, ctx);
	return getQueueResult(batch, ctx);
}

async function lamports(owner: string): Promise<bigint> {
	return BigInt(
		(await rpc<{ value: number }>("getBalance", [owner, { commitment: "confirmed" }])).value,
	);
}

async function conversionsOf(m: Merchant, paymentId: string): Promise<ConversionJson[]> {
	const res = await call("GET", `/v1/conversions?payment=${paymentId}`, { key: m.sk });
	return (await json<ListJson<ConversionJson>>(res)).data;
}

async function postRefund(m: Merchant, body: Record<string, unknown>): Promise<RefundJson> {
	const res = await call("POST", "/v1/refunds", { key: m.sk, body });
	expect(res.status, await res.clone().text()).toBe(200);
	return json<RefundJson>(res);
}

type Order = "conversion first" | "refund first" | "racing";

/**
 * Pays, converts and refunds in full in the given order, sends the refund on chain and returns
 * what it left: the refund, the payer's gain, and the merchant's balances.
 */
async function refundInFull(order: Order) {
	const m = await merchantWith({ settlement_currency: "usd" });
	const { p, messages } = await paidSolPayment(m);
	const body = { payment: p.id, reason: "requested_by_customer" };
	let created: RefundJson;
	if (order === "conversion first") {
		expect((await deliver("conversions", messages)).explicitAcks).toHaveLength(1);
		created = await postRefund(m, body);
	} else if (order === "refund first") {
		created = await postRefund(m, body);
		// The refund ran the conversion; the queue's message then finds it done.
		expect((await deliver("conversions", messages)).explicitAcks).toHaveLength(1);
	} else {
		const [delivered, refund] = await Promise.all([
			deliver("conversions", messages),
			postRefund(m, body),
		]);
		expect(delivered.explicitAcks).toHaveLength(1);
		created = refund;
	}
	const conversions = await conversionsOf(m, p.id);
	expect(conversions.map((c) => c.status)).toEqual(["completed"]);
	expect(await eventTypes(conversions[0]?.id as string)).toEqual(["conversion.completed"]);
	expect(created.conversion?.payment_conversion).toBe(conversions[0]?.id);

	const payer = p.solana.payer as string;
	const before = await lamports(payer);
	await deliver("refunds", [{ kind: "refund", refund_id: created.id }]);
	expect((await finalize(created.id)).state).toBe("finalized");
	const done = await json<RefundJson>(
		await call("GET", `/v1/refunds/${created.id}`, { key: m.sk }),
	);
	expect(done.status).toBe("succeeded");
	const after = await json<SolanaPayment>(await call("GET", `/v1/payments/${p.id}`, { key: m.sk }));
	expect(after).toMatchObject({ amount_refunded: 2_500, refund_status: "refunded" });
	await expectLedgerBalanced();
	return {
		m,
		p,
		refund: done,
		received: (await lamports(payer)) - before,
		balance: await merchantBalance(env.DB, m.merchant.id, false),
	};
}

// Paid: 166 666 667 lamports for the price + 833 334 fee = 167 500 001, worth $25.125 at the
// quote. Refunded at $150 now: that worth is 167 500 000.0007 lamports, rounded up for the payer;
// worth 2512.500015 cents, 2513 debited; spread 0.3 % = 7.5 → 7.
const QUOTED = {
	settlement_currency: "usd",
	settlement_token: null,
	debit: 2_513,
	spread_bps: 30,
	spread: 7,
	tokens: "167500001",
	rate: "150",
	rate_source: "pyth",
	rate_published: expect.any(Number),
};
// Converted: 2493 (2500 less the 7-cent spread). Refunded: 2513 + 7. Network fee: 5000 lamports.
const FINAL_AVAILABLE = [
	{ currency: "sol", amount: -5_000n },
	{ currency: "usd", amount: 2_493n - 2_520n },
];

beforeAll(async () => {
	// The settlement wallet pays the refunds (and their network fees).
	await rpc("requestAirdrop", [env.SOLANA_SETTLEMENT_WALLET, 100_000_000_000]);
	await advanceSlots(1);
});

beforeEach(async () => {
	await env.DB.prepare("DELETE FROM rates").run();
});

describe("refunding a converted payment", () => {
	const results = new Map<Order, Awaited<ReturnType<typeof refundInFull>>>();

	for (const order of ["conversion first", "refund first", "racing"] as const) {
		it(`takes the price from the USD balance and returns SOL at the current rate (${order})`, async () => {
			const r = await refundInFull(order);
			results.set(order, r);
			expect(r.refund).toMatchObject({
				status: "succeeded",
				amount: 2_500,
				currency: "usd",
				funds: "received",
				processor: "solana",
				conversion: QUOTED,
				solana: { amount: "167500001", network_fee: "5000" },
				fees: { paid_by: "merchant", network_fee: "5000" },
			});
			// The payer receives the quoted tokens on chain: here all they paid.
			expect(r.received).toBe(167_500_001n);
			expect(r.balance.available).toEqual(FINAL_AVAILABLE);
			// FX clearing sold 166 666 667 lamports for 2500 cents and bought 167 500 001 back for 2513.
			const id = r.refund.id;
			const { results: postings } = await env.DB.prepare(
				"SELECT account, currency, CAST(amount AS TEXT) AS amount FROM ledger_postings WHERE transfer_id = ? ORDER BY seq",
			)
				.bind(`${id}:refund`)
				.all();
			expect(postings).toEqual([
				{
					account: `test:merchant:${r.m.merchant.id}:usd:available`,
					currency: "usd",
					amount: "-2520",
				},
				{ account: "test:fx:clearing:usd", currency: "usd", amount: "2513" },
				{ account: "test:gateway:fees:usd", currency: "usd", amount: "7" },
				{ account: "test:fx:clearing:sol", currency: "sol", amount: "-167500001" },
				{ account: "test:settlement:solana:sol", currency: "sol", amount: "167500001" },
			]);
			expect(await accountBalance(`test:payment:${r.p.id}:sol`)).toBe(0n);
		});
	}

	it("ends with the same balances whichever came first", () => {
		expect(results.size).toBe(3);
		const [first, ...rest] = [...results.values()].map((r) => r.balance);
		for (const b of rest) expect(b).toEqual(first);
	});

	it("returns more SOL when SOL has fallen, the merchant paying the same dollars, in parts", async () => {
		const m = await merchantWith({ settlement_currency: "usd" });
		const { p, messages } = await paidSolPayment(m);
		await deliver("conversions", messages);
		// SOL at $120 now.
		await env.DB.prepare(
			`INSERT OR REPLACE INTO rates (pair, source, base, quote, rate_numerator, rate_denominator, publish_time, fetched_at)
			 VALUES ('SOL/USD', 'pyth', 'SOL', 'USD', '12000000000', '100000000', ?, ?)`,
		)
			.bind(now(), now())
			.run();
		const part = await postRefund(m, { payment: p.id, amount: 1_000 });
		// 1005.000004 cents at $120: 83 750 000.03 → 83 750 001 lamports, worth 1005.000012 → 1006.
		expect(part.conversion).toMatchObject({
			tokens: "83750001",
			debit: 1_006,
			spread: 3,
			rate: "120",
		});
		expect(part.solana?.amount).toBe("83750001");
		const payer = p.solana.payer as string;
		const before = await lamports(payer);
		await deliver("refunds", [{ kind: "refund", refund_id: part.id }]);
		expect((await finalize(part.id)).state).toBe("finalized");
		expect((await lamports(payer)) - before).toBe(83_750_001n);
		expect((await merchantBalance(env.DB, m.merchant.id, false)).available).toEqual([
			{ currency: "sol", amount: -5_000n },
			{ currency: "usd", amount: 2_493n - 1_009n },
		]);
		await expectLedgerBalanced();
	});

	it("refuses with a 503, creating nothing, when the current rate cannot be had", async () => {
		const m = await merchantWith({ settlement_currency: "usd" });
		const { p } = await paidSolPayment(m);
		// A ten-minute-old price in the cache and the price source unreachable.
		await env.DB.prepare(
			`INSERT OR REPLACE INTO rates (pair, source, base, quote, rate_numerator, rate_denominator, publish_time, fetched_at)
			 VALUES ('SOL/USD', 'pyth', 'SOL', 'USD', '15000000000', '100000000', ?, ?)`,
		)
			.bind(now() - 600, now() - 600)
			.run();
		const down = {
			...env,
			PYTH_HERMES_URL: `${env.SANDBOX_CONTROL_URL}/hermes-down`,
			FX_REFERENCE_URL: `${env.SANDBOX_CONTROL_URL}/fx-down`,
		};
		const ctx = createExecutionContext();
		const res = await worker.fetch(
			new Request("http://gateway.test/v1/refunds", {
				method: "POST",
				headers: { Authorization: `Bearer ${m.sk}`, "Content-Type": "application/json" },
				body: JSON.stringify({ payment: p.id }),
			}),
			down,
			ctx,
		);
		await waitOnExecutionContext(ctx);
		const error = await expectApiError(res, "service_unavailable");
		expect(error.message).toMatch(/^No current SOL\/usd rate: .*60\d s old.*\. Retry shortly\.$/);
		const listed = await json<ListJson<RefundJson>>(
			await call("GET", `/v1/refunds?payment=${p.id}`, { key: m.sk }),
		);
		expect(listed.data).toEqual([]);
		// The conversion (locked: the quote's own rate) ran; the refund can be retried.
		expect((await conversionsOf(m, p.id)).map((c) => c.status)).toEqual(["completed"]);
		await expectLedgerBalanced();
	});

	it("converts only what a token refund left when the merchant chose to convert afterwards", async () => {
		const m = await merchantWith({});
		const { p, messages } = await paidSolPayment(m);
		const r = await postRefund(m, { payment: p.id, amount: 1_000 });
		expect(r.conversion).toBeNull();
		const set = await call("POST", "/v1/settings", {
			key: m.sk,
			body: { settlement_currency: "usd" },
		});
		expect(set.status).toBe(200);
		// The success's conversion message arrives only now.
		await deliver("conversions", messages);
		const [conversion] = await conversionsOf(m, p.id);
		const credited = BigInt(p.solana.quote.amount_before_fee);
		expect(conversion?.from.amount).toBe((credited - BigInt(r.solana?.amount ?? "0")).toString());
		await deliver("refunds", [{ kind: "refund", refund_id: r.id }]);
		expect(await finalize(r.id)).toMatchObject({ state: "finalized" });
		// Nothing of the token is left to the merchant but the network fee it paid.
		const balance = await merchantBalance(env.DB, m.merchant.id, false);
		expect(balance.available.find((b) => b.currency === "sol")?.amount).toBe(-5_000n);
		await expectLedgerBalanced();
	});

	it("refunds in the token when the merchant keeps what it receives", async () => {
		const m = await merchantWith({});
		const { p } = await paidSolPayment(m);
		const r = await postRefund(m, { payment: p.id });
		expect(r.conversion).toBeNull();
		expect(r.solana?.amount).toBe("167500001");
		expect(await conversionsOf(m, p.id)).toEqual([]);
	});
});
