import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { accounts } from "../../src/domain/ledger";
import type { Env } from "../../src/env";
import { resendStalledPayouts, STALLED_PAYOUT_AGES_SECONDS } from "../../src/services/payout-send";
import {
	call,
	createMerchant,
	createPayment,
	expectApiError,
	json,
	type ListJson,
} from "./helpers/api";
import { accountBalance, expectLedgerBalanced } from "./helpers/ledger";
import { eventTypes } from "./helpers/objects";
import {
	addDestination,
	consumePayouts,
	createPayoutOk,
	creditAvailable,
	getPayoutJson,
	type PayoutJson,
	payoutSender,
	payoutTransferIds,
} from "./helpers/payouts";
import { payTransferRequestInFull, rpc, USDC_MINT } from "./helpers/solana";
import { captureQueue, createEndpoint, sink } from "./helpers/webhooks";

const available = (merchantId: string, currency: string) =>
	accountBalance(accounts.merchantAvailable(merchantId, false, currency));
const inTransit = (currency: string) => accountBalance(accounts.payoutsInTransit(false, currency));

/** A merchant with a connected account as its fiat destination and `usd` available. */
async function fiatMerchant(usd = 10_000n) {
	const m = await createMerchant();
	const destination = await addDestination(m.merchant.id, {
		type: "stripe_account",
		stripeAccount: "acct_payouts_test",
	});
	if (usd > 0n) await creditAvailable(m.merchant.id, "usd", usd);
	return { m, destination };
}

describe("creating payouts", () => {
	it("reserves the amount at once: available down, payouts in transit up, payout.created", async () => {
		const { m, destination } = await fiatMerchant(10_000n);
		const before = await inTransit("usd");
		const p = await createPayoutOk(m.sk, { amount: 2_500, currency: "usd" });
		expect(p).toMatchObject({
			object: "payout",
			livemode: false,
			amount: 2_500,
			currency: "usd",
			destination: destination.id,
			method: "stripe",
			status: "pending",
			automatic: false,
			fee: null,
		});
		expect(p.id).toMatch(/^po_/);
		expect(await available(m.merchant.id, "usd")).toBe(7_500n);
		expect((await inTransit("usd")) - before).toBe(2_500n);
		expect(await payoutTransferIds(p.id)).toEqual(["reserve"]);
		expect(await eventTypes(p.id)).toEqual(["payout.created"]);
		expect(await getPayoutJson(m.sk, p.id)).toEqual(p);
		// A manual payout is in the audit log, with the key that made it.
		const audit = await env.DB.prepare(
			"SELECT action FROM audit_log WHERE object_id = ? ORDER BY id",
		)
			.bind(p.id)
			.all<{ action: string }>();
		expect(audit.results.map((r) => r.action)).toEqual(["payout.created"]);
		await expectLedgerBalanced();
	});

	it("accepts a fiat amount as a string of digits, and replays an Idempotency-Key without reserving twice", async () => {
		const { m } = await fiatMerchant(5_000n);
		const headers = { "Idempotency-Key": "payout-once-1" };
		const first = await createPayoutOk(m.sk, { amount: "1500", currency: "usd" }, headers);
		const again = await createPayoutOk(m.sk, { amount: "1500", currency: "usd" }, headers);
		expect(again.id).toBe(first.id);
		expect(await available(m.merchant.id, "usd")).toBe(3_500n);
	});

	it("refuses a payout larger than the available balance, naming the shortfall", async () => {
		const { m } = await fiatMerchant(1_000n);
		const res = await call("POST", "/v1/payouts", {
			key: m.sk,
			body: { amount: 1_250, currency: "usd" },
		});
		const error = await expectApiError(res, "parameter_invalid", "amount");
		expect(error.message).toMatch(/1000 usd minor units available.*short by 250/);
		expect(await available(m.merchant.id, "usd")).toBe(1_000n);
		const rows = await env.DB.prepare("SELECT COUNT(*) AS n FROM payouts WHERE merchant_id = ?")
			.bind(m.merchant.id)
			.first<{ n: number }>();
		expect(rows?.n).toBe(0);
		await expectLedgerBalanced();
	});

	it("never pays out what a pending refund of received funds will take from available", async () => {
		const m = await createMerchant();
		const payment = (await createPayment(m.sk, {
			amount: 5_000,
			payment_method_types: ["solana"],
			solana: { token: "SOL" },
		})) as Awaited<ReturnType<typeof createPayment>> & {
			solana: { solana_pay_url: string; amount: string };
		};
		await rpc("requestAirdrop", [env.SOLANA_SETTLEMENT_WALLET, 10_000_000_000]);
		await payTransferRequestInFull(payment);
		await addDestination(m.merchant.id, { type: "solana_wallet" });
		const sol = await available(m.merchant.id, "sol");
		expect(sol).toBeGreaterThan(0n);
		// Half the price goes back to the payer: the refund is pending (its queue is not consumed).
		const refundRes = await call("POST", "/v1/refunds", {
			key: m.sk,
			body: { payment: payment.id, amount: 2_500 },
		});
		expect(refundRes.status, await refundRes.clone().text()).toBe(200);
		const refund = await json<{ status: string; solana: { amount: string } }>(refundRes);
		expect(refund.status).toBe("pending");
		const refunding = BigInt(refund.solana.amount);
		const all = await call("POST", "/v1/payouts", {
			key: m.sk,
			body: { amount: (sol - 5_000n).toString(), currency: "sol" },
		});
		const error = await expectApiError(all, "parameter_invalid", "amount");
		expect(error.message).toContain(
			`${refunding} base units of SOL more are set aside for pending refunds`,
		);
		expect(await available(m.merchant.id, "sol")).toBe(sol);
		// What the refund leaves can be paid out.
		const rest = await createPayoutOk(m.sk, {
			amount: (sol - refunding - 5_000n).toString(),
			currency: "sol",
		});
		expect(rest.status).toBe("pending");
		await expectLedgerBalanced();
	});

	it("never lets payouts racing for the same balance take more than is available", async () => {
		const { m } = await fiatMerchant(1_000n);
		const results = await Promise.all(
			Array.from({ length: 6 }, () =>
				call("POST", "/v1/payouts", { key: m.sk, body: { amount: 400, currency: "usd" } }),
			),
		);
		const statuses = results.map((r) => r.status).sort();
		expect(statuses).toEqual([200, 200, 400, 400, 400, 400]);
		expect(await available(m.merchant.id, "usd")).toBe(200n);
		const { results: reserved } = await env.DB.prepare(
			"SELECT amount FROM payouts WHERE merchant_id = ?",
		)
			.bind(m.merchant.id)
			.all<{ amount: string }>();
		expect(reserved.map((r) => r.amount)).toEqual(["400", "400"]);
		await expectLedgerBalanced();
	});

	it("refuses hostile amounts and currencies without reserving anything", async () => {
		const { m } = await fiatMerchant(1_000_000n);
		const bad: [Record<string, unknown>, string][] = [
			[{ amount: -100, currency: "usd" }, "amount"],
			[{ amount: "-100", currency: "usd" }, "amount"],
			[{ amount: 0, currency: "usd" }, "amount"],
			[{ amount: 10.5, currency: "usd" }, "amount"],
			[{ amount: "10.50", currency: "usd" }, "amount"],
			[{ amount: "1e3", currency: "usd" }, "amount"],
			[{ amount: 1e21, currency: "usd" }, "amount"],
			[{ amount: "99999999999999999999999999", currency: "usd" }, "amount"],
			[{ amount: "1000000000000", currency: "usd" }, "amount"],
			[{ amount: "100", currency: "xyz" }, "currency"],
			[{ amount: "100", currency: "USD" }, "currency"],
			[{ amount: "100", currency: "FakeUSDCSandboxMint111111111111111111111111" }, "currency"],
			[{ amount: "100", currency: "__proto__" }, "currency"],
		];
		for (const [body, param] of bad) {
			const res = await call("POST", "/v1/payouts", { key: m.sk, body });
			const error = await expectApiError(res, "parameter_invalid", param);
			expect(error.message, JSON.stringify(body)).toMatch(/\S/);
		}
		for (const body of [
			{ currency: "usd" },
			{ amount: 100 },
			{ amount: 100, currency: "usd", extra: 1 },
		]) {
			const res = await call("POST", "/v1/payouts", { key: m.sk, body });
			expect(res.status, JSON.stringify(body)).toBe(400);
		}
		expect(await available(m.merchant.id, "usd")).toBe(1_000_000n);
	});

	it("refuses destinations that cannot take the payout: another merchant's, removed, cooling off, onboarding, the wrong kind, none", async () => {
		const { m } = await fiatMerchant(100_000n);
		const other = await createMerchant();
		const theirs = await addDestination(other.merchant.id, { type: "stripe_account" });
		const removed = await addDestination(m.merchant.id, {
			type: "stripe_account",
			status: "removed",
		});
		const cooling = await addDestination(m.merchant.id, {
			type: "stripe_account",
			usableAfter: Math.floor(Date.now() / 1000) + 86_400,
		});
		const onboarding = await addDestination(m.merchant.id, {
			type: "stripe_account",
			status: "onboarding",
		});
		const wallet = await addDestination(m.merchant.id, { type: "solana_wallet" });
		const body = (destination: string) => ({ amount: 100, currency: "usd", destination });
		const post = (b: unknown) => call("POST", "/v1/payouts", { key: m.sk, body: b });
		await expectApiError(await post(body(theirs.id)), "resource_missing", "destination");
		await expectApiError(await post(body("pd_nonsense")), "resource_missing", "destination");
		await expectApiError(await post(body(removed.id)), "parameter_invalid", "destination");
		const coolingError = await expectApiError(
			await post(body(cooling.id)),
			"resource_conflict",
			"destination",
		);
		expect(coolingError.message).toMatch(/cooling-off/);
		await expectApiError(await post(body(onboarding.id)), "resource_conflict", "destination");
		await expectApiError(await post(body(wallet.id)), "parameter_invalid", "destination");
		// A merchant whose only wallet is its only token destination, but with no fiat one at all.
		const lone = await createMerchant();
		await creditAvailable(lone.merchant.id, "usd", 1_000n);
		await expectApiError(
			await call("POST", "/v1/payouts", { key: lone.sk, body: { amount: 100, currency: "usd" } }),
			"parameter_missing",
			"destination",
		);
		expect(await available(m.merchant.id, "usd")).toBe(100_000n);
	});
});

describe("canceling payouts", () => {
	it("cancels a pending payout: the reservation reversed to available, events and audit", async () => {
		const { m } = await fiatMerchant(3_000n);
		const p = await createPayoutOk(m.sk, { amount: 2_000, currency: "usd" });
		const res = await call("POST", `/v1/payouts/${p.id}/cancel`, { key: m.sk });
		expect(res.status, await res.clone().text()).toBe(200);
		expect(await json<PayoutJson>(res)).toMatchObject({ id: p.id, status: "canceled" });
		expect(await available(m.merchant.id, "usd")).toBe(3_000n);
		expect(await payoutTransferIds(p.id)).toEqual(["reserve", "reversal"]);
		expect(await eventTypes(p.id)).toEqual(["payout.created", "payout.updated", "payout.canceled"]);
		// Again: 409, nothing reversed twice.
		const again = await call("POST", `/v1/payouts/${p.id}/cancel`, { key: m.sk });
		await expectApiError(again, "resource_conflict");
		expect(await available(m.merchant.id, "usd")).toBe(3_000n);
		// The queue's later message sends nothing.
		const result = await consumePayouts([p.id]);
		expect(result.explicitAcks).toEqual([expect.any(String)]);
		expect((await getPayoutJson(m.sk, p.id)).status).toBe("canceled");
		await expectLedgerBalanced();
	});

	it("delivers payout.created and payout.canceled to a webhook endpoint subscribed to them", async () => {
		const { m } = await fiatMerchant(1_000n);
		const receiver = sink();
		await createEndpoint(m.sk, {
			url: receiver.url,
			enabled_events: ["payout.created", "payout.canceled"],
		});
		const p = await createPayoutOk(m.sk, { amount: 700, currency: "usd" });
		await call("POST", `/v1/payouts/${p.id}/cancel`, { key: m.sk });
		const got = await receiver.waitFor(2);
		const events = got.map(
			(r) =>
				JSON.parse(r.body) as { type: string; data: { object: { id: string; status: string } } },
		);
		expect(events.map((e) => [e.type, e.data.object.id, e.data.object.status]).sort()).toEqual([
			["payout.canceled", p.id, "canceled"],
			["payout.created", p.id, "pending"],
		]);
	});

	it("answers 404 for another merchant's payout and for an unknown id", async () => {
		const { m } = await fiatMerchant(1_000n);
		const p = await createPayoutOk(m.sk, { amount: 100, currency: "usd" });
		const other = await createMerchant();
		await expectApiError(
			await call("GET", `/v1/payouts/${p.id}`, { key: other.sk }),
			"resource_missing",
			"id",
		);
		await expectApiError(
			await call("POST", `/v1/payouts/${p.id}/cancel`, { key: other.sk }),
			"resource_missing",
			"id",
		);
		await expectApiError(
			await call("GET", "/v1/payouts/po_nope", { key: m.sk }),
			"resource_missing",
			"id",
		);
		expect((await getPayoutJson(m.sk, p.id)).status).toBe("pending");
	});
});

describe("listing payouts", () => {
	it("lists newest first with a cursor and filters by status, destination and currency", async () => {
		const { m, destination } = await fiatMerchant(10_000n);
		const a = await createPayoutOk(m.sk, { amount: 100, currency: "usd" });
		const b = await createPayoutOk(m.sk, { amount: 200, currency: "usd" });
		const c = await createPayoutOk(m.sk, { amount: 300, currency: "usd" });
		await call("POST", `/v1/payouts/${b.id}/cancel`, { key: m.sk });
		const list = async (query: string) => {
			const res = await call("GET", `/v1/payouts${query}`, { key: m.sk });
			expect(res.status, await res.clone().text()).toBe(200);
			return json<ListJson<PayoutJson>>(res);
		};
		expect((await list("")).data.map((p) => p.id)).toEqual([c.id, b.id, a.id]);
		const first = await list("?limit=2");
		expect(first.has_more).toBe(true);
		expect(
			(await list(`?limit=2&starting_after=${first.data[1]?.id}`)).data.map((p) => p.id),
		).toEqual([a.id]);
		expect((await list("?status=canceled")).data.map((p) => p.id)).toEqual([b.id]);
		expect((await list(`?destination=${destination.id}`)).data).toHaveLength(3);
		expect((await list("?currency=usd")).data).toHaveLength(3);
		expect((await list(`?currency=${USDC_MINT}`)).data).toHaveLength(0);
		expect((await list("?currency=usdc")).data).toHaveLength(0);
		expect((await list(`?created[gte]=${a.created}`)).data).toHaveLength(3);
		expect((await list(`?created[gt]=${c.created + 1}`)).data).toEqual([]);
		expect((await list(`?created[lt]=${a.created}`)).data).toEqual([]);
		const bad = await call("GET", "/v1/payouts?status=lost", { key: m.sk });
		expect(bad.status).toBe(400);
		// Another merchant sees none of them.
		const other = await createMerchant();
		const theirs = await call("GET", "/v1/payouts", { key: other.sk });
		expect((await json<ListJson<PayoutJson>>(theirs)).data).toEqual([]);
	});
});

describe("the send step", () => {
	it("acknowledges a message for an unknown payout and a malformed one without doing anything", async () => {
		const result = await consumePayouts(["po_01JD4X7K3M9ZQ8W6V5T4S3R2P1N0M9"]);
		expect(result.explicitAcks).toHaveLength(1);
		const ns = env.PAYOUTS as NonNullable<typeof env.PAYOUTS>;
		expect(ns).toBeDefined();
		expect((await payoutSender("po_01JD4X7K3M9ZQ8W6V5T4S3R2P1N0M9").status()).state).toBeNull();
	});

	it("sends a payout still pending at 10 minutes and at 2 hours to the queue once more each", async () => {
		const { m } = await fiatMerchant(1_000n);
		const p = await createPayoutOk(m.sk, { amount: 500, currency: "usd" });
		const sweep = async (at: number) => {
			const q = captureQueue();
			await resendStalledPayouts({ ...env, PAYOUTS_QUEUE: q.queue } as Env, at);
			return q.sent;
		};
		const message = { kind: "payout", payout_id: p.id };
		const [tenMinutes, twoHours] = STALLED_PAYOUT_AGES_SECONDS;
		expect(await sweep(p.created + 300)).not.toContainEqual(message);
		expect(await sweep(p.created + tenMinutes + 30)).toContainEqual(message);
		expect(await sweep(p.created + tenMinutes + 90)).not.toContainEqual(message);
		expect(await sweep(p.created + twoHours + 30)).toContainEqual(message);
		// Canceled, it is never sent again.
		await call("POST", `/v1/payouts/${p.id}/cancel`, { key: m.sk });
		expect(await sweep(p.created + twoHours + 30)).not.toContainEqual(message);
	});
});

describe("the settlement account on chain", () => {
	it("refuses a token payout the settlement account cannot cover on chain, reserving nothing", async () => {
		const m = await createMerchant();
		// More USDC than the settlement wallet holds, as a conversion into USDC could leave it.
		await creditAvailable(m.merchant.id, USDC_MINT, 10n ** 15n);
		await creditAvailable(m.merchant.id, "sol", 10n ** 9n);
		await addDestination(m.merchant.id, { type: "solana_wallet" });
		const res = await call("POST", "/v1/payouts", {
			key: m.sk,
			body: { amount: (10n ** 15n).toString(), currency: "usdc" },
		});
		const error = await expectApiError(res, "resource_conflict", "amount");
		expect(error.message).toMatch(/cannot cover this payout on chain/);
		expect(await available(m.merchant.id, USDC_MINT)).toBe(10n ** 15n);
		await expectLedgerBalanced();
	});
});
