import { getBase64Encoder, type SignatureBytes, verifySignature } from "@solana/kit";
import { describe, expect, test } from "vitest";
import { fundedPayer } from "./helpers/chain";
import { type PayerBrowser, screenshot } from "./helpers/checkout";
import { setUpSuite } from "./helpers/suite";
import { type CheckoutProbe, PROBE_GLOBAL } from "./wallet/protocol";
import { signInMessageText } from "./wallet/siws";

// The harness itself, on any checkout page: the page answers, and the injected wallet speaks the
// Wallet Standard as Phantom does and signs in Node.

const { rpcUrl, payerBrowser, openCheckout, usdPayment } = setUpSuite();

type ProbeScope = Record<string, CheckoutProbe | undefined>;

describe("checkout page and test wallet (smoke)", () => {
	test("the checkout shows the amount and waits for payment", async () => {
		const payment = await usdPayment();
		const { page } = await payerBrowser();
		const response = await page.goto(payment.checkout_url);
		expect(response?.status()).toBe(200);
		await page
			.getByText(/25\.00/)
			.first()
			.waitFor();
		await page.getByText("Waiting for payment").first().waitFor();
		await screenshot(page, "smoke-waiting-for-payment");
	});

	test("the injected wallet registers as Phantom, signs in Node and declines like Phantom", async () => {
		const payer = await fundedPayer(rpcUrl);
		const view = await payerBrowser(payer);
		const wallet = view.wallet as NonNullable<PayerBrowser["wallet"]>;
		const payment = await usdPayment();
		await openCheckout(view, payment);
		// Page functions are serialised into the page: they reach the probe by name, not by closure.
		const wallets = await view.page.evaluate(
			(n) => (globalThis as unknown as ProbeScope)[n]?.wallets(),
			PROBE_GLOBAL,
		);
		const phantom = wallets?.find((w) => w.name === "Phantom");
		expect(phantom?.icon).toMatch(/^data:image\/svg\+xml;base64,/);
		expect(phantom?.chains).toEqual([
			"solana:mainnet",
			"solana:devnet",
			"solana:testnet",
			"solana:localnet",
		]);
		expect(phantom?.features).toEqual([
			"standard:connect",
			"standard:disconnect",
			"standard:events",
			"solana:signAndSendTransaction",
			"solana:signTransaction",
			"solana:signMessage",
			"solana:signIn",
		]);

		const message = new TextEncoder().encode("StreamPayments e2e");
		const signed = await view.page.evaluate(
			([n, m]) => (globalThis as unknown as ProbeScope)[n]?.signMessage("Phantom", m),
			[PROBE_GLOBAL, Buffer.from(message).toString("base64")] as [string, string],
		);
		expect(signed?.ok).toBe(true);
		const signature = new Uint8Array(getBase64Encoder().encode(signed?.ok ? signed.value : ""));
		expect(
			await verifySignature(payer.keyPair.publicKey, signature as SignatureBytes, message),
		).toBe(true);

		wallet.rejectNext("signMessage");
		const declined = await view.page.evaluate(
			([n, m]) => (globalThis as unknown as ProbeScope)[n]?.signMessage("Phantom", m),
			[PROBE_GLOBAL, "AQID"] as [string, string],
		);
		expect(declined).toEqual({ ok: false, message: "User rejected the request.", code: 4001 });

		const input = {
			domain: "shop.example",
			statement: "Sign in to see your payments",
			uri: "https://shop.example/login",
			version: "1",
			chainId: "solana:localnet",
			nonce: "n0nce123",
			issuedAt: "2026-01-02T03:04:05.000Z",
			expirationTime: "2026-01-02T03:14:05.000Z",
		};
		const signIn = await view.page.evaluate(
			([n, i]) => (globalThis as unknown as ProbeScope)[n]?.signIn("Phantom", i),
			[PROBE_GLOBAL, input] as [string, Record<string, string>],
		);
		expect(signIn?.ok).toBe(true);
		const result = signIn?.ok ? signIn.value : undefined;
		const expectedText = `shop.example wants you to sign in with your Solana account:\n${payer.address}\n\nSign in to see your payments\n\nURI: https://shop.example/login\nVersion: 1\nChain ID: solana:localnet\nNonce: n0nce123\nIssued At: 2026-01-02T03:04:05.000Z\nExpiration Time: 2026-01-02T03:14:05.000Z`;
		expect(result?.signedMessageText).toBe(expectedText);
		expect(signInMessageText(input, { domain: "x", address: payer.address })).toBe(expectedText);
		expect(result?.address).toBe(payer.address);
		expect(result?.signatureType).toBe("ed25519");
		const signInSignature = new Uint8Array(getBase64Encoder().encode(result?.signature ?? ""));
		expect(
			await verifySignature(
				payer.keyPair.publicKey,
				signInSignature as SignatureBytes,
				new TextEncoder().encode(expectedText),
			),
		).toBe(true);
		expect(wallet.log.map((e) => `${e.method}:${e.outcome}`)).toEqual([
			"connect:approved",
			"signMessage:approved",
			"signMessage:rejected",
			"signIn:approved",
		]);
		await screenshot(view.page, "smoke-wallet");
	});
});
