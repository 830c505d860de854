import type { DemoMerchant } from "./demo.js";
import { DEMO_OWNER_EMAIL, DEMO_PAYMENT } from "./demo.js";
import type { Payment } from "./gateway-api.js";

// The "you're up" summary `npm run dev` prints once everything answers.

export interface BannerInfo {
	gatewayUrl: string;
	sandbox: { solana: string; stripe: string; control: string };
	demoFile: string;
	merchant: DemoMerchant | Error;
	payment: Payment | Error | undefined;
}

export function curlExample(gatewayUrl: string, secretKey: string): string {
	const body = JSON.stringify(DEMO_PAYMENT);
	return [
		`curl -X POST ${gatewayUrl}/v1/payments \\`,
		`  -H "Authorization: Bearer ${secretKey}" \\`,
		`  -H "Content-Type: application/json" \\`,
		// Node is certainly installed; uuidgen is not everywhere.
		`  -H "Idempotency-Key: $(node -p 'crypto.randomUUID()')" \\`,
		`  -d '${body}'`,
	].join("\n");
}

function row(label: string, value: string): string {
	return `  ${label.padEnd(17)}${value}`;
}

export function renderBanner(info: BannerInfo): string {
	const rule = "─".repeat(72);
	const lines = [
		"",
		rule,
		"  StreamPayments is running locally",
		rule,
		row("Gateway", info.gatewayUrl),
		row("API docs", `${info.gatewayUrl}/docs`),
		row("Dashboard", `${info.gatewayUrl.replace("127.0.0.1", "localhost")}/dashboard`),
		row("Solana RPC", `${info.sandbox.solana}  (sandbox)`),
		row("Stripe API", `${info.sandbox.stripe}  (sandbox)`),
		row("Sandbox control", `${info.sandbox.control}/health`),
		"",
	];
	let secret = "sk_test_…";
	if (info.merchant instanceof Error) {
		lines.push(row("Demo merchant", `NOT SEEDED: ${info.merchant.message}`));
	} else {
		const { response, secretKey, publishableKey, reused } = info.merchant;
		secret = secretKey.secret;
		const origin = reused ? `reused from ${info.demoFile}` : `created, saved to ${info.demoFile}`;
		lines.push(
			row("Demo merchant", `${response.merchant.id} (${response.merchant.name}), ${origin}`),
			row("Secret key", secretKey.secret),
			row("Publishable key", publishableKey?.secret ?? "(none returned)"),
		);
		const invitation = info.merchant.ownerInvitation;
		if (invitation instanceof Error) {
			lines.push(row("Demo owner", `NO INVITATION: ${invitation.message}`));
		} else if (invitation) {
			lines.push(
				row("Demo owner", `${DEMO_OWNER_EMAIL}: open this one-time link and register a passkey`),
				row("", invitation),
				row("", "(already registered? sign in with that passkey on the dashboard; test mode also"),
				row("", " opens with the test secret key above, as admin without step-up)"),
			);
		}
	}
	if (info.payment instanceof Error) {
		lines.push(row("Demo checkout", `NOT CREATED: ${info.payment.message}`));
	} else if (info.payment) {
		lines.push(row("Demo checkout", info.payment.checkout_url));
		const solana = info.payment.solana as { solana_pay_url?: string } | null | undefined;
		if (solana?.solana_pay_url) lines.push(row("Solana Pay URL", solana.solana_pay_url));
		// A real wallet cannot reach the local chain: the sandbox's wallet pays, on the page or here.
		lines.push(
			row("Pay it", `the Sandbox Wallet on the checkout, or npm run pay -- ${info.payment.id}`),
		);
	}
	lines.push(
		"",
		"  Create a payment:",
		...curlExample(info.gatewayUrl, secret)
			.split("\n")
			.map((line) => `    ${line}`),
		"",
		"  Press Ctrl-C to stop.",
		rule,
		"",
	);
	return lines.join("\n");
}
