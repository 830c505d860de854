import { env } from "cloudflare:workers";
import { address, type KeyPairSigner } from "@solana/kit";
import { getTransferSolInstruction } from "@solana-program/system";
import { beforeAll, describe, expect, it } from "vitest";
import { merchantBalance } from "../../src/db/ledger";
import type { CardPaymentDetails } from "../../src/domain/card-details";
import { accounts } from "../../src/domain/ledger";
import type { HeldFundsSummary, SolanaPaymentDetails } from "../../src/domain/payment";
import type { RefundJson } from "../../src/domain/refund";
import { parseTransferRequest } from "../../src/domain/solana-pay";
import {
	ADMIN_TOKEN,
	call,
	createMerchant,
	createPayment,
	expectApiError,
	json,
	type PaymentJson,
} from "./helpers/api";
import { signedIn } from "./helpers/dashboard";
import { accountBalance, expectLedgerBalanced } from "./helpers/ledger";
import { eventTypes, fireDueJobs, paymentObject } from "./helpers/objects";
import { consume, finalize } from "./helpers/refunds";
import {
	advanceSlots,
	detect,
	fundedPayer,
	rpc,
	sendInstructions,
	sendTransfer,
	transferInstructions,
} from "./helpers/solana";
import { deliverAll, dispute, stripe } from "./helpers/stripe";

/**
 * One method settles a payment: whichever pays the price first pays it, the other closes, and
 * whatever still arrives by the other method is held as extra and goes back by that method.
 */

type Payment = PaymentJson & {
	amount_refunded: number;
	paid_with: "card" | "solana" | null;
	held_funds: HeldFundsSummary;
	card: CardPaymentDetails | null;
	solana: SolanaPaymentDetails;
};

type Merchant = Awaited<ReturnType<typeof createMerchant>>;

async function getPayment(key: string, id: string): Promise<Payment> {
	return json<Payment>(await call("GET", `/v1/payments/${id}`, { key }));
}

async function merchant(extraFunds?: "refund" | "hold"): Promise<Merchant> {
	const m = await createMerchant();
	if (extraFunds) {
		const res = await call("POST", "/v1/settings", {
			key: m.sk,
			body: { extra_funds: extraFunds },
		});
		expect(res.status, await res.clone().text()).toBe(200);
		expect(await json(res)).toMatchObject({ extra_funds: extraFunds });
	}
	return m;
}

/** A $25.00 payment that takes SOL and cards, quoted in SOL. */
async function bothMethods(m: Merchant, amount = 2_500): Promise<Payment> {
	return (await createPayment(m.sk, {
		amount,
		payment_method_types: ["solana", "card"],
		solana: { token: "SOL" },
	})) as Payment;
}

/** What the checkout's card tab does: opens (or reuses) the payment's intent. */
async function openCard(id: string): Promise<string> {
	const res = await call("POST", `/checkout/${id}/card`, { body: {} });
	expect(res.status, await res.clone().text()).toBe(200);
	const { client_secret } = await json<{ client_secret: string }>(res);
	return client_secret.slice(0, client_secret.indexOf("_secret_"));
}

async function lamports(owner: string): Promise<bigint> {
	const res = await rpc<{ value: number }>("getBalance", [owner, { commitment: "confirmed" }]);
	return BigInt(res.value);
}

/** Sends `amount` lamports to the payment's quote from a fresh wallet and books it. */
async function payCrypto(p: Payment, amount: bigint, from?: KeyPairSigner) {
	const request = parseTransferRequest(p.solana.solana_pay_url);
	const payer = from ?? (await fundedPayer());
	const before = await lamports(payer.address);
	await sendTransfer({
		payer,
		recipient: request.recipient,
		amount,
		references: request.references,
		memo: [p.id],
	});
	await advanceSlots(1);
	await detect(p.id);
	return { payer: payer.address, before, signer: payer };
}

/** The payment's refunds as its object holds them, newest last. */
async function refundsOf(id: string): Promise<RefundJson[]> {
	return (await paymentObject(id).listRefunds()) as unknown as RefundJson[];
}

async function holding(p: Payment, currency: string): Promise<bigint> {
	return accountBalance(accounts.paymentHolding(p.id, false, currency));
}

beforeAll(async () => {
	// The settlement wallet pays crypto refunds' network fees.
	await rpc("requestAirdrop", [env.SOLANA_SETTLEMENT_WALLET, 100_000_000_000]);
	await advanceSlots(1);
});

describe("crypto pays first", () => {
	it("cancels the open card intent at Stripe and stops offering the card", async () => {
		const m = await merchant();
		const p = await bothMethods(m);
		const intentId = await openCard(p.id);
		await payCrypto(p, BigInt(p.solana.amount));
		const paid = await getPayment(m.sk, p.id);
		expect(paid).toMatchObject({
			status: "succeeded",
			paid_with: "solana",
			amount_received: 2_500,
		});

		await fireDueJobs(p.id, ["card_release"]);
		expect((await stripe.paymentIntents.retrieve(intentId)).status).toBe("canceled");
		expect((await getPayment(m.sk, p.id)).card?.intent_status).toBe("canceled");
		// The checkout's card tab is closed: nothing can be charged for this payment any more.
		await expectApiError(
			await call("POST", `/checkout/${p.id}/card`, { body: {} }),
			"payment_unexpected_state",
		);
		const balance = await merchantBalance(env.DB, m.merchant.id, false);
		expect(balance.pending).toEqual([]);
		expect(balance.available.map((b) => b.currency)).toEqual(["sol"]);
		await expectLedgerBalanced();
	});

	it("holds a card captured in the race as extra and refunds it to the card by default", async () => {
		const m = await merchant();
		const p = await bothMethods(m);
		const intentId = await openCard(p.id);
		// The payer confirms the card while crypto is landing; Stripe's webhook has not come yet.
		await stripe.paymentIntents.confirm(intentId, { payment_method: "pm_card_visa" });
		await payCrypto(p, BigInt(p.solana.amount));
		expect(await getPayment(m.sk, p.id)).toMatchObject({
			status: "succeeded",
			paid_with: "solana",
		});
		// The release finds the intent captured (Stripe refuses the cancel) and books what it is.
		await fireDueJobs(p.id, ["card_release"]);
		const held = await getPayment(m.sk, p.id);
		expect(held).toMatchObject({
			status: "succeeded",
			paid_with: "solana",
			amount_received: 2_500,
			amount_refunded: 0,
			held_funds: { card: { amount: 2_500, refunded: 0 }, solana: null },
		});
		expect(await eventTypes(p.id)).toContain("payment.extra_funds_received");
		// Never merchant revenue: the charge sits in the payment's holding account.
		expect(await holding(p, "usd")).toBe(2_500n - BigInt(held.card?.fee ?? 0));
		expect((await merchantBalance(env.DB, m.merchant.id, false)).pending).toEqual([]);
		// The webhooks that follow change nothing.
		await deliverAll(intentId);

		await fireDueJobs(p.id, ["extra_refund"]);
		const [auto] = await refundsOf(p.id);
		expect(auto).toMatchObject({
			funds: "held",
			processor: "stripe",
			amount: 2_500,
			status: "pending",
			reason: "duplicate",
			metadata: { automatic: "extra_funds" },
		});
		// Running the job again finds nothing left to send back.
		await fireDueJobs(p.id, ["extra_refund"]);
		expect(await refundsOf(p.id)).toHaveLength(1);
		await consume([auto?.id as string]);
		const after = await getPayment(m.sk, p.id);
		expect(after).toMatchObject({
			amount_refunded: 0,
			refund_status: null,
			held_funds: { card: { amount: 2_500, refunded: 2_500 } },
		});
		const refunds = await stripe.refunds.list({ payment_intent: intentId });
		expect(refunds.data.map((r) => r.amount)).toEqual([2_500]);
		expect(await holding(p, "usd")).toBe(0n);
		// Stripe keeps its fee on the refunded charge: the merchant's only cost, as for any refund.
		const balance = await merchantBalance(env.DB, m.merchant.id, false);
		expect(balance.available).toContainEqual({
			currency: "usd",
			amount: -BigInt(held.card?.fee ?? 0),
		});
		await expectLedgerBalanced();
	});

	it("books a capture racing the crypto success once: one method pays, the other is extra", async () => {
		for (let round = 0; round < 3; round++) {
			const m = await merchant("hold");
			const p = await bothMethods(m);
			const intentId = await openCard(p.id);
			await stripe.paymentIntents.confirm(intentId, { payment_method: "pm_card_visa" });
			const request = parseTransferRequest(p.solana.solana_pay_url);
			await sendTransfer({
				payer: await fundedPayer(),
				recipient: request.recipient,
				amount: BigInt(p.solana.amount),
				references: request.references,
				memo: [p.id],
			});
			await advanceSlots(1);
			// The card's webhook and the chain's inflow reach the payment at the same time.
			await Promise.all([deliverAll(intentId), detect(p.id)]);
			await fireDueJobs(p.id, ["card_release"]);
			const paid = await getPayment(m.sk, p.id);
			expect(paid.status).toBe("succeeded");
			expect(["card", "solana"]).toContain(paid.paid_with);
			const other = paid.paid_with === "card" ? "solana" : "card";
			expect(paid.held_funds[other], `round ${round}: ${paid.paid_with} paid`).not.toBeNull();
			expect(paid.held_funds[paid.paid_with as "card" | "solana"]).toBeNull();
			expect(await eventTypes(p.id)).toContain("payment.extra_funds_received");
			expect((await eventTypes(p.id)).filter((t) => t === "payment.succeeded")).toHaveLength(1);
			// The merchant was credited by one method only.
			const balance = await merchantBalance(env.DB, m.merchant.id, false);
			const credited = [...balance.pending, ...balance.available].filter((b) => b.amount > 0n);
			expect(credited.map((b) => b.currency)).toEqual([paid.paid_with === "card" ? "usd" : "sol"]);
			await expectLedgerBalanced();
		}
	});

	it("no longer offers the card while the crypto payment waits for finality", async () => {
		const m = await merchant();
		// Above the finality threshold: the payment is processing until `finalized`.
		const p = await bothMethods(m, 20_000);
		expect(p.solana.required_commitment).toBe("finalized");
		await payCrypto(p, BigInt(p.solana.amount));
		expect((await getPayment(m.sk, p.id)).status).toBe("processing");
		await expectApiError(
			await call("POST", `/checkout/${p.id}/card`, { body: {} }),
			"payment_unexpected_state",
		);
		const view = await json<{ paying_with: string | null }>(
			await call("GET", `/checkout/${p.id}/status`),
		);
		expect(view.paying_with).toBe("solana");
	});
});

describe("a dispute on an extra card charge", () => {
	it("is withdrawn from what the payment holds, not from the merchant's sale", async () => {
		const m = await merchant("hold");
		const p = await bothMethods(m);
		const intentId = await openCard(p.id);
		await stripe.paymentIntents.confirm(intentId, { payment_method: "pm_card_visa" });
		await payCrypto(p, BigInt(p.solana.amount));
		await deliverAll(intentId);
		const held = await getPayment(m.sk, p.id);
		expect(held.held_funds.card).toMatchObject({ amount: 2_500 });
		const before = await merchantBalance(env.DB, m.merchant.id, false);
		await dispute(held.card?.charge as string);
		await deliverAll(intentId);
		expect((await getPayment(m.sk, p.id)).card?.disputes).toHaveLength(1);
		// The holding account had the charge less Stripe's fee; the merchant covers only the fee.
		expect(await holding(p, "usd")).toBe(0n);
		const after = await merchantBalance(env.DB, m.merchant.id, false);
		expect(after.available).toContainEqual({
			currency: "usd",
			amount: -BigInt(held.card?.fee ?? 0),
		});
		expect(after.available.filter((b) => b.currency !== "usd")).toEqual(
			before.available.filter((b) => b.currency !== "usd"),
		);
		await expectLedgerBalanced();
	});
});

describe("the card pays first", () => {
	it("holds crypto sent afterwards as extra and sends it back on chain by default", async () => {
		const m = await merchant();
		const p = await bothMethods(m);
		const intentId = await openCard(p.id);
		await stripe.paymentIntents.confirm(intentId, { payment_method: "pm_card_visa" });
		await deliverAll(intentId);
		expect(await getPayment(m.sk, p.id)).toMatchObject({ status: "succeeded", paid_with: "card" });

		const { payer, before } = await payCrypto(p, BigInt(p.solana.amount));
		const held = await getPayment(m.sk, p.id);
		expect(held).toMatchObject({
			status: "succeeded",
			paid_with: "card",
			amount_received: 2_500,
			held_funds: { card: null, solana: { token: "SOL", amount: p.solana.amount, refunded: "0" } },
		});
		expect(await eventTypes(p.id)).toContain("payment.extra_funds_received");
		expect(await holding(p, "sol")).toBe(BigInt(p.solana.amount));
		// The dashboard says which method paid and what is held.
		const page = await (await (await signedIn(m.sk)).get(`/dashboard/payments/${p.id}`)).text();
		expect(page).toMatch(/<dt>Method<\/dt><dd>Card<\/dd>/);
		expect(page).toContain("Held for refund");

		await fireDueJobs(p.id, ["extra_refund"]);
		const [auto] = await refundsOf(p.id);
		expect(auto).toMatchObject({
			funds: "held",
			processor: "solana",
			solana: { amount: p.solana.amount, recipient: payer },
		});
		await consume([auto?.id as string]);
		expect(await finalize(auto?.id as string)).toMatchObject({ state: "finalized" });
		// The payer is back where they were but for their own transaction's fee.
		expect(await lamports(payer)).toBe(before - 5_000n);
		expect(await holding(p, "sol")).toBe(0n);
		const after = await getPayment(m.sk, p.id);
		expect(after).toMatchObject({
			amount_refunded: 0,
			held_funds: { solana: { amount: p.solana.amount, refunded: p.solana.amount } },
		});
		// The card's price is the merchant's; the crypto never was.
		const balance = await merchantBalance(env.DB, m.merchant.id, false);
		expect(balance.pending).toEqual([
			{ currency: "usd", amount: 2_500n - BigInt(after.card?.fee ?? 0) },
		]);
		expect(balance.available).toEqual([{ currency: "sol", amount: -5_000n }]);
		await expectLedgerBalanced();
	});

	it("holds dust a stranger sends after the card paid instead of paying fees to send it back", async () => {
		const m = await merchant();
		const p = await bothMethods(m);
		const intentId = await openCard(p.id);
		await stripe.paymentIntents.confirm(intentId, { payment_method: "pm_card_visa" });
		await deliverAll(intentId);
		// Less than a hundredth of the quote: each on-chain refund would cost the merchant a fee.
		await payCrypto(p, 1_000n);
		await fireDueJobs(p.id, ["extra_refund"]);
		expect(await refundsOf(p.id)).toEqual([]);
		expect((await getPayment(m.sk, p.id)).held_funds.solana).toMatchObject({ amount: "1000" });
		expect(await holding(p, "sol")).toBe(1_000n);
		await expectLedgerBalanced();
	});

	it("half in crypto, then the full price by card: the crypto goes back whole", async () => {
		const m = await merchant();
		const p = await bothMethods(m);
		const half = BigInt(p.solana.amount) / 2n;
		const { payer } = await payCrypto(p, half);
		// Partly paid: the share of the price the tokens cover, rounded down.
		expect(await getPayment(m.sk, p.id)).toMatchObject({
			status: "requires_payment",
			amount_received: 1_249,
		});
		const intentId = await openCard(p.id);
		await stripe.paymentIntents.confirm(intentId, { payment_method: "pm_card_visa" });
		await deliverAll(intentId);
		const paid = await getPayment(m.sk, p.id);
		expect(paid).toMatchObject({
			status: "succeeded",
			paid_with: "card",
			amount_received: 2_500,
			held_funds: { solana: { amount: half.toString(), refunded: "0" } },
		});
		expect(await eventTypes(p.id)).toContain("payment.extra_funds_received");

		await fireDueJobs(p.id, ["extra_refund"]);
		const [auto] = await refundsOf(p.id);
		expect(auto).toMatchObject({
			funds: "held",
			processor: "solana",
			solana: { amount: half.toString(), recipient: payer },
		});
		await consume([auto?.id as string]);
		expect(await finalize(auto?.id as string)).toMatchObject({ state: "finalized" });
		expect(await holding(p, "sol")).toBe(0n);
		// The card refunds in part, the price's way; the crypto had gone back already.
		const part = await call("POST", "/v1/refunds", {
			key: m.sk,
			body: { payment: p.id, amount: 1_000 },
		});
		expect(part.status, await part.clone().text()).toBe(200);
		expect(await json(part)).toMatchObject({ method: "card", funds: "received", amount: 1_000 });
		await expectApiError(
			await call("POST", "/v1/refunds", {
				key: m.sk,
				body: { payment: p.id, method: "solana", funds: "held" },
			}),
			"payment_unexpected_state",
		);
		await expectLedgerBalanced();
	});
});

describe("a merchant that holds extra funds", () => {
	it("keeps them for a decision; refunds name the method and funds they draw on", async () => {
		const m = await merchant("hold");
		const p = await bothMethods(m);
		const intentId = await openCard(p.id);
		await stripe.paymentIntents.confirm(intentId, { payment_method: "pm_card_visa" });
		// Crypto pays a little more than the quote: an excess held beside the extra card charge.
		await payCrypto(p, BigInt(p.solana.amount) + 1_000n);
		await deliverAll(intentId);
		const held = await getPayment(m.sk, p.id);
		expect(held).toMatchObject({
			paid_with: "solana",
			held_funds: { card: { amount: 2_500, refunded: 0 }, solana: { amount: "1000" } },
		});
		await fireDueJobs(p.id, ["extra_refund"]);
		expect(await refundsOf(p.id)).toEqual([]);

		const refund = (body: Record<string, unknown>) =>
			call("POST", "/v1/refunds", { key: m.sk, body: { payment: p.id, ...body } });
		// Both a card charge and crypto are held: which one goes back is the merchant's to say.
		await expectApiError(await refund({ funds: "held" }), "parameter_missing", "method");
		await expectApiError(
			await refund({ method: "card", funds: "received" }),
			"parameter_invalid",
			"funds",
		);
		const card = await refund({ method: "card", funds: "held", amount: 1_000 });
		expect(card.status, await card.clone().text()).toBe(200);
		expect(await json(card)).toMatchObject({ method: "card", funds: "held", amount: 1_000 });
		const crypto = await refund({ method: "solana", funds: "held" });
		expect(crypto.status, await crypto.clone().text()).toBe(200);
		expect(await json(crypto)).toMatchObject({ method: "solana", solana: { amount: "1000" } });
		// The price was paid in crypto: `received` defaults to it.
		const price = await refund({ amount: 500 });
		expect(price.status, await price.clone().text()).toBe(200);
		expect(await json(price)).toMatchObject({ method: "solana", funds: "received" });
		// Nothing left of the held crypto; the card's remaining 1,500 still can go back.
		await expectApiError(
			await refund({ method: "solana", funds: "held" }),
			"payment_unexpected_state",
		);
		await expectApiError(
			await refund({ method: "card", funds: "held", amount: 1_501 }),
			"parameter_invalid",
			"amount",
		);
	});
});

describe("held crypto from several senders", () => {
	it("goes back to each sender, never all to a wallet the merchant names", async () => {
		const m = await merchant("hold");
		const p = await bothMethods(m);
		const w1 = await payCrypto(p, BigInt(p.solana.amount) / 3n);
		const intentId = await openCard(p.id);
		await stripe.paymentIntents.confirm(intentId, { payment_method: "pm_card_visa" });
		await deliverAll(intentId);
		const w2 = await payCrypto(p, 2_000_000n);
		const stranger = (await fundedPayer()).address;
		await expectApiError(
			await call("POST", "/v1/refunds", {
				key: m.sk,
				body: { payment: p.id, funds: "held", method: "solana", destination: stranger },
			}),
			"parameter_invalid",
			"destination",
		);
		const res = await call("POST", "/v1/refunds", {
			key: m.sk,
			body: { payment: p.id, funds: "held" },
		});
		expect(res.status, await res.clone().text()).toBe(200);
		const r = await json<RefundJson>(res);
		expect(r.solana?.splits).toEqual(
			expect.arrayContaining([
				{ recipient: w1.payer, amount: (BigInt(p.solana.amount) / 3n).toString() },
				{ recipient: w2.payer, amount: "2000000" },
			]),
		);
		await consume([r.id]);
		expect(await finalize(r.id)).toMatchObject({ state: "finalized" });
		expect(await lamports(w2.payer)).toBe(w2.before - 5_000n);
		expect(await lamports(w1.payer)).toBe(w1.before - 5_000n);
		expect(await holding(p, "sol")).toBe(0n);
		await expectLedgerBalanced();
	});

	it("refunds later extras automatically too, each to its own sender", async () => {
		const m = await merchant();
		const p = await bothMethods(m);
		const intentId = await openCard(p.id);
		await stripe.paymentIntents.confirm(intentId, { payment_method: "pm_card_visa" });
		await deliverAll(intentId);
		const tenth = BigInt(p.solana.amount) / 10n;
		const first = await payCrypto(p, tenth);
		await fireDueJobs(p.id, ["extra_refund"]);
		const second = await payCrypto(p, tenth * 2n);
		await fireDueJobs(p.id, ["extra_refund"]);
		await payCrypto(p, tenth * 3n, first.signer);
		await fireDueJobs(p.id, ["extra_refund"]);
		const refunds = await refundsOf(p.id);
		expect(refunds.map((r) => [r.solana?.recipient, r.solana?.amount])).toEqual([
			[first.payer, tenth.toString()],
			[second.payer, (tenth * 2n).toString()],
			[first.payer, (tenth * 3n).toString()],
		]);
		// Three automatic refunds per payment: a fourth extra waits for the merchant.
		await payCrypto(p, tenth);
		await fireDueJobs(p.id, ["extra_refund"]);
		expect(await refundsOf(p.id)).toHaveLength(3);
		await expectLedgerBalanced();
	});

	it("sends many senders their funds in refunds of at most five transfers each", async () => {
		const m = await merchant("hold");
		const p = await bothMethods(m);
		await payCrypto(p, BigInt(p.solana.amount));
		const senders: string[] = [];
		for (let i = 0; i < 7; i++) senders.push((await payCrypto(p, 1_000_000n + BigInt(i))).payer);
		const refund = async () => {
			const res = await call("POST", "/v1/refunds", {
				key: m.sk,
				body: { payment: p.id, funds: "held" },
			});
			expect(res.status, await res.clone().text()).toBe(200);
			return json<RefundJson>(res);
		};
		const a = await refund();
		const b = await refund();
		expect(a.solana?.splits).toHaveLength(5);
		expect(b.solana?.splits).toHaveLength(2);
		const paid = [...(a.solana?.splits ?? []), ...(b.solana?.splits ?? [])];
		expect(paid.map((x) => x.recipient).sort()).toEqual([...senders].sort());
		await expectApiError(
			await call("POST", "/v1/refunds", { key: m.sk, body: { payment: p.id, funds: "held" } }),
			"payment_unexpected_state",
		);
		await consume([a.id, b.id]);
		expect(await finalize(a.id)).toMatchObject({ state: "finalized" });
		expect(await finalize(b.id)).toMatchObject({ state: "finalized" });
		expect(await holding(p, "sol")).toBe(0n);
		await expectLedgerBalanced();
	});

	it("gives each wallet of a transaction several signed back its own part", async () => {
		const m = await merchant("hold");
		const p = await bothMethods(m);
		const intentId = await openCard(p.id);
		await stripe.paymentIntents.confirm(intentId, { payment_method: "pm_card_visa" });
		await deliverAll(intentId);
		const request = parseTransferRequest(p.solana.solana_pay_url);
		const [a, b] = [await fundedPayer(), await fundedPayer()];
		const part = (payer: KeyPairSigner, amount: bigint) =>
			transferInstructions({
				payer,
				recipient: request.recipient,
				amount,
				references: request.references,
			});
		// One transaction, both sign, `a` pays the fee: 1 from `a`, 5 from `b`.
		await sendInstructions(a, [...(await part(a, 1_000_000n)), ...(await part(b, 5_000_000n))]);
		await advanceSlots(1);
		await detect(p.id);
		expect((await getPayment(m.sk, p.id)).held_funds.solana).toMatchObject({ amount: "6000000" });
		const res = await call("POST", "/v1/refunds", {
			key: m.sk,
			body: { payment: p.id, funds: "held" },
		});
		expect(res.status, await res.clone().text()).toBe(200);
		expect((await json<RefundJson>(res)).solana?.splits).toEqual([
			{ recipient: b.address, amount: "5000000" },
			{ recipient: a.address, amount: "1000000" },
		]);

		// Parts that cannot be told apart (`a` also paid someone else) are held for the operator.
		const q = await bothMethods(m);
		const qRequest = parseTransferRequest(q.solana.solana_pay_url);
		const [c, d, elsewhere] = [await fundedPayer(), await fundedPayer(), await fundedPayer()];
		await sendInstructions(c, [
			...(await transferInstructions({
				payer: c,
				recipient: qRequest.recipient,
				amount: 1_000_000n,
				references: qRequest.references,
			})),
			getTransferSolInstruction({ source: c, destination: elsewhere.address, amount: 2_000_000n }),
			...(await transferInstructions({
				payer: d,
				recipient: qRequest.recipient,
				amount: 5_000_000n,
				references: qRequest.references,
			})),
		]);
		await advanceSlots(1);
		await detect(q.id);
		const held = await json<{ data: { payment: string | null; reason: string; amount: string }[] }>(
			await call("GET", "/admin/v1/unattributed_funds?limit=100", { key: ADMIN_TOKEN }),
		);
		expect(held.data.find((x) => x.payment === q.id)).toMatchObject({
			reason: "several_senders",
			amount: "6000000",
		});
		expect((await getPayment(m.sk, q.id)).amount_received).toBe(0);
		await expectLedgerBalanced();
	});

	it("never lets a sender who empties its wallet block the others' SOL refund", async () => {
		const m = await merchant("hold");
		const p = await bothMethods(m);
		await payCrypto(p, BigInt(p.solana.amount));
		const honest = await payCrypto(p, 2_000_000n);
		// A griefer sends a little with the payment's reference and empties its wallet in the same
		// transaction: a transfer below the rent-exempt minimum can never reach it again.
		const griefer = await fundedPayer();
		const request = parseTransferRequest(p.solana.solana_pay_url);
		const balance = await lamports(griefer.address);
		await sendInstructions(griefer, [
			...(await transferInstructions({
				payer: griefer,
				recipient: request.recipient,
				amount: 100_000n,
				references: request.references,
				memo: [p.id],
			})),
			getTransferSolInstruction({
				source: griefer,
				destination: address((await fundedPayer()).address),
				amount: balance - 100_000n - 5_000n,
			}),
		]);
		await advanceSlots(1);
		await detect(p.id);
		expect(await lamports(griefer.address)).toBe(0n);
		const res = await call("POST", "/v1/refunds", {
			key: m.sk,
			body: { payment: p.id, funds: "held" },
		});
		expect(res.status, await res.clone().text()).toBe(200);
		const r = await json<RefundJson>(res);
		expect(r.solana).toMatchObject({ recipient: honest.payer, amount: "2000000" });
		await consume([r.id]);
		expect(await finalize(r.id)).toMatchObject({ state: "finalized" });
		// The griefer's share goes on its own; whatever becomes of it, nobody else waits on it.
		const alone = await json<RefundJson>(
			await call("POST", "/v1/refunds", { key: m.sk, body: { payment: p.id, funds: "held" } }),
		);
		expect(alone.solana).toMatchObject({ recipient: griefer.address, amount: "100000" });
		expect(alone.solana?.splits).toBeUndefined();
	});

	it("asks for destinations when a price paid from more wallets than one refund reaches goes back whole", async () => {
		const m = await merchant();
		const p = (await createPayment(m.sk, {
			amount: 2_500,
			payment_method_types: ["solana"],
			solana: { token: "SOL" },
		})) as Payment;
		const part = BigInt(p.solana.amount) / 6n;
		for (let i = 0; i < 5; i++) await payCrypto(p, part);
		await payCrypto(p, BigInt(p.solana.amount) - part * 5n);
		expect((await getPayment(m.sk, p.id)).status).toBe("succeeded");
		await expectApiError(
			await call("POST", "/v1/refunds", { key: m.sk, body: { payment: p.id } }),
			"parameter_missing",
			"destination",
		);
	});
});
