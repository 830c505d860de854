import { address, type KeyPairSigner } from "@solana/kit";
import {
	getCloseAccountInstruction,
	getCreateAssociatedTokenIdempotentInstruction,
} from "@solana-program/token";
import { beforeAll, describe, expect, it } from "vitest";
import { call, expectApiError, json } from "../worker/helpers/api";
import { eventTypes } from "../worker/helpers/objects";
import {
	addDestination,
	consumePayouts,
	createPayoutOk,
	getPayoutJson,
	type PayoutJson,
	payoutSender,
	payoutTransferIds,
} from "../worker/helpers/payouts";
import {
	advanceSlots,
	fundedPayer,
	rpc,
	scanAll,
	sendInstructions,
	TOKEN_PROGRAM,
	USDC_MINT,
} from "../worker/helpers/solana";
import { expectBooksMatchChain } from "./helpers";
import { available, paidMerchant, send, usdcAccount } from "./payout-helpers";

/** The wallet opens its own (empty) USDC account, paying the rent itself. */
async function openUsdcAccount(wallet: KeyPairSigner): Promise<void> {
	await sendInstructions(wallet, [
		getCreateAssociatedTokenIdempotentInstruction({
			payer: wallet,
			ata: address(await usdcAccount(wallet.address)),
			owner: wallet.address,
			mint: address(USDC_MINT),
			tokenProgram: address(TOKEN_PROGRAM),
		}),
	]);
	await advanceSlots(2);
}

/** The wallet closes its empty USDC account, taking the rent back. */
async function closeUsdcAccount(wallet: KeyPairSigner): Promise<void> {
	await sendInstructions(wallet, [
		getCloseAccountInstruction({
			account: address(await usdcAccount(wallet.address)),
			destination: wallet.address,
			owner: wallet,
		}),
	]);
	await advanceSlots(2);
}

async function accountExists(account: string): Promise<boolean> {
	const r = await rpc<{ value: unknown }>("getAccountInfo", [
		account,
		{ encoding: "base64", commitment: "confirmed" },
	]);
	return r.value !== null;
}

/** A paid merchant with, beside its default, a destination wallet whose USDC account is open. */
async function merchantWithOpenAccount() {
	const paid = await paidMerchant();
	const wallet = await fundedPayer();
	await openUsdcAccount(wallet);
	expect(await accountExists(await usdcAccount(wallet.address))).toBe(true);
	const destination = await addDestination(paid.m.merchant.id, {
		type: "solana_wallet",
		address: wallet.address,
	});
	return { ...paid, wallet, destination };
}

beforeAll(scanAll);

describe("token payouts' network fee", { timeout: 30_000 }, () => {
	it("fails cleanly, charging nothing, when the recipient closes its token account between create and send", async () => {
		const { m, wallet, destination } = await merchantWithOpenAccount();
		const usdc = await available(m.merchant.id, USDC_MINT);
		const sol = await available(m.merchant.id, "sol");
		const p = await createPayoutOk(m.sk, {
			amount: usdc.toString(),
			currency: "usdc",
			destination: destination.id,
		});
		// Accepted with the account open: only the signature fee is reserved, at once.
		expect(await available(m.merchant.id, "sol")).toBe(sol - 5000n);

		await closeUsdcAccount(wallet);
		await consumePayouts([p.id]);

		const failed = await getPayoutJson(m.sk, p.id);
		expect(failed).toMatchObject({
			status: "failed",
			failure_code: "destination_account_missing",
			solana_signature: null,
		});
		expect(failed.failure_message).toContain("token account was closed");
		// Nothing was sent: no account reopened at the merchant's expense, every unit back.
		expect((await payoutSender(p.id).status()).state).toBeNull();
		expect(await accountExists(await usdcAccount(wallet.address))).toBe(false);
		expect(await available(m.merchant.id, USDC_MINT)).toBe(usdc);
		expect(await available(m.merchant.id, "sol")).toBe(sol);
		expect(await payoutTransferIds(p.id)).toEqual([
			"fee_reserve",
			"fee_return",
			"reserve",
			"reversal",
		]);
		expect(await eventTypes(p.id)).toEqual(["payout.created", "payout.updated", "payout.failed"]);
		await expectBooksMatchChain();
	});

	it("charges only the reserved signature fee when the account is still open at send", async () => {
		const { m, wallet, destination } = await merchantWithOpenAccount();
		const usdc = await available(m.merchant.id, USDC_MINT);
		const sol = await available(m.merchant.id, "sol");
		const p = await createPayoutOk(m.sk, {
			amount: usdc.toString(),
			currency: "usdc",
			destination: destination.id,
		});
		expect((await send(p.id)).state).toBe("finalized");
		expect(await getPayoutJson(m.sk, p.id)).toMatchObject({ status: "paid", fee: "5000" });
		expect(await available(m.merchant.id, "sol")).toBe(sol - 5000n);
		expect(await accountExists(await usdcAccount(wallet.address))).toBe(true);
		expect(await payoutTransferIds(p.id)).toEqual([
			"fee_reserve",
			"network_fee",
			"paid",
			"reserve",
		]);
		await expectBooksMatchChain();
	});

	it("reserves each token payout's fee, so payouts racing for the last fee's worth of SOL cannot overdraw it", async () => {
		const { m, destination } = await merchantWithOpenAccount();
		const usdc = await available(m.merchant.id, USDC_MINT);
		const sol = await available(m.merchant.id, "sol");
		// A SOL payout leaves exactly one token payout's fee (5000 lamports) available.
		const drain = await createPayoutOk(m.sk, {
			amount: (sol - 5000n - 5000n).toString(),
			currency: "sol",
			destination: destination.id,
		});
		expect(await available(m.merchant.id, "sol")).toBe(5000n);

		const share = (usdc / 2n).toString();
		const [a, b] = await Promise.all([
			call("POST", "/v1/payouts", {
				key: m.sk,
				body: { amount: share, currency: "usdc", destination: destination.id },
			}),
			call("POST", "/v1/payouts", {
				key: m.sk,
				body: { amount: share, currency: "usdc", destination: destination.id },
			}),
		]);
		expect([a.status, b.status].sort()).toEqual([200, 400]);
		const won = await json<PayoutJson>(a.status === 200 ? a : b);
		const refused = await expectApiError(a.status === 200 ? b : a, "parameter_invalid", "amount");
		expect(refused.message).toMatch(/SOL for the network fee/);
		expect(await available(m.merchant.id, "sol")).toBe(0n);
		expect(await available(m.merchant.id, USDC_MINT)).toBe(usdc - BigInt(share));

		for (const id of [drain.id, won.id]) expect((await send(id)).state).toBe("finalized");
		// Both fees cost exactly what was reserved: never below zero, nothing left over.
		expect(await available(m.merchant.id, "sol")).toBe(0n);
		await expectBooksMatchChain();
	});
});
