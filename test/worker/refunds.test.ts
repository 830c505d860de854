import { env } from "cloudflare:workers";
import { address, generateKeyPairSigner } from "@solana/kit";
import { findAssociatedTokenPda } from "@solana-program/token";
import { beforeAll, describe, expect, it } from "vitest";
import { merchantBalance } from "../../src/db/ledger";
import type { CardPaymentDetails } from "../../src/domain/card-details";
import type { SolanaPaymentDetails } from "../../src/domain/payment";
import type { RefundJson } from "../../src/domain/refund";
import { parseTransferRequest } from "../../src/domain/solana-pay";
import type { Env } from "../../src/env";
import { resendStalledRefunds, STALLED_REFUND_AGES_SECONDS } from "../../src/services/refunds";
import {
	call,
	createMerchant,
	createPayment,
	expectApiError,
	json,
	type PaymentJson,
} from "./helpers/api";
import { accountBalance, expectLedgerBalanced, tokenBalance as usdc } from "./helpers/ledger";
import { captureLogs } from "./helpers/logs";
import { eventTypes, fireDueJobs } from "./helpers/objects";
import { consume, finalize, fireSender, sender } from "./helpers/refunds";
import {
	advanceSlots,
	detect,
	fundedPayer,
	PYUSD_MINT,
	rpc,
	sendTransfer,
	setFaults,
	TOKEN_2022_PROGRAM,
	TOKEN_PROGRAM,
	USDC_MINT,
} from "./helpers/solana";
import { deliverAll, stripe } from "./helpers/stripe";
import { captureQueue } from "./helpers/webhooks";

type Payment = PaymentJson & {
	amount_refunded: number;
	refund_status: "refunded" | "partially_refunded" | null;
	card: CardPaymentDetails | null;
	solana: SolanaPaymentDetails;
};

// ── helpers ────────────────────────────────────────────────────────────────────────────────

async function getPayment(key: string, id: string): Promise<Payment> {
	return json<Payment>(await call("GET", `/v1/payments/${id}`, { key }));
}

async function refund(key: string, body: Record<string, unknown>): Promise<RefundJson> {
	const res = await call("POST", "/v1/refunds", { key, body });
	expect(res.status, await res.clone().text()).toBe(200);
	return json<RefundJson>(res);
}

async function getRefund(key: string, id: string): Promise<RefundJson> {
	const res = await call("GET", `/v1/refunds/${id}`, { key });
	expect(res.status, await res.clone().text()).toBe(200);
	return json<RefundJson>(res);
}

async function refundTransfers(paymentId: string): Promise<string[]> {
	const { results } = await env.DB.prepare(
		"SELECT id FROM ledger_transfers WHERE reference = ? AND kind = 'refund' ORDER BY id",
	)
		.bind(paymentId)
		.all<{ id: string }>();
	return results.map((r) => r.id);
}

// ── cards ──────────────────────────────────────────────────────────────────────────────────

async function paidCard(amount = 10_000) {
	const m = await createMerchant();
	const p = (await createPayment(m.sk, { amount, payment_method_types: ["card"] })) as Payment;
	const opened = await call("POST", `/checkout/${p.id}/card`, { body: {} });
	const { client_secret } = await json<{ client_secret: string }>(opened);
	const intentId = client_secret.slice(0, client_secret.indexOf("_secret_"));
	await stripe.paymentIntents.confirm(intentId, { payment_method: "pm_card_visa" });
	await deliverAll(intentId);
	expect((await getPayment(m.sk, p.id)).status).toBe("succeeded");
	return { m, p, intentId };
}

describe("card refunds", () => {
	it("refunds in full through Stripe once, and the charge.refunded webhook books nothing more", async () => {
		const { m, p, intentId } = await paidCard(10_000);
		const created = await refund(m.sk, { payment: p.id, reason: "requested_by_customer" });
		expect(created).toMatchObject({
			object: "refund",
			status: "pending",
			payment: p.id,
			amount: 10_000,
			currency: "usd",
			funds: "received",
			processor: "stripe",
			reason: "requested_by_customer",
			fees: { paid_by: "merchant", payment_fee_returned: false, network_fee: null },
		});
		expect(created.id).toMatch(/^re_/);

		const result = await consume([created.id]);
		expect(result.explicitAcks).toEqual([expect.any(String)]);
		const done = await getRefund(m.sk, created.id);
		expect(done.status).toBe("succeeded");
		expect(done.card?.stripe_refund).toMatch(/^re_/);
		const atStripe = await stripe.refunds.retrieve(done.card?.stripe_refund as string);
		expect(atStripe).toMatchObject({ amount: 10_000, metadata: { refund_id: created.id } });

		const paid = await getPayment(m.sk, p.id);
		expect(paid).toMatchObject({
			status: "succeeded",
			amount_refunded: 10_000,
			refund_status: "refunded",
		});
		// Stripe's webhooks about the refund arrive afterwards: already booked, nothing changes.
		await deliverAll(intentId);
		expect(await refundTransfers(p.id)).toEqual([`${created.id}:refund`]);
		expect((await getPayment(m.sk, p.id)).amount_refunded).toBe(10_000);
		// Stripe keeps its fee (320): the merchant, who had 9,680, owes it.
		const balance = await merchantBalance(env.DB, m.merchant.id, false);
		expect(balance.pending).toEqual([{ currency: "usd", amount: -320n }]);
		expect(await eventTypes(created.id)).toEqual(["refund.created", "refund.succeeded"]);
		expect(await eventTypes(p.id)).toContain("payment.refunded");
		await expectLedgerBalanced();
	});

	it("refunds in parts, never past what was received", async () => {
		const { m, p } = await paidCard(10_000);
		const first = await refund(m.sk, { payment: p.id, amount: 3_000 });
		await consume([first.id]);
		expect(await getPayment(m.sk, p.id)).toMatchObject({
			amount_refunded: 3_000,
			refund_status: "partially_refunded",
		});
		const second = await refund(m.sk, { payment: p.id, amount: 2_000 });
		const tooMuch = await call("POST", "/v1/refunds", {
			key: m.sk,
			body: { payment: p.id, amount: 5_001 },
		});
		expect((await expectApiError(tooMuch, "parameter_invalid", "amount")).message).toMatch(
			/more than is left to refund \(5000\)/,
		);
		const rest = await refund(m.sk, { payment: p.id });
		expect(rest.amount).toBe(5_000);
		await consume([second.id, rest.id]);
		expect(await getPayment(m.sk, p.id)).toMatchObject({
			amount_refunded: 10_000,
			refund_status: "refunded",
			status: "succeeded",
		});
		const again = await call("POST", "/v1/refunds", { key: m.sk, body: { payment: p.id } });
		await expectApiError(again, "payment_unexpected_state");
		expect((await refundTransfers(p.id)).sort()).toEqual(
			[first.id, second.id, rest.id].map((id) => `${id}:refund`).sort(),
		);
		const listed = await json<{ data: RefundJson[] }>(
			await call("GET", `/v1/refunds?payment=${p.id}`, { key: m.sk }),
		);
		expect(listed.data.map((r) => [r.id, r.status])).toEqual([
			[rest.id, "succeeded"],
			[second.id, "succeeded"],
			[first.id, "succeeded"],
		]);
		await expectLedgerBalanced();
	});

	it("books a refund once when Stripe's webhook overtakes it, and a dashboard refund beside it", async () => {
		const { m, p, intentId } = await paidCard(10_000);
		const ours = await refund(m.sk, { payment: p.id, amount: 3_000 });
		// Stripe already has our refund (its answer to us is still on the way) ...
		await stripe.refunds.create(
			{
				payment_intent: intentId,
				amount: 3_000,
				metadata: { refund_id: ours.id, payment_id: p.id },
			},
			{ idempotencyKey: `${ours.id}:stripe` },
		);
		// ... and someone refunds 1,000 in Stripe's dashboard; the webhooks arrive first.
		await stripe.refunds.create({ payment_intent: intentId, amount: 1_000 });
		await deliverAll(intentId);
		expect((await getPayment(m.sk, p.id)).amount_refunded).toBe(1_000);
		await consume([ours.id]);
		expect((await getRefund(m.sk, ours.id)).status).toBe("succeeded");
		expect((await getPayment(m.sk, p.id)).amount_refunded).toBe(4_000);
		expect((await refundTransfers(p.id)).sort()).toEqual(
			[`${ours.id}:refund`, `${p.id}:stripe_refund:1000`].sort(),
		);
		// Only 6,000 is left, whoever refunded the rest.
		const tooMuch = await call("POST", "/v1/refunds", {
			key: m.sk,
			body: { payment: p.id, amount: 6_001 },
		});
		await expectApiError(tooMuch, "parameter_invalid", "amount");
		await expectLedgerBalanced();
	});

	it("refunds a card charge that landed after the payment expired, Stripe's fee at the merchant's cost", async () => {
		const m = await createMerchant();
		const p = await createPayment(m.sk, { amount: 5_000, payment_method_types: ["card"] });
		const opened = await call("POST", `/checkout/${p.id}/card`, { body: {} });
		const { client_secret } = await json<{ client_secret: string }>(opened);
		const intentId = client_secret.slice(0, client_secret.indexOf("_secret_"));
		// The payer pays at Stripe just as the payment expires; Stripe's webhooks arrive after.
		await stripe.paymentIntents.confirm(intentId, { payment_method: "pm_card_visa" });
		await fireDueJobs(p.id, ["expire"]);
		await deliverAll(intentId);
		const late = await getPayment(m.sk, p.id);
		expect(late).toMatchObject({ status: "expired", card: { intent_status: "succeeded" } });
		const holding = `test:payment:${p.id}:usd`;
		expect(await accountBalance(holding)).toBe(BigInt(5_000 - (late.card?.fee ?? 0)));

		const r = await refund(m.sk, { payment: p.id });
		expect(r).toMatchObject({ funds: "held", amount: 5_000, processor: "stripe" });
		await consume([r.id]);
		expect((await getRefund(m.sk, r.id)).status).toBe("succeeded");
		expect(await accountBalance(holding)).toBe(0n);
		expect(await accountBalance(`test:merchant:${m.merchant.id}:usd:available`)).toBe(
			-BigInt(late.card?.fee ?? 0),
		);
		await deliverAll(intentId);
		expect(await refundTransfers(p.id)).toEqual([`${r.id}:refund`]);
		await expectLedgerBalanced();
	});

	it("lets only one of two refunds racing for the last amount through", async () => {
		const { m, p } = await paidCard(5_000);
		await refund(m.sk, { payment: p.id, amount: 3_000 });
		const racing = await Promise.all(
			[0, 1].map(() =>
				call("POST", "/v1/refunds", { key: m.sk, body: { payment: p.id, amount: 2_000 } }),
			),
		);
		const [won, lost] = [...racing].sort((a, b) => a.status - b.status);
		expect(won?.status).toBe(200);
		await expectApiError(lost as Response, "payment_unexpected_state");
		const pending = (await paymentRefunds(p.id)).filter((r) => r.status === "pending");
		expect(pending.reduce((s, r) => s + (r.amount ?? 0), 0)).toBe(5_000);
	});

	it("acknowledges a duplicate message without changing anything", async () => {
		const { m, p } = await paidCard(4_000);
		const r = await refund(m.sk, { payment: p.id, amount: 1_500 });
		await consume([r.id]);
		const events = await eventTypes(r.id);
		const paymentEvents = await eventTypes(p.id);
		const result = await consume([r.id, r.id]);
		expect(result.explicitAcks).toHaveLength(2);
		expect(result.retryMessages).toEqual([]);
		expect(await eventTypes(r.id)).toEqual(events);
		expect(await eventTypes(p.id)).toEqual(paymentEvents);
		expect(await refundTransfers(p.id)).toEqual([`${r.id}:refund`]);
		const intent = (await getPayment(m.sk, p.id)).card?.payment_intent as string;
		const atStripe = await stripe.refunds.list({ payment_intent: intent });
		expect(atStripe.data.filter((s) => s.metadata?.refund_id === r.id)).toHaveLength(1);
	});

	it("sends a refund still pending at 10 minutes and at 2 hours to the queue once more each", async () => {
		const { m, p } = await paidCard(3_000);
		const r = await refund(m.sk, { payment: p.id, amount: 1_000 });
		// Its message lost: the refund waits, pending.
		const sweep = async (at: number) => {
			const q = captureQueue();
			await resendStalledRefunds({ ...env, REFUNDS_QUEUE: q.queue } as Env, at);
			return q.sent;
		};
		const message = { kind: "refund", refund_id: r.id };
		const [tenMinutes, twoHours] = STALLED_REFUND_AGES_SECONDS;
		expect(await sweep(r.created + 300)).not.toContainEqual(message);
		expect(await sweep(r.created + tenMinutes + 30)).toContainEqual(message);
		expect(await sweep(r.created + tenMinutes + 90)).not.toContainEqual(message);
		expect(await sweep(r.created + twoHours + 30)).toContainEqual(message);
		// The resent message refunds it once; a finished refund is never sent again.
		await consume([r.id]);
		expect((await getRefund(m.sk, r.id)).status).toBe("succeeded");
		expect(await sweep(r.created + twoHours + 30)).not.toContainEqual(message);
		expect(await refundTransfers(p.id)).toEqual([`${r.id}:refund`]);
	});

	it("retries a Stripe outage with backoff, then gives up visibly and frees the amount", async () => {
		const logs = captureLogs();
		const { m, p } = await paidCard(6_000);
		const r = await refund(m.sk, { payment: p.id, amount: 6_000 });
		await stripeFaults({ outage: true });
		try {
			const first = await consume([r.id], 1);
			expect(first.retryMessages).toHaveLength(1);
			expect(first.delays).toEqual([10]);
			const fourth = await consume([r.id], 4);
			expect(fourth.delays).toEqual([80]);
			expect((await getRefund(m.sk, r.id)).status).toBe("pending");
			const last = await consume([r.id], 10);
			expect(last.retryMessages).toEqual([]);
			expect(last.explicitAcks).toHaveLength(1);
		} finally {
			await stripeFaults({ outage: false });
		}
		const failed = await getRefund(m.sk, r.id);
		expect(failed.status).toBe("failed");
		expect(failed.failure_reason).toMatch(/^Gave up after 10 attempts/);
		expect(await eventTypes(r.id)).toEqual(["refund.created", "refund.failed"]);
		const giveUp = await env.DB.prepare(
			"SELECT queue, attempts FROM queue_failures WHERE body LIKE ?",
		)
			.bind(`%${r.id}%`)
			.first();
		expect(giveUp).toEqual({ queue: "refunds", attempts: 10 });
		expect(logs.find("error", "queue message given up")).toEqual([
			expect.objectContaining({ queue: "refunds", attempts: 10 }),
		]);
		// The reservation is gone: the whole amount can be refunded again.
		const retry = await refund(m.sk, { payment: p.id });
		expect(retry.amount).toBe(6_000);
		await consume([retry.id]);
		expect((await getRefund(m.sk, retry.id)).status).toBe("succeeded");
		expect(await refundTransfers(p.id)).toEqual([`${retry.id}:refund`]);
		await expectLedgerBalanced();
	});
});

async function stripeFaults(faults: Record<string, unknown>): Promise<void> {
	const res = await fetch(`${env.SANDBOX_CONTROL_URL}/admin/stripe/faults`, {
		method: "POST",
		headers: { "Content-Type": "application/json" },
		body: JSON.stringify(faults),
	});
	expect(res.status).toBe(200);
}

async function paymentRefunds(paymentId: string) {
	const { paymentObject } = await import("./helpers/objects");
	return paymentObject(paymentId).listRefunds();
}

// ── crypto ─────────────────────────────────────────────────────────────────────────────────

async function lamports(owner: string): Promise<bigint> {
	return BigInt(
		(await rpc<{ value: number }>("getBalance", [owner, { commitment: "confirmed" }])).value,
	);
}

/** A crypto payment paid from a fresh wallet (holding `extra` more than it pays), confirmed. */
const TOKENS = {
	USDC: { address: USDC_MINT, decimals: 6, program: TOKEN_PROGRAM },
	PYUSD: { address: PYUSD_MINT, decimals: 6, program: TOKEN_2022_PROGRAM },
};

async function paidCrypto(
	token: "SOL" | "USDC" | "PYUSD",
	options: { overpay?: bigint; expireFirst?: boolean } = {},
) {
	const m = await createMerchant();
	const p = (await createPayment(m.sk, {
		payment_method_types: ["solana"],
		solana: { token },
	})) as Payment;
	if (options.expireFirst) await fireDueJobs(p.id, ["expire"]);
	const request = parseTransferRequest(p.solana.solana_pay_url);
	const amount = BigInt(p.solana.amount) + (options.overpay ?? 0n);
	const mint = token === "SOL" ? undefined : TOKENS[token];
	const payer = await fundedPayer(mint ? [{ mint: mint.address, amount: 100_000_000n }] : []);
	const before = mint
		? await usdc(payer.address, mint.address, mint.program)
		: await lamports(payer.address);
	await sendTransfer({
		payer,
		recipient: request.recipient,
		amount,
		...(mint ? { mint } : {}),
		references: request.references,
		memo: [p.id],
	});
	await advanceSlots(1);
	await detect(p.id);
	return { m, p: await getPayment(m.sk, p.id), payer: payer.address, before };
}

describe("crypto refunds", () => {
	beforeAll(async () => {
		// The settlement wallet pays the refunds' network fees (and any new token account).
		await rpc("requestAirdrop", [env.SOLANA_SETTLEMENT_WALLET, 100_000_000_000]);
		await advanceSlots(1);
	});

	it("returns USDC in full to the payer, who ends where they started, on chain and in the ledger", async () => {
		const { m, p, payer, before } = await paidCrypto("USDC");
		expect(p.status).toBe("succeeded");
		expect(await usdc(payer)).toBe(before - BigInt(p.solana.amount));
		const r = await refund(m.sk, { payment: p.id, reason: "requested_by_customer" });
		expect(r).toMatchObject({
			status: "pending",
			amount: 2_500,
			processor: "solana",
			solana: {
				token: "USDC",
				mint: USDC_MINT,
				amount: p.solana.amount,
				recipient: payer,
				memo: r.id,
				signature: null,
			},
		});
		await consume([r.id]);
		const sent = await finalize(r.id);
		expect(sent).toMatchObject({ state: "finalized", reported: true });
		expect(sent.attempts).toHaveLength(1);

		const done = await getRefund(m.sk, r.id);
		expect(done).toMatchObject({
			status: "succeeded",
			solana: { signature: sent.signature, network_fee: "5000" },
			fees: { network_fee: "5000", paid_by: "merchant" },
		});
		// Minus nothing: the gateway fee the payer paid on top comes back too.
		expect(await usdc(payer)).toBe(before);
		const tx = await rpc<{
			transaction: { message: { instructions: { program?: string; parsed?: unknown }[] } };
		}>("getTransaction", [
			sent.signature,
			{ encoding: "jsonParsed", commitment: "confirmed", maxSupportedTransactionVersion: 0 },
		]);
		expect(tx.transaction.message.instructions).toContainEqual(
			expect.objectContaining({ program: "spl-memo", parsed: r.id }),
		);
		expect(await getPayment(m.sk, p.id)).toMatchObject({
			status: "succeeded",
			amount_refunded: 2_500,
			refund_status: "refunded",
		});
		// The merchant had the price; it pays back the price and the gateway fee, and the network fee.
		const balance = await merchantBalance(env.DB, m.merchant.id, false);
		expect(balance.available).toEqual([
			{ currency: USDC_MINT, amount: -BigInt(p.solana.quote.fee) },
			{ currency: "sol", amount: -5000n },
		]);
		expect(await eventTypes(r.id)).toEqual(["refund.created", "refund.succeeded"]);
		await expectLedgerBalanced();
	});

	it("returns USDC in parts that add up to exactly what was paid", async () => {
		const { m, p, payer, before } = await paidCrypto("USDC");
		const first = await refund(m.sk, { payment: p.id, amount: 1_000 });
		expect(first.solana?.amount).toBe("10050000");
		const second = await refund(m.sk, { payment: p.id, amount: 1_500 });
		expect(second.solana?.amount).toBe("15075000");
		await consume([first.id, second.id]);
		await finalize(first.id);
		await finalize(second.id);
		expect(await usdc(payer)).toBe(before);
		expect((await getPayment(m.sk, p.id)).refund_status).toBe("refunded");
		const over = await call("POST", "/v1/refunds", { key: m.sk, body: { payment: p.id } });
		await expectApiError(over, "payment_unexpected_state");
		await expectLedgerBalanced();
	});

	it("returns SOL in full and in part: the payer receives exactly the tokens, fees are not theirs", async () => {
		const { m, p, payer, before } = await paidCrypto("SOL");
		const half = await refund(m.sk, { payment: p.id, amount: 1_250 });
		expect(half.solana?.amount).toBe("83750000");
		await consume([half.id]);
		await finalize(half.id);
		expect((await getPayment(m.sk, p.id)).refund_status).toBe("partially_refunded");
		const rest = await refund(m.sk, { payment: p.id });
		expect(rest.solana?.amount).toBe("83750001");
		await consume([rest.id]);
		await finalize(rest.id);
		// What the payer spent was the payment and its own transaction fee, nothing more.
		expect(await lamports(payer)).toBe(before - 5000n);
		expect(await getPayment(m.sk, p.id)).toMatchObject({
			amount_refunded: 2_500,
			refund_status: "refunded",
		});
		await expectLedgerBalanced();
	});

	it("returns an overpayment's excess from the payment's holding account, the sale kept", async () => {
		const { m, p, payer } = await paidCrypto("USDC", { overpay: 1_000_000n });
		expect(p.solana.amount_excess).toBe("1000000");
		const price = await call("POST", "/v1/refunds", {
			key: m.sk,
			body: { payment: p.id, funds: "held", amount: 100 },
		});
		await expectApiError(price, "parameter_invalid", "amount");
		const before = await usdc(payer);
		const r = await refund(m.sk, { payment: p.id, funds: "held" });
		expect(r).toMatchObject({ funds: "held", amount: null, solana: { amount: "1000000" } });
		await consume([r.id]);
		await finalize(r.id);
		expect(await usdc(payer)).toBe(before + 1_000_000n);
		expect(await getPayment(m.sk, p.id)).toMatchObject({
			status: "succeeded",
			amount_refunded: 0,
			refund_status: null,
		});
		expect(await accountBalance(`test:payment:${p.id}:${USDC_MINT}`)).toBe(0n);
		const again = await call("POST", "/v1/refunds", {
			key: m.sk,
			body: { payment: p.id, funds: "held" },
		});
		await expectApiError(again, "payment_unexpected_state");
		await expectLedgerBalanced();
	});

	it("returns a late payment to an expired payment", async () => {
		const { m, p, payer, before } = await paidCrypto("USDC", { expireFirst: true });
		expect(p.status).toBe("expired");
		const r = await refund(m.sk, { payment: p.id });
		expect(r).toMatchObject({
			funds: "held",
			solana: { amount: p.solana.amount, recipient: payer },
		});
		await consume([r.id]);
		await finalize(r.id);
		expect(await usdc(payer)).toBe(before);
		expect((await getRefund(m.sk, r.id)).status).toBe("succeeded");
		expect((await getPayment(m.sk, p.id)).status).toBe("expired");
		expect(await accountBalance(`test:payment:${p.id}:${USDC_MINT}`)).toBe(0n);
		await expectLedgerBalanced();
	});

	it("sends a Token-2022 token to a named wallet, its new token account at the merchant's expense", async () => {
		const { m, p } = await paidCrypto("PYUSD");
		const destination = (await generateKeyPairSigner()).address;
		const r = await refund(m.sk, { payment: p.id, amount: 1_000, destination });
		expect(r.solana).toMatchObject({
			mint: PYUSD_MINT,
			token_program: TOKEN_2022_PROGRAM,
			recipient: destination,
		});
		await consume([r.id]);
		const sent = await finalize(r.id);
		expect(sent.state).toBe("finalized");
		expect(await usdc(destination, PYUSD_MINT, TOKEN_2022_PROGRAM)).toBe(
			BigInt(r.solana?.amount ?? "0"),
		);
		// The fee and the rent of the token account the settlement wallet opened for the recipient.
		const done = await getRefund(m.sk, r.id);
		const fee = BigInt(done.fees.network_fee ?? "0");
		expect(fee).toBeGreaterThan(1_000_000n);
		expect(await accountBalance(`test:merchant:${m.merchant.id}:sol:available`)).toBe(-fee);
		await expectLedgerBalanced();
	});

	it("lets only one of two crypto refunds racing for the last amount through", async () => {
		const { m, p } = await paidCrypto("USDC");
		await refund(m.sk, { payment: p.id, amount: 2_000 });
		const racing = await Promise.all(
			[0, 1].map(() =>
				call("POST", "/v1/refunds", { key: m.sk, body: { payment: p.id, amount: 500 } }),
			),
		);
		const [won, lost] = [...racing].sort((a, b) => a.status - b.status);
		expect(won?.status).toBe(200);
		await expectApiError(lost as Response, "payment_unexpected_state");
		const pending = await paymentRefunds(p.id);
		expect(pending.reduce((s, r) => s + BigInt(r.solana?.amount ?? "0"), 0n)).toBe(
			BigInt(p.solana.amount),
		);
	});

	it("re-sends the same transaction while it can land, and builds a new one only once the first is proven dead", async () => {
		const { m, p, payer, before } = await paidCrypto("USDC");
		const r = await refund(m.sk, { payment: p.id });
		const sends = countSends();
		await setFaults({ dropTransactions: 1 });
		try {
			await consume([r.id]);
			await advanceSlots(2);
			const resent = await fireSender(r.id);
			expect(resent.attempts).toHaveLength(1);
			expect(resent.attempts[0]?.broadcasts).toBeGreaterThanOrEqual(2);
			// Past lastValidBlockHeight at finalized: the dropped transaction can never land now.
			await advanceSlots(160);
		} finally {
			await setFaults({});
		}
		const rebuilt = await fireSender(r.id);
		expect(rebuilt.attempts.map((a) => a.state)).toEqual(["expired", "open"]);
		const done = await finalize(r.id);
		expect(done.attempts.map((a) => a.state)).toEqual(["expired", "landed"]);
		sends.stop();
		// Every broadcast carried one of the two signatures; only the second exists on chain.
		const [first, second] = done.attempts;
		expect(new Set(sends.signatures)).toEqual(new Set([first?.signature, second?.signature]));
		const statuses = await rpc<{ value: unknown[] }>("getSignatureStatuses", [
			[first?.signature, second?.signature],
			{ searchTransactionHistory: true },
		]);
		expect(statuses.value[0]).toBeNull();
		expect(statuses.value[1]).not.toBeNull();
		expect(await refundTxsTo(payer, r.id)).toBe(1);
		expect(await usdc(payer)).toBe(before);
		expect((await getRefund(m.sk, r.id)).solana?.signature).toBe(second?.signature);
		await expectLedgerBalanced();
	});

	it("never sends again when the first broadcast landed but its answer was lost", async () => {
		const { m, p, payer, before } = await paidCrypto("USDC");
		const r = await refund(m.sk, { payment: p.id });
		const sends = countSends({ loseAnswers: true });
		try {
			await consume([r.id]);
		} finally {
			sends.stop();
		}
		const afterLoss = await sender(r.id).status();
		expect(afterLoss.attempts).toHaveLength(1);
		expect(afterLoss.attempts[0]?.last_error).toMatch(/sendTransaction: .* unreachable/);
		// Even past the blockhash's life the signature is found, so nothing new is built.
		await advanceSlots(160);
		const done = await finalize(r.id);
		expect(done.state).toBe("finalized");
		expect(done.attempts.map((a) => a.state)).toEqual(["landed"]);
		expect(sends.signatures).toEqual([afterLoss.attempts[0]?.signature]);
		expect(await refundTxsTo(payer, r.id)).toBe(1);
		expect(await usdc(payer)).toBe(before);
		await expectLedgerBalanced();
	});

	it("acknowledges a duplicate message without sending or booking anything", async () => {
		const { m, p } = await paidCrypto("SOL");
		const r = await refund(m.sk, { payment: p.id });
		await consume([r.id]);
		await finalize(r.id);
		const events = await eventTypes(r.id);
		const transfers = await refundTransfers(p.id);
		const sends = countSends();
		const result = await consume([r.id, r.id]);
		sends.stop();
		expect(result.explicitAcks).toHaveLength(2);
		expect(sends.signatures).toEqual([]);
		expect((await sender(r.id).status()).attempts).toHaveLength(1);
		expect(await eventTypes(r.id)).toEqual(events);
		expect(await refundTransfers(p.id)).toEqual(transfers);
		await expectLedgerBalanced();
	});

	it("refuses what cannot be refunded", async () => {
		const m = await createMerchant();
		const unpaid = await createPayment(m.sk, {
			payment_method_types: ["solana"],
			solana: { token: "SOL" },
		});
		await expectApiError(
			await call("POST", "/v1/refunds", { key: m.sk, body: { payment: unpaid.id } }),
			"payment_unexpected_state",
		);
		await expectApiError(
			await call("POST", "/v1/refunds", { key: m.sk, body: { payment: "pay_nope" } }),
			"resource_missing",
			"payment",
		);
		const other = await createMerchant();
		await expectApiError(
			await call("POST", "/v1/refunds", { key: other.sk, body: { payment: unpaid.id } }),
			"resource_missing",
			"payment",
		);
		await expectApiError(
			await call("POST", "/v1/refunds", {
				key: m.sk,
				body: { payment: unpaid.id, destination: "not-an-address" },
			}),
			"parameter_invalid",
			"destination",
		);
		await expectApiError(
			await call("GET", "/v1/refunds/re_nope", { key: m.sk }),
			"resource_missing",
			"id",
		);
	});
});

/** Counts the refund broadcasts leaving this isolate; optionally loses every answer after it landed. */
function countSends(options: { loseAnswers?: boolean } = {}) {
	const signatures: string[] = [];
	const real = globalThis.fetch;
	globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
		const body = typeof init?.body === "string" ? init.body : "";
		if (!body.includes('"sendTransaction"')) return real(input, init);
		const response = await real(input, init);
		const answer = (await response.clone().json()) as { result?: string };
		if (answer.result) signatures.push(answer.result);
		if (options.loseAnswers) throw new TypeError("Network connection lost.");
		return response;
	}) as typeof fetch;
	return {
		signatures,
		stop: () => {
			globalThis.fetch = real;
		},
	};
}

/** Transactions on chain that paid the wallet with this refund's memo. */
async function refundTxsTo(wallet: string, refundId: string): Promise<number> {
	const [ata] = await findAssociatedTokenPda({
		owner: address(wallet),
		mint: address(USDC_MINT),
		tokenProgram: address(TOKEN_PROGRAM),
	});
	const infos = await rpc<{ memo: string | null; err: unknown }[]>("getSignaturesForAddress", [
		ata,
		{ commitment: "confirmed" },
	]);
	return infos.filter((i) => i.err === null && i.memo?.includes(refundId)).length;
}
