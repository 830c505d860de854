import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { isId } from "../domain/ids";
import type { Env } from "../env";
import { paymentStub } from "../services/payments";
import type { AppEnv } from "../types";

// `npm run dev` pays locally with a click: a test-mode checkout page gets the sandbox's "Sandbox
// Wallet" script (a Wallet Standard wallet whose key stays in the sandbox), and its CSP allows
// that one loopback origin. Only when ENVIRONMENT is development, the payment is in test mode and
// SANDBOX_WALLET_URL (set by scripts/dev.ts, never in production) names a loopback address.

const LOOPBACK = /^(localhost|127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\])$/;

/** The sandbox's origin when this Worker may offer the Sandbox Wallet at all, else null. */
export function sandboxWalletOrigin(
	env: Pick<Env, "ENVIRONMENT" | "SANDBOX_WALLET_URL">,
): string | null {
	if (env.ENVIRONMENT !== "development" || !env.SANDBOX_WALLET_URL) return null;
	let url: URL;
	try {
		url = new URL(env.SANDBOX_WALLET_URL);
	} catch {
		return null;
	}
	return url.protocol === "http:" && LOOPBACK.test(url.hostname) ? url.origin : null;
}

/** Adds `origin` to the named directives of a CSP (a directive that is absent stays absent). */
function allowOrigin(csp: string, origin: string, directives: string[]): string {
	return csp
		.split(";")
		.map((part) => {
			const directive = part.trim();
			const name = directive.split(/\s+/)[0] ?? "";
			return directives.includes(name) ? `${directive} ${origin}` : directive;
		})
		.join("; ");
}

/**
 * After the checkout page (`GET /checkout/:id`) is rendered: in local development, for a test-mode
 * payment, adds the Sandbox Wallet's script to its head and its origin to the page's policy.
 */
export function sandboxWallet() {
	return createMiddleware<AppEnv>(async (c, next) => {
		await next();
		// Production never gets past this line: no lookup, no change to the page.
		const origin = sandboxWalletOrigin(c.env);
		if (!origin || c.req.method !== "GET" || c.res.status !== 200) return;
		const id = c.req.param("id") ?? "";
		const payment = isId("payment", id) ? await paymentStub(c.env, id).get() : null;
		// A card-only checkout has no crypto to pay: no wallet to offer.
		if (!payment || payment.livemode || !payment.payment_method_types.includes("solana")) return;
		offerSandboxWallet(c, origin);
	});
}

/**
 * Adds the Sandbox Wallet's script to an HTML page's head and the sandbox's origin to its policy.
 * Callers have checked that the wallet may be offered (`sandboxWalletOrigin`, test mode).
 */
export function offerSandboxWallet(c: Context<AppEnv>, origin: string): void {
	const csp = c.res.headers.get("Content-Security-Policy");
	if (!csp || !/^text\/html\b/i.test(c.res.headers.get("Content-Type") ?? "")) return;
	const src = `${origin}/wallet/wallet.js`;
	const page = new HTMLRewriter()
		.on("head", {
			element(head) {
				head.append(`<script src="${src}" defer></script>`, { html: true });
			},
		})
		.transform(c.res);
	c.res = new Response(page.body, page);
	c.res.headers.set(
		"Content-Security-Policy",
		allowOrigin(csp, origin, ["script-src", "connect-src"]),
	);
}
