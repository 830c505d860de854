import { beforeAll, describe, expect, it } from "vitest";
import { call, createMerchant, expectApiError, json } from "../worker/helpers/api";
import { tokenBalance } from "../worker/helpers/ledger";
import { eventTypes } from "../worker/helpers/objects";
import {
	addDestination,
	consumePayouts,
	createPayoutOk,
	finalizePayout,
	firePayoutSender,
	getPayoutJson,
	type PayoutJson,
	payoutSender,
	payoutTransferIds,
} from "../worker/helpers/payouts";
import { advanceSlots, rpc, scanAll, setFaults, USDC_MINT } from "../worker/helpers/solana";
import { expectBooksMatchChain } from "./helpers";
import {
	available,
	lamports,
	paidMerchant,
	paidPayment,
	payoutTxsTo,
	send,
	usdcAccount,
} from "./payout-helpers";

// Watching starts here: what the suite's wallet holds before is the gateway's float.
beforeAll(scanAll);

// Each scenario pays merchants on chain first and waits for finality: seconds on a busy machine.
describe("on-chain payouts", { timeout: 30_000 }, () => {
	it("pays out USDC to a new wallet: its token account created, rent and fee charged in SOL, exactly the amount on chain", async () => {
		const { m, wallet, destination } = await paidMerchant();
		const usdc = await available(m.merchant.id, USDC_MINT);
		const sol = await available(m.merchant.id, "sol");
		expect(usdc).toBeGreaterThan(0n);
		const p = await createPayoutOk(m.sk, { amount: usdc.toString(), currency: "usdc" });
		expect(p).toMatchObject({
			amount: usdc.toString(),
			currency: USDC_MINT,
			destination: destination.id,
			method: "solana",
			status: "pending",
		});
		expect(await available(m.merchant.id, USDC_MINT)).toBe(0n);
		const sent = await send(p.id);
		expect(sent).toMatchObject({ state: "finalized", reported: true });
		expect(sent.attempts).toHaveLength(1);

		const paid = await getPayoutJson(m.sk, p.id);
		// 5000 lamports for the signature, and the rent of the wallet's new USDC account.
		const rent = BigInt(await rpc<number>("getMinimumBalanceForRentExemption", [165]));
		expect(paid).toMatchObject({
			status: "paid",
			fee: (5000n + rent).toString(),
			fee_currency: "sol",
			solana_signature: sent.signature,
			failure_code: null,
		});
		expect(await tokenBalance(wallet)).toBe(usdc);
		expect(await payoutTxsTo(await usdcAccount(wallet), p.id)).toBe(1);
		expect(await available(m.merchant.id, "sol")).toBe(sol - 5000n - rent);
		expect(await available(m.merchant.id, USDC_MINT)).toBe(0n);
		// The fee estimate (signature and rent) was reserved at creation and charged in full.
		expect(await payoutTransferIds(p.id)).toEqual([
			"fee_reserve",
			"network_fee",
			"paid",
			"reserve",
		]);
		expect(await eventTypes(p.id)).toEqual([
			"payout.created",
			"payout.updated",
			"payout.updated",
			"payout.paid",
		]);
		await expectBooksMatchChain();
	});

	it("pays out SOL: the wallet up by exactly the amount, the fee from the same balance", async () => {
		const { m, wallet } = await paidMerchant();
		const sol = await available(m.merchant.id, "sol");
		const amount = sol / 2n;
		const p = await createPayoutOk(m.sk, { amount: amount.toString(), currency: "sol" });
		expect(p.currency).toBe("sol");
		const sent = await send(p.id);
		expect(sent.state).toBe("finalized");
		expect(await lamports(wallet)).toBe(amount);
		expect(await payoutTxsTo(wallet, p.id)).toBe(1);
		expect(await getPayoutJson(m.sk, p.id)).toMatchObject({ status: "paid", fee: "5000" });
		expect(await available(m.merchant.id, "sol")).toBe(sol - amount - 5000n);
		await expectBooksMatchChain();
	});

	it("refuses a SOL payout too small to open a wallet that holds nothing", async () => {
		const { m, wallet } = await paidMerchant();
		const sol = await available(m.merchant.id, "sol");
		const minimum = BigInt(await rpc<number>("getMinimumBalanceForRentExemption", [0]));
		const res = await call("POST", "/v1/payouts", {
			key: m.sk,
			body: { amount: (minimum - 1n).toString(), currency: "sol" },
		});
		const error = await expectApiError(res, "parameter_invalid", "amount");
		expect(error.message).toContain(`at least ${minimum} lamports`);
		expect(await available(m.merchant.id, "sol")).toBe(sol);
		// Exactly the minimum opens it.
		const p = await createPayoutOk(m.sk, { amount: minimum.toString(), currency: "sol" });
		expect((await send(p.id)).state).toBe("finalized");
		expect(await lamports(wallet)).toBe(minimum);
		await expectBooksMatchChain();
	});

	it("refuses a token payout when the SOL balance cannot pay its network fee, naming the shortfall", async () => {
		const m = await createMerchant();
		await paidPayment(m.sk, "USDC");
		await addDestination(m.merchant.id, { type: "solana_wallet" });
		const res = await call("POST", "/v1/payouts", {
			key: m.sk,
			body: { amount: "1000000", currency: "usdc" },
		});
		const error = await expectApiError(res, "parameter_invalid", "amount");
		expect(error.message).toMatch(/SOL for the network fee.*short by \d+/);
		await expectBooksMatchChain();
	});

	it("answers 503 while the chain cannot be read, reserving nothing", async () => {
		const { m } = await paidMerchant();
		const usdc = await available(m.merchant.id, USDC_MINT);
		await setFaults({ outage: true });
		let res: Response;
		try {
			res = await call("POST", "/v1/payouts", {
				key: m.sk,
				body: { amount: usdc.toString(), currency: "usdc" },
			});
		} finally {
			await setFaults({});
		}
		await expectApiError(res, "service_unavailable");
		expect(await available(m.merchant.id, USDC_MINT)).toBe(usdc);
		await expectBooksMatchChain();
	});

	it("survives an RPC outage mid-payout: retried by the sender, paid exactly once", async () => {
		const { m, wallet } = await paidMerchant();
		const usdc = await available(m.merchant.id, USDC_MINT);
		const p = await createPayoutOk(m.sk, { amount: usdc.toString(), currency: USDC_MINT });
		await setFaults({ outage: true });
		try {
			// The queue hands it to the sender, which cannot reach the chain to build: it looks again.
			const result = await consumePayouts([p.id]);
			expect(result.explicitAcks).toHaveLength(1);
			const waiting = await payoutSender(p.id).status();
			expect(waiting).toMatchObject({ state: "sending", attempts: [] });
			expect((await firePayoutSender(p.id)).state).toBe("sending");
		} finally {
			await setFaults({});
		}
		expect((await getPayoutJson(m.sk, p.id)).status).toBe("in_transit");
		// Broadcast, then the chain goes away again before the sender learns the outcome.
		await firePayoutSender(p.id);
		await setFaults({ outage: true });
		try {
			await advanceSlots(3);
			expect((await firePayoutSender(p.id)).state).toBe("sending");
		} finally {
			await setFaults({});
		}
		const done = await finalizePayout(p.id);
		expect(done.state).toBe("finalized");
		expect(done.attempts).toHaveLength(1);
		expect(await tokenBalance(wallet)).toBe(usdc);
		expect(await payoutTxsTo(await usdcAccount(wallet), p.id)).toBe(1);
		expect((await getPayoutJson(m.sk, p.id)).status).toBe("paid");
		await expectBooksMatchChain();
	});

	it("re-sends a dropped transaction's same bytes, builds a new one only once the first is proven dead, and pays once", async () => {
		const { m, wallet } = await paidMerchant();
		const usdc = await available(m.merchant.id, USDC_MINT);
		const p = await createPayoutOk(m.sk, { amount: usdc.toString(), currency: "usdc" });
		await setFaults({ dropTransactions: 1 });
		try {
			await consumePayouts([p.id]);
			await advanceSlots(2);
			const resent = await firePayoutSender(p.id);
			expect(resent.attempts).toHaveLength(1);
			expect(resent.attempts[0]?.broadcasts).toBeGreaterThanOrEqual(2);
			// Past lastValidBlockHeight at finalized: the dropped transaction can never land now.
			await advanceSlots(160);
		} finally {
			await setFaults({});
		}
		const rebuilt = await firePayoutSender(p.id);
		expect(rebuilt.attempts.map((a) => a.state)).toEqual(["expired", "open"]);
		const done = await finalizePayout(p.id);
		expect(done.attempts.map((a) => a.state)).toEqual(["expired", "landed"]);
		const statuses = await rpc<{ value: unknown[] }>("getSignatureStatuses", [
			done.attempts.map((a) => a.signature),
			{ searchTransactionHistory: true },
		]);
		expect(statuses.value[0]).toBeNull();
		expect(statuses.value[1]).not.toBeNull();
		expect(await tokenBalance(wallet)).toBe(usdc);
		expect(await payoutTxsTo(await usdcAccount(wallet), p.id)).toBe(1);
		expect(await getPayoutJson(m.sk, p.id)).toMatchObject({
			status: "paid",
			solana_signature: done.attempts[1]?.signature,
		});
		await expectBooksMatchChain();
	});

	it("lets only one of two USDC payouts racing for the same balance through, and pays it", async () => {
		const { m, wallet } = await paidMerchant();
		const usdc = await available(m.merchant.id, USDC_MINT);
		const share = ((usdc * 6n) / 10n).toString();
		const [a, b] = await Promise.all([
			call("POST", "/v1/payouts", { key: m.sk, body: { amount: share, currency: "usdc" } }),
			call("POST", "/v1/payouts", { key: m.sk, body: { amount: share, currency: "usdc" } }),
		]);
		expect([a.status, b.status].sort()).toEqual([200, 400]);
		const won = await json<PayoutJson>(a.status === 200 ? a : b);
		await expectApiError(a.status === 200 ? b : a, "parameter_invalid", "amount");
		expect(await available(m.merchant.id, USDC_MINT)).toBe(usdc - BigInt(share));
		expect((await send(won.id)).state).toBe("finalized");
		expect(await tokenBalance(wallet)).toBe(BigInt(share));
		await expectBooksMatchChain();
	});

	it("lets exactly one of a cancel and the send racing for a pending payout win", async () => {
		const outcomes: string[] = [];
		for (let i = 0; i < 3; i++) {
			const { m, wallet } = await paidMerchant();
			const usdc = await available(m.merchant.id, USDC_MINT);
			const p = await createPayoutOk(m.sk, { amount: usdc.toString(), currency: "usdc" });
			const [cancel] = await Promise.all([
				call("POST", `/v1/payouts/${p.id}/cancel`, { key: m.sk }),
				consumePayouts([p.id]),
			]);
			if (cancel.status === 200) {
				outcomes.push("canceled");
				expect((await json<PayoutJson>(cancel)).status).toBe("canceled");
				expect((await payoutSender(p.id).status()).state).toBeNull();
				expect(await available(m.merchant.id, USDC_MINT)).toBe(usdc);
				expect(await payoutTransferIds(p.id)).toEqual([
					"fee_reserve",
					"fee_return",
					"reserve",
					"reversal",
				]);
			} else {
				outcomes.push("sent");
				await expectApiError(cancel, "resource_conflict");
				expect((await finalizePayout(p.id)).state).toBe("finalized");
				expect(await tokenBalance(wallet)).toBe(usdc);
				expect((await getPayoutJson(m.sk, p.id)).status).toBe("paid");
			}
			const final = await getPayoutJson(m.sk, p.id);
			expect(["canceled", "paid"]).toContain(final.status);
			expect(await eventTypes(p.id)).not.toEqual(
				expect.arrayContaining(["payout.canceled", "payout.paid"]),
			);
		}
		expect(outcomes).toHaveLength(3);
		await expectBooksMatchChain();
	});
});
