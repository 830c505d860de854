import { createMiddleware } from "hono/factory";
import { offerSandboxWallet, sandboxWalletOrigin } from "../checkout/sandbox-wallet";
import type { AppEnv } from "../types";
import { maybeSessionOf } from "./context";

// `npm run dev` adds a payout wallet with a click, as its checkout pays with one: the test-mode
// Payouts page gets the sandbox's "Sandbox Wallet" script (a Wallet Standard wallet whose key
// stays in the sandbox) and that one loopback origin in its policy. Only when ENVIRONMENT is
// development and SANDBOX_WALLET_URL names a loopback address (sandboxWalletOrigin); never live.

/** After the Payouts page is rendered: the Sandbox Wallet in local development, test mode only. */
export function sandboxWalletOnPayouts() {
	return createMiddleware<AppEnv>(async (c, next) => {
		await next();
		const origin = sandboxWalletOrigin(c.env);
		if (!origin || c.req.method !== "GET" || c.res.status !== 200) return;
		const session = maybeSessionOf(c);
		if (!session || session.livemode) return;
		offerSandboxWallet(c, origin);
	});
}
