import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { insertPayoutGuarded, isGuardRefusal } from "../../src/db/payouts";
import { newId } from "../../src/domain/ids";
import { accounts } from "../../src/domain/ledger";
import type { PayoutRecord } from "../../src/domain/payout";
import { call, createMerchant, expectApiError, json } from "./helpers/api";
import { accountBalance, expectLedgerBalanced } from "./helpers/ledger";
import { eventTypes } from "./helpers/objects";
import {
	addDestination,
	consumePayouts,
	createPayoutOk,
	creditAvailable,
	getPayoutJson,
	type PayoutJson,
	payoutTransferIds,
} from "./helpers/payouts";

const available = (merchantId: string) =>
	accountBalance(accounts.merchantAvailable(merchantId, false, "usd"));

async function fiatMerchant() {
	const m = await createMerchant();
	const destination = await addDestination(m.merchant.id, {
		type: "stripe_account",
		stripeAccount: "acct_payout_races",
	});
	await creditAvailable(m.merchant.id, "usd", 10_000n);
	return { m, destination };
}

describe("a payout's destination going away", () => {
	it("the reservation's guard refuses a destination no longer active, whatever was read before", async () => {
		const { m, destination } = await fiatMerchant();
		const now = Math.floor(Date.now() / 1000);
		const payout: PayoutRecord = {
			id: newId("payout"),
			merchant_id: m.merchant.id,
			livemode: false,
			amount: "100",
			currency: "usd",
			destination_id: destination.id,
			method: "stripe",
			status: "pending",
			automatic: false,
			fee: null,
			fee_currency: null,
			failure_code: null,
			failure_message: null,
			solana_signature: null,
			stripe_transfer_id: null,
			fee_reserved: null,
			creates_token_account: false,
			amount_reversed: "0",
			version: 1,
			created: now,
			updated: now,
		};
		const need = { amount: 100n, solFee: 0n };
		// Removed after the create step read it usable: the insert itself refuses.
		const removal = await call("DELETE", `/v1/payout_destinations/${destination.id}`, {
			key: m.sk,
		});
		expect(removal.status).toBe(200);
		const refused = await env.DB.batch([insertPayoutGuarded(env.DB, payout, need)]).then(
			() => null,
			(err: unknown) => err,
		);
		expect(isGuardRefusal(refused)).toBe(true);
		expect(
			await env.DB.prepare("SELECT id FROM payouts WHERE id = ?").bind(payout.id).first(),
		).toBeNull();
	});

	it("of a payout and the removal of its destination racing, exactly one wins", async () => {
		for (let i = 0; i < 4; i++) {
			const { m, destination } = await fiatMerchant();
			const [created, removed] = await Promise.all([
				call("POST", "/v1/payouts", {
					key: m.sk,
					body: { amount: 2_500, currency: "usd", destination: destination.id },
				}),
				call("DELETE", `/v1/payout_destinations/${destination.id}`, { key: m.sk }),
			]);
			if (created.status === 200) {
				await expectApiError(removed, "resource_conflict", "id");
				expect((await json<PayoutJson>(created)).destination).toBe(destination.id);
				expect(await available(m.merchant.id)).toBe(7_500n);
			} else {
				expect(removed.status).toBe(200);
				const error = await expectApiError(created, "parameter_invalid", "destination");
				expect(error.message).toContain("was removed");
				expect(await available(m.merchant.id)).toBe(10_000n);
				const { results } = await env.DB.prepare("SELECT id FROM payouts WHERE merchant_id = ?")
					.bind(m.merchant.id)
					.all();
				expect(results).toEqual([]);
			}
		}
		await expectLedgerBalanced();
	});

	for (const change of ["removed", "onboarding"] as const) {
		it(`fails a pending payout unsent, funds back, when its destination is ${change} before the send`, async () => {
			const { m, destination } = await fiatMerchant();
			const p = await createPayoutOk(m.sk, { amount: 2_500, currency: "usd" });
			// The API refuses to remove a destination a pending payout uses; an operator, or Stripe
			// restricting the connected account (back to onboarding), can still take it away.
			await env.DB.prepare(
				"UPDATE payout_destinations SET status = ?, removed = CASE WHEN ? = 'removed' THEN ? END WHERE id = ?",
			)
				.bind(change, change, Math.floor(Date.now() / 1000), destination.id)
				.run();
			await consumePayouts([p.id]);
			const failed = await getPayoutJson(m.sk, p.id);
			expect(failed).toMatchObject({
				status: "failed",
				failure_code: "destination_unavailable",
				stripe_transfer: null,
			});
			expect(failed.failure_message).toContain(destination.id);
			expect(await available(m.merchant.id)).toBe(10_000n);
			expect(await payoutTransferIds(p.id)).toEqual(["reserve", "reversal"]);
			expect(await eventTypes(p.id)).toEqual(["payout.created", "payout.updated", "payout.failed"]);
			await expectLedgerBalanced();
		});
	}
});
