import { createMiddleware } from "hono/factory";
import { sandboxWalletOrigin } from "../checkout/sandbox-wallet";
import type { AppEnv } from "../types";
import { maybeSessionOf } from "./context";

// `npm run dev` adds a payout wallet with a click, as its checkout pays with one: the test-mode
// Payouts page gets the sandbox's "Sandbox Wallet" script (a Wallet Standard wallet whose key
// stays in the sandbox) and that one loopback origin in its policy. Only when ENVIRONMENT is
// development and SANDBOX_WALLET_URL names a loopback address (sandboxWalletOrigin); never live.

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

/** After the Payouts page is rendered: the Sandbox Wallet in local development, test mode only. */
export function sandboxWalletOnPayouts() {
	return createMiddleware<AppEnv>(async (c, next) => {
		await next();
		const origin = sandboxWalletOrigin(c.env);
		if (!origin || c.req.method !== "GET" || c.res.status !== 200) return;
		const session = maybeSessionOf(c);
		if (!session || session.livemode) return;
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
	});
}
