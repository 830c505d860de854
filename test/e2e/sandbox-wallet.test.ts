import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { gatewayJson } from "../../scripts/lib/gateway-api";
import { type LocalMerchant, LocalStack } from "../../scripts/lib/local-stack";
import { runPay } from "../../scripts/lib/pay-cli";
import type { PaymentObjectJson } from "../../src/domain/payment";
import { CHROMIUM_PATH } from "./helpers/chromium";
import { ARTIFACTS_DIR } from "./helpers/settings";
import { until } from "./helpers/stack";

// The Sandbox Wallet as `npm run dev` offers it: a gateway of its own (the suite's shared one runs
// without SANDBOX_WALLET_URL, so its no-wallet checkout stays without a wallet), a person paying
// the checkout with a click, and `npm run pay` paying through the real transaction request.

const vars: Record<string, string> = {};
const stack = new LocalStack({
	name: "e2e-sandbox-wallet",
	solana: { slotMs: 100, confirmedLag: 1, finalizedLag: 8 },
	vars,
	logFile: join(ARTIFACTS_DIR, "sandbox-wallet-stack.log"),
	readyTimeoutMs: 90_000,
	// As scripts/dev.ts does: the gateway learns where the sandbox's wallet is served.
	onSandbox: (sandbox) => {
		vars.SANDBOX_WALLET_URL = sandbox.urls.control;
	},
});
let merchant: LocalMerchant;
let browser: Browser;

beforeAll(async () => {
	await stack.start();
	// The checkout's origin (a free port, known only now) may ask the wallet to sign.
	stack.sandbox.wallet.origins.add(stack.gatewayUrl);
	merchant = await stack.createMerchant("Sandbox Wallet Coffee");
	browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true });
}, 120_000);

afterAll(async () => {
	await browser?.close();
	await stack.stop();
});

function createPayment(body: Record<string, unknown>): Promise<PaymentObjectJson> {
	return gatewayJson(stack.gatewayUrl, "/v1/payments", {
		token: merchant.secretKey,
		method: "POST",
		body: { amount: 2500, currency: "usd", payment_method_types: ["solana"], ...body },
		headers: { "idempotency-key": crypto.randomUUID() },
	}) as Promise<PaymentObjectJson>;
}

function getPayment(id: string): Promise<PaymentObjectJson> {
	return gatewayJson(stack.gatewayUrl, `/v1/payments/${id}`, {
		token: merchant.secretKey,
	}) as Promise<PaymentObjectJson>;
}

describe("the Sandbox Wallet", () => {
	test("a person pays a test-mode checkout in PYUSD with a click, through the transaction request", async () => {
		const payment = await createPayment({ solana: { token: "PYUSD" } });
		const before = stack.sandbox.wallet.balances().pyusd;
		const context = await browser.newContext({ viewport: { width: 480, height: 960 } });
		try {
			const page = await context.newPage();
			const blocked: string[] = [];
			page.on("console", (message) => {
				if (message.type() === "error") blocked.push(message.text());
			});
			await page.goto(payment.checkout_url);
			const button = page.locator("#pay-wallet");
			await expect
				.poll(() => button.textContent(), { timeout: 20_000 })
				.toContain("Sandbox Wallet");
			await expect.poll(() => button.isEnabled(), { timeout: 20_000 }).toBe(true);
			await button.click();
			await page.waitForSelector('main#checkout[data-status="succeeded"]', { timeout: 45_000 });
			// The page's policy let the wallet's script and its calls through: nothing was refused.
			expect(blocked.filter((line) => /Content Security Policy/i.test(line))).toEqual([]);
		} finally {
			await context.close();
		}
		const paid = await getPayment(payment.id);
		expect(paid.status).toBe("succeeded");
		const spent = BigInt(before) - BigInt(stack.sandbox.wallet.balances().pyusd);
		expect(spent.toString()).toBe(paid.solana?.amount);
	});

	test("npm run pay underpays a real payment by half, then pays the rest: the payment succeeds", async () => {
		const payment = await createPayment({ solana: { token: "USDC" } });
		const env = {
			GATEWAY_URL: stack.gatewayUrl,
			SOLANA_RPC_URL: stack.sandbox.urls.solana,
			SANDBOX_URL: stack.sandbox.urls.control,
		};
		let out = "";
		const io = {
			env,
			stdout: (text: string) => {
				out += text;
			},
			stderr: () => {},
		};
		expect(await runPay([payment.checkout_url, "--fraction", "0.5"], io)).toBe(0);
		const quoted = BigInt(payment.solana?.amount ?? "0");
		const half = await until(
			"the half payment to be booked",
			() => getPayment(payment.id),
			(p) => BigInt(p.solana?.amount_received ?? "0") > 0n,
		);
		expect(half.status).toBe("requires_payment");
		expect(BigInt(half.solana?.amount_received ?? "0")).toBe(quoted / 2n);

		expect(await runPay([payment.id], io)).toBe(0);
		const paid = await until(
			"the payment to succeed",
			() => getPayment(payment.id),
			(p) => p.status === "succeeded",
		);
		expect(BigInt(paid.solana?.amount_received ?? "0")).toBe(quoted);
		expect(out).toMatch(/signature [1-9A-HJ-NP-Za-km-z]{64,88}\n/);
	});

	test("npm run pay refuses a live-mode payment", async () => {
		const live = merchant.keys.find((k) => k.type === "secret" && k.livemode)?.secret;
		expect(live).toBeTruthy();
		const payment = (await gatewayJson(stack.gatewayUrl, "/v1/payments", {
			token: live as string,
			method: "POST",
			body: { amount: 2500, currency: "usd", payment_method_types: ["solana"] },
			headers: { "idempotency-key": crypto.randomUUID() },
		})) as PaymentObjectJson;
		let err = "";
		const code = await runPay([payment.id], {
			env: { GATEWAY_URL: stack.gatewayUrl, SANDBOX_URL: stack.sandbox.urls.control },
			stdout: () => {},
			stderr: (text) => {
				err += text;
			},
		});
		expect(code).toBe(1);
		expect(err).toContain("live-mode");
	});
});
