import { env } from "cloudflare:workers";
import { generateKeyPairSigner } from "@solana/kit";
import { describe, expect, it } from "vitest";
import { freeBalance, getBalanceHold } from "../../src/db/balance-holds";
import { accounts } from "../../src/domain/ledger";
import type { SolanaPaymentDetails } from "../../src/domain/payment";
import type { RefundJson } from "../../src/domain/refund";
import { parseTransferRequest } from "../../src/domain/solana-pay";
import {
	call,
	createMerchant,
	createPayment,
	expectApiError,
	json,
	type PaymentJson,
} from "../worker/helpers/api";
import { expectLedgerBalanced, tokenBalance } from "../worker/helpers/ledger";
import { addDestination, createPayoutOk } from "../worker/helpers/payouts";
import { consume, finalize } from "../worker/helpers/refunds";
import {
	advanceSlots,
	detect,
	fundedPayer,
	sendTransfer,
	USDC_MINT,
} from "../worker/helpers/solana";
import { chainHolding, expectBooksMatchChain } from "./helpers";
import { available, paidPayment, send, USDC } from "./payout-helpers";

type SolanaPayment = PaymentJson & { solana: SolanaPaymentDetails };

/** A USDC payment of `amount` cents paid in full on chain by a fresh wallet, and booked. */
async function paidUsdc(key: string, amount: number) {
	const p = (await createPayment(key, {
		amount,
		payment_method_types: ["solana"],
		solana: { token: "USDC" },
	})) as SolanaPayment;
	const request = parseTransferRequest(p.solana.solana_pay_url);
	const owed = BigInt(p.solana.amount);
	const payer = await fundedPayer([{ mint: USDC_MINT, amount: owed }]);
	await sendTransfer({
		payer,
		recipient: request.recipient,
		amount: owed,
		mint: USDC,
		references: request.references,
		memo: request.memo ? [request.memo] : [],
	});
	await advanceSlots(1);
	await detect(p.id);
	return { p, payer: payer.address, owed };
}

async function getRefund(key: string, id: string): Promise<RefundJson> {
	const res = await call("GET", `/v1/refunds/${id}`, { key });
	expect(res.status, await res.clone().text()).toBe(200);
	return json<RefundJson>(res);
}

describe("crypto refunds need the merchant's available balance", () => {
	it("refuses a full USDC refund to a named wallet once the payment's funds are paid out: 400 balance_insufficient, nothing sent", async () => {
		const m = await createMerchant();
		const { p } = await paidUsdc(m.sk, 5_000);
		// SOL for the token payout's network fee.
		await paidPayment(m.sk, "SOL");
		await addDestination(m.merchant.id, { type: "solana_wallet" });
		const usdc = await available(m.merchant.id, USDC_MINT);
		const payout = await createPayoutOk(m.sk, { amount: usdc.toString(), currency: USDC_MINT });
		expect((await send(payout.id)).state).toBe("finalized");
		expect(await available(m.merchant.id, USDC_MINT)).toBe(0n);
		const onChain = await chainHolding(USDC_MINT);
		const sol = await available(m.merchant.id, "sol");

		const attacker = (await generateKeyPairSigner()).address;
		const res = await call("POST", "/v1/refunds", {
			key: m.sk,
			body: { payment: p.id, destination: attacker },
		});
		const error = await expectApiError(res, "balance_insufficient", "amount");
		expect(error.message).toContain("base units of USDC");
		expect(error.message).toContain(`short by ${usdc} base units of USDC`);

		expect(await chainHolding(USDC_MINT)).toBe(onChain);
		expect(await available(m.merchant.id, USDC_MINT)).toBe(0n);
		expect(await available(m.merchant.id, "sol")).toBe(sol);
		const refunds = await call("GET", `/v1/refunds?payment=${p.id}`, { key: m.sk });
		expect((await json<{ data: unknown[] }>(refunds)).data).toEqual([]);
		await expectLedgerBalanced();
		await expectBooksMatchChain();
	});

	it("lets a USDC refund and a payout race for the same funds: never both, on chain or in the books", async () => {
		for (let round = 0; round < 2; round++) {
			for (const order of ["together", "send-vs-payout"] as const) {
				const label = `${order} round ${round}`;
				const m = await createMerchant();
				const { p, owed } = await paidUsdc(m.sk, 3_000);
				await paidPayment(m.sk, "SOL");
				await addDestination(m.merchant.id, { type: "solana_wallet" });
				const usdc = await available(m.merchant.id, USDC_MINT);
				const onChain = await chainHolding(USDC_MINT);
				const payoutBody = { amount: usdc.toString(), currency: USDC_MINT };
				let refundId: string | null = null;
				let payoutRes: Response;
				if (order === "together") {
					const [r, po] = await Promise.all([
						call("POST", "/v1/refunds", { key: m.sk, body: { payment: p.id } }),
						call("POST", "/v1/payouts", { key: m.sk, body: payoutBody }),
					]);
					if (r.status === 200) refundId = (await json<RefundJson>(r)).id;
					else await expectApiError(r, "balance_insufficient", "amount");
					payoutRes = po;
					if (refundId) await consume([refundId]);
				} else {
					const r = await call("POST", "/v1/refunds", { key: m.sk, body: { payment: p.id } });
					expect(r.status, await r.clone().text()).toBe(200);
					refundId = (await json<RefundJson>(r)).id;
					[, payoutRes] = await Promise.all([
						consume([refundId]),
						call("POST", "/v1/payouts", { key: m.sk, body: payoutBody }),
					]);
				}
				if (refundId && (await getRefund(m.sk, refundId)).status === "pending") {
					expect((await finalize(refundId)).state, label).toBe("finalized");
				}
				const payoutOk = payoutRes.status === 200;
				if (payoutOk) {
					const { id } = await json<{ id: string }>(payoutRes);
					expect((await send(id)).state, label).toBe("finalized");
				} else {
					await expectApiError(payoutRes, "parameter_invalid", "amount");
				}
				const refund = refundId ? await getRefund(m.sk, refundId) : null;
				const refunded = refund?.status === "succeeded";
				expect(payoutOk && refunded, label).toBe(false);
				expect(payoutOk || refunded, `${label}: one goes through`).toBe(true);
				if (refund && !refunded) {
					expect(refund, label).toMatchObject({
						status: "failed",
						failure_reason: "insufficient_funds",
					});
				}
				// What left the settlement wallet is one of them, never both.
				expect(await chainHolding(USDC_MINT), label).toBe(onChain - (refunded ? owed : usdc));
				// Below zero by the gateway fee at most (a full refund gives it back).
				expect(await available(m.merchant.id, USDC_MINT), label).toBeGreaterThanOrEqual(
					usdc - owed,
				);
			}
		}
		await expectLedgerBalanced();
		await expectBooksMatchChain();
	});

	it("refunds USDC in full with no payouts; while it is on its way a payout cannot take it, and its hold stops counting once booked", async () => {
		const m = await createMerchant();
		const { p, payer, owed } = await paidUsdc(m.sk, 5_000);
		await paidPayment(m.sk, "SOL");
		await addDestination(m.merchant.id, { type: "solana_wallet" });
		const account = accounts.merchantAvailable(m.merchant.id, false, USDC_MINT);
		const usdc = await available(m.merchant.id, USDC_MINT);
		const payerBefore = await tokenBalance(payer);

		const created = await call("POST", "/v1/refunds", { key: m.sk, body: { payment: p.id } });
		expect(created.status, await created.clone().text()).toBe(200);
		const r = await json<RefundJson>(created);
		await consume([r.id]);
		// Handed to its sender, not final yet: the hold is in place, and counted once.
		expect((await getRefund(m.sk, r.id)).status).toBe("pending");
		expect(await getBalanceHold(env.DB, r.id)).toMatchObject({
			account,
			amount: owed.toString(),
			transfer_id: `${r.id}:refund`,
			released: null,
		});
		expect(await freeBalance(env.DB, account)).toBe(usdc - owed);
		const payout = await call("POST", "/v1/payouts", {
			key: m.sk,
			body: { amount: "1", currency: USDC_MINT },
		});
		const error = await expectApiError(payout, "parameter_invalid", "amount");
		expect(error.message).toContain(`${owed} base units of USDC more are set aside`);

		expect((await finalize(r.id)).state).toBe("finalized");
		expect((await getRefund(m.sk, r.id)).status).toBe("succeeded");
		expect(await tokenBalance(payer)).toBe(payerBefore + owed);
		expect(await available(m.merchant.id, USDC_MINT)).toBe(usdc - owed);
		// The debit is booked: the hold no longer counts on top of it.
		expect(await freeBalance(env.DB, account)).toBe(usdc - owed);
		await expectLedgerBalanced();
		await expectBooksMatchChain();
	});
});
