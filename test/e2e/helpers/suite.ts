import { readFileSync } from "node:fs";
import type { KeyPairSigner } from "@solana/kit";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, beforeEach, inject } from "vitest";
import { type ApiPayment, MerchantApi, type PaymentInput } from "./api";
import { openPayerBrowser, type PayerBrowser, probeState } from "./checkout";
import { CHROMIUM_PATH } from "./chromium";

// What every e2e file shares: the gateway the global setup started, one Chromium per file, a
// browser context per payer, and the stack's log printed when a test failed.

export interface Suite {
	readonly gatewayUrl: string;
	readonly rpcUrl: string;
	readonly api: MerchantApi;
	/** A fresh context (cookies of its own), with the test wallet when `payer` is given. */
	payerBrowser(payer?: KeyPairSigner): Promise<PayerBrowser>;
	/** Opens the payment's checkout; resolves with the probe's id for that document. */
	openCheckout(view: PayerBrowser, payment: ApiPayment): Promise<string>;
	/** A USD payment payable in Solana, quoted in USDC ($25.00 unless overridden). */
	usdPayment(overrides?: Partial<PaymentInput>): Promise<ApiPayment>;
}

/** Registers the file's hooks; call once at the top of a test file. */
export function setUpSuite(): Suite {
	const gatewayUrl = inject("gatewayUrl");
	const rpcUrl = inject("solanaRpcUrl");
	const api = new MerchantApi(gatewayUrl, inject("secretKey"));
	const opened: PayerBrowser[] = [];
	let browser: Browser | undefined;
	let anyFailed = false;

	beforeAll(async () => {
		browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true });
	});

	beforeEach(({ onTestFailed }) => {
		onTestFailed(() => {
			anyFailed = true;
		});
	});

	afterAll(async () => {
		await Promise.allSettled(opened.map((view) => view.close()));
		await browser?.close();
		if (anyFailed) {
			const path = inject("stackLogPath");
			try {
				const tail = readFileSync(path, "utf8").trimEnd().split("\n").slice(-60).join("\n");
				process.stderr.write(`\n[e2e] last lines of ${path}:\n${tail}\n`);
			} catch {
				process.stderr.write(`\n[e2e] no local stack log at ${path}\n`);
			}
		}
	});

	return {
		gatewayUrl,
		rpcUrl,
		api,
		async payerBrowser(payer) {
			if (!browser) throw new Error("Chromium is not running (beforeAll failed?)");
			const view = await openPayerBrowser(browser, { rpcUrl, ...(payer ? { payer } : {}) });
			opened.push(view);
			return view;
		},
		async openCheckout(view, payment) {
			await view.page.goto(payment.checkout_url);
			return (await probeState(view.page)).documentId;
		},
		usdPayment(overrides = {}) {
			return api.createPayment({
				amount: 2500,
				currency: "usd",
				payment_method_types: ["solana"],
				description: "Flat white and a croissant",
				solana: { token: "USDC" },
				...overrides,
			});
		},
	};
}
