import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sandboxWalletOrigin } from "../../src/checkout/sandbox-wallet";
import worker from "../../src/index";
import { createMerchant, createPayment } from "./helpers/api";

// The Sandbox Wallet of `npm run dev`: its script and its CSP allowance are on a checkout page
// only in local development, for a test-mode payment, with SANDBOX_WALLET_URL set.

const SANDBOX = "http://127.0.0.1:8890";
const SCRIPT = `<script src="${SANDBOX}/wallet/wallet.js" defer></script>`;

type Vars = Partial<Record<"ENVIRONMENT" | "SANDBOX_WALLET_URL" | "PUBLIC_BASE_URL", string>>;

async function page(
	id: string,
	vars: Vars,
): Promise<{ status: number; html: string; csp: string }> {
	const ctx = createExecutionContext();
	const res = await worker.fetch(
		new Request(`http://gateway.test/checkout/${id}`),
		{ ...env, ...vars } as typeof env,
		ctx,
	);
	await waitOnExecutionContext(ctx);
	return {
		status: res.status,
		html: await res.text(),
		csp: res.headers.get("Content-Security-Policy") ?? "",
	};
}

function directive(csp: string, name: string): string {
	return (
		csp
			.split(";")
			.map((d) => d.trim())
			.find((d) => d.startsWith(`${name} `)) ?? ""
	);
}

const DEV: Vars = { ENVIRONMENT: "development", SANDBOX_WALLET_URL: SANDBOX };

describe("the Sandbox Wallet on the checkout", () => {
	it("is offered on a test-mode checkout in development: script in the head, origin in script-src and connect-src only", async () => {
		const m = await createMerchant("Sandbox Wallet Shop");
		const payment = await createPayment(m.sk, { payment_method_types: ["solana"] });
		const { status, html, csp } = await page(payment.id, DEV);
		expect(status).toBe(200);
		const head = html.slice(0, html.indexOf("</head>"));
		expect(head).toContain(SCRIPT);
		expect(html.split(SCRIPT)).toHaveLength(2);
		expect(directive(csp, "script-src").split(" ")).toEqual(["script-src", "'self'", SANDBOX]);
		expect(directive(csp, "connect-src").split(" ")).toContain(SANDBOX);
		for (const other of ["default-src", "img-src", "style-src", "frame-ancestors"]) {
			expect(directive(csp, other)).not.toContain(SANDBOX);
		}
	});

	it("never appears for a live-mode payment, even in development", async () => {
		const m = await createMerchant("Live Shop");
		const payment = await createPayment(m.skLive, { payment_method_types: ["solana"] });
		expect(payment.livemode).toBe(true);
		const { status, html, csp } = await page(payment.id, DEV);
		expect(status).toBe(200);
		expect(html).not.toContain("/wallet/wallet.js");
		expect(csp).not.toContain(SANDBOX);
	});

	it("never appears with ENVIRONMENT=production or without SANDBOX_WALLET_URL, test mode or not", async () => {
		const m = await createMerchant("Prod Shop");
		const test = await createPayment(m.sk, { payment_method_types: ["solana"] });
		const live = await createPayment(m.skLive, { payment_method_types: ["solana"] });
		const production: Vars = {
			ENVIRONMENT: "production",
			PUBLIC_BASE_URL: "https://pay.example.com",
			SANDBOX_WALLET_URL: SANDBOX,
		};
		for (const vars of [
			production,
			{ ENVIRONMENT: "development" },
			{ SANDBOX_WALLET_URL: SANDBOX },
		]) {
			for (const payment of [test, live]) {
				const { status, html, csp } = await page(payment.id, vars);
				expect(status).toBe(200);
				expect(html).not.toContain("wallet.js");
				expect(csp).not.toContain("8890");
			}
		}
	});

	it("accepts only a loopback http sandbox address", () => {
		const origin = (url: string, environment = "development") =>
			sandboxWalletOrigin({ ENVIRONMENT: environment, SANDBOX_WALLET_URL: url });
		expect(origin("http://127.0.0.1:8890")).toBe("http://127.0.0.1:8890");
		expect(origin("http://localhost:9000/x")).toBe("http://localhost:9000");
		expect(origin("https://sandbox.example.com")).toBeNull();
		expect(origin("http://10.0.0.5:8890")).toBeNull();
		expect(origin("http://127.0.0.1.evil.example:8890")).toBeNull();
		expect(origin("not a url")).toBeNull();
		expect(origin("http://127.0.0.1:8890", "production")).toBeNull();
		expect(origin("http://127.0.0.1:8890", "test")).toBeNull();
	});

	it("is not offered on a card-only checkout", async () => {
		const m = await createMerchant("Card Only Shop");
		const payment = await createPayment(m.sk, { payment_method_types: ["card"] });
		const { status, html, csp } = await page(payment.id, DEV);
		expect(status).toBe(200);
		expect(html).not.toContain("wallet.js");
		expect(csp).not.toContain(SANDBOX);
	});

	it("leaves the not-found page and other checkout routes alone", async () => {
		const missing = await page("pay_doesnotexist", DEV);
		expect(missing.status).toBe(404);
		expect(missing.html).not.toContain("wallet.js");
		expect(missing.csp).not.toContain(SANDBOX);
	});
});
