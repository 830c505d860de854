import { generateKeyPairSigner } from "@solana/kit";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { createInvitation, gatewayJson } from "../../scripts/lib/gateway-api";
import type { PaymentObjectJson } from "../../src/domain/payment";
import type { ApiPayoutDestination } from "../../src/domain/payout-destination";
import { fundedPayer, rpc, signAndSend } from "./helpers/chain";
import { screenshot } from "./helpers/checkout";
import { CHROMIUM_PATH } from "./helpers/chromium";
import { STEP_TIMEOUT_MS } from "./helpers/settings";
import { type StackMerchant, sharedStack, until } from "./helpers/stack";
import { installTestWallet, type TestWallet } from "./helpers/wallet-host";

// Payouts from the dashboard in Chromium against wrangler dev and the local chain: the owner
// (a passkey on the DevTools virtual authenticator) adds their wallet as a payout destination by
// signing the gateway's message with the test wallet, sees it listed, and pays out SOL that a
// checkout payment brought in; the payout is sent by the payouts queue and lands on chain.

const stack = sharedStack();
let merchant: StackMerchant;
let browser: Browser;

interface Owner {
	context: BrowserContext;
	page: Page;
	wallet: TestWallet;
	origin: string;
}

/** The owner's browser: a passkey authenticator and the test wallet holding `payee`'s key. */
async function ownerWithWallet(payee: Awaited<ReturnType<typeof generateKeyPairSigner>>) {
	const context = await browser.newContext();
	context.setDefaultTimeout(STEP_TIMEOUT_MS);
	const page = await context.newPage();
	const cdp = await context.newCDPSession(page);
	await cdp.send("WebAuthn.enable");
	await cdp.send("WebAuthn.addVirtualAuthenticator", {
		options: {
			protocol: "ctap2",
			transport: "internal",
			hasResidentKey: true,
			hasUserVerification: true,
			isUserVerified: true,
		},
	});
	const wallet = await installTestWallet(page, { payer: payee, rpcUrl: stack.rpcUrl });
	const invitation = await createInvitation(stack.gatewayUrl, inject("adminToken"), merchant.id, {
		email: "owner@payouts.example",
	});
	const origin = new URL(invitation.url).origin;
	await page.goto(invitation.url);
	await page.click("#register-passkey");
	await page.waitForSelector("#recovery-codes-card:not([hidden])");
	await page.click("#continue");
	await page.waitForURL(`${origin}/dashboard`);
	return { context, page, wallet, origin } satisfies Owner;
}

async function lamportsOf(address: string): Promise<bigint> {
	const { value } = await rpc<{ value: number }>(stack.rpcUrl, "getBalance", [
		address,
		{ commitment: "finalized" },
	]);
	return BigInt(value);
}

/** A SOL payment paid on the local chain: the merchant's available SOL balance. */
async function paidInSol(): Promise<PaymentObjectJson> {
	const payment = await merchant.api<PaymentObjectJson>("/v1/payments", {
		amount: 2500,
		currency: "usd",
		payment_method_types: ["solana"],
		solana: { token: "SOL" },
	});
	const payer = await fundedPayer(stack.rpcUrl, { lamports: 5_000_000_000n });
	await until(
		"the payer's SOL",
		() => lamportsOf(payer.address),
		(v) => v > 0n,
	);
	const { transaction } = (await gatewayJson(stack.gatewayUrl, `/solana-pay/${payment.id}`, {
		method: "POST",
		body: { account: payer.address },
	})) as { transaction: string };
	await signAndSend(stack.rpcUrl, payer, transaction);
	return until(
		"the payment to succeed",
		() => merchant.api<PaymentObjectJson>(`/v1/payments/${payment.id}`),
		(p) => p.status === "succeeded",
	);
}

beforeAll(async () => {
	merchant = await stack.merchant("Payout Roasters");
	browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true });
});

afterAll(async () => {
	await browser?.close();
});

describe("payouts from the dashboard", () => {
	test(
		"the owner adds a wallet by signing the gateway's message, then pays out SOL to it",
		async () => {
			const payee = await generateKeyPairSigner();
			const owner = await ownerWithWallet(payee);
			const { page, origin } = owner;

			// Destination: the page asks for the message, the wallet signs it, the form goes.
			await page.goto(`${origin}/dashboard/payouts`);
			await page.click("#wallet-add");
			await page.waitForURL(`${origin}/dashboard/payouts?added=wallet`);
			const row = page.locator("tr[data-destination]");
			await expect.poll(() => row.count()).toBe(1);
			expect(await row.textContent()).toContain(payee.address);
			expect(await row.textContent()).toContain("default");
			const signed = owner.wallet.log.filter((e) => e.method === "signMessage");
			expect(signed.map((e) => e.outcome)).toEqual(["approved"]);
			const { data } = await merchant.api<{ data: ApiPayoutDestination[] }>(
				"/v1/payout_destinations",
			);
			expect(data).toEqual([
				expect.objectContaining({
					type: "solana_wallet",
					address: payee.address,
					status: "active",
				}),
			]);
			await screenshot(page, "dashboard-payout-destination");

			// Money in: a checkout payment in SOL, credited to the merchant's available balance.
			await paidInSol();

			// Money out: 0.05 SOL with the manual form, to the default wallet.
			await page.goto(`${origin}/dashboard/payouts`);
			await page.fill("#payout-amount", "0.05");
			await page.selectOption("#payout-currency", "sol");
			await page.click("#payout-submit");
			await page.waitForURL(/\/dashboard\/payouts\/po_\w+$/);
			const payoutId = new URL(page.url()).pathname.split("/").pop() as string;
			expect(await page.textContent("#payout-amount")).toBe("0.05 SOL");
			const paid = await until(
				"the payout to be paid",
				() =>
					merchant.api<{ status: string; solana_signature: string | null }>(
						`/v1/payouts/${payoutId}`,
					),
				(p) => p.status === "paid" || p.status === "failed",
				60_000,
			);
			expect(paid.status).toBe("paid");
			expect(paid.solana_signature).toEqual(expect.any(String));
			expect(
				await until(
					"the payout at finalized",
					() => lamportsOf(payee.address),
					(v) => v > 0n,
				),
			).toBe(50_000_000n);
			await page.reload();
			expect(await page.textContent("#payout-status")).toContain("paid");
			await screenshot(page, "dashboard-payout-paid");
			await owner.context.close();
		},
		STEP_TIMEOUT_MS * 8,
	);
});
