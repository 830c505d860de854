import { env } from "cloudflare:workers";
import { address, generateKeyPairSigner } from "@solana/kit";
import { findAssociatedTokenPda } from "@solana-program/token";
import { describe, expect, it } from "vitest";
import { accounts } from "../../src/domain/ledger";
import { call, createMerchant, expectApiError, json } from "./helpers/api";
import { accountBalance } from "./helpers/ledger";
import { addDestination, creditAvailable } from "./helpers/payouts";
import { fundedPayer, TOKEN_PROGRAM, USDC_MINT } from "./helpers/solana";

const available = (merchantId: string, currency: string) =>
	accountBalance(accounts.merchantAvailable(merchantId, false, currency));

describe("what a payout refusal tells", () => {
	it("tells a merchant without the balance it is short before anything about the settlement account", async () => {
		const m = await createMerchant();
		// Some USDC and SOL, far less than the settlement account could ever cover either.
		await creditAvailable(m.merchant.id, USDC_MINT, 1_000n);
		await creditAvailable(m.merchant.id, "sol", 10n ** 9n);
		await addDestination(m.merchant.id, { type: "solana_wallet" });
		const res = await call("POST", "/v1/payouts", {
			key: m.sk,
			body: { amount: (10n ** 15n).toString(), currency: "usdc" },
		});
		const error = await expectApiError(res, "parameter_invalid", "amount");
		expect(error.message).toMatch(/Insufficient available balance/);
		expect(error.message).not.toMatch(/settlement/);
		// None at all in that currency: the same 400.
		const none = await call("POST", "/v1/payouts", {
			key: m.sk,
			body: { amount: (10n ** 15n).toString(), currency: "pyusd" },
		});
		await expectApiError(none, "parameter_invalid", "amount");
		expect(await available(m.merchant.id, USDC_MINT)).toBe(1_000n);
	});

	it("tells a merchant without SOL for the fee so before anything about the settlement account", async () => {
		const m = await createMerchant();
		await creditAvailable(m.merchant.id, USDC_MINT, 10n ** 15n);
		await addDestination(m.merchant.id, { type: "solana_wallet" });
		const res = await call("POST", "/v1/payouts", {
			key: m.sk,
			body: { amount: (10n ** 15n).toString(), currency: "usdc" },
		});
		const error = await expectApiError(res, "parameter_invalid", "amount");
		expect(error.message).toMatch(/SOL for the network fee/);
	});
});

describe("payout destination challenges", () => {
	const challenge = (key: string, addr: string) =>
		call("POST", "/v1/payout_destinations/challenges", { key, body: { address: addr } });

	it("refuses a program, a mint, a token account and the gateway's settlement wallet", async () => {
		const m = await createMerchant();
		const holder = await fundedPayer([{ mint: USDC_MINT, amount: 1n }]);
		const [tokenAccount] = await findAssociatedTokenPda({
			owner: holder.address,
			mint: address(USDC_MINT),
			tokenProgram: address(TOKEN_PROGRAM),
		});
		for (const [addr, why] of [
			[TOKEN_PROGRAM, /a program/],
			[USDC_MINT, /an account of program/],
			[tokenAccount, /an account of program/],
			[env.SOLANA_SETTLEMENT_WALLET, /settlement wallet/],
		] as const) {
			const error = await expectApiError(
				await challenge(m.sk, addr),
				"parameter_invalid",
				"address",
			);
			expect(error.message).toMatch(why);
		}
		const { results } = await env.DB.prepare(
			"SELECT nonce FROM payout_destination_challenges WHERE merchant_id = ?",
		)
			.bind(m.merchant.id)
			.all();
		expect(results).toEqual([]);
		// A wallet (one with SOL, and one the chain has never seen) is fine.
		expect((await challenge(m.sk, holder.address)).status).toBe(200);
		const unseen = (await generateKeyPairSigner()).address;
		const fresh = await json<{ address: string }>(await challenge(m.sk, unseen));
		expect(fresh.address).toBe(unseen);
	});
});

describe("payout minimums", () => {
	it("takes 0 as no minimum", async () => {
		const m = await createMerchant();
		const res = await call("POST", "/v1/settings", {
			key: m.sk,
			body: { payout_minimums: { usd: 0, sol: "0" } },
		});
		expect(res.status, await res.clone().text()).toBe(200);
		const body = await json<{ payout_minimums: Record<string, string> }>(res);
		expect(body.payout_minimums).toEqual({ usd: "0", sol: "0" });
	});
});
