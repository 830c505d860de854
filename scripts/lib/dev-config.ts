import { parsePort, readSandboxConfig, type SandboxConfig } from "../../sandbox/config.js";
import { formatUrl } from "../../sandbox/http.js";

// Where `npm run dev` puts the gateway and the sandbox, and the variables that point the gateway
// at them: PORT moves the gateway off 8787 (wrangler's default, which any other Workers project
// on the machine also takes); SOLANA_RPC_PORT, STRIPE_PORT and SANDBOX_CONTROL_PORT move the
// sandbox, and the Worker's URLs follow.

export const GATEWAY_HOST = "127.0.0.1";
export const DEFAULT_GATEWAY_PORT = 8787;

export interface DevConfig {
	gatewayPort: number;
	/** `http://127.0.0.1:<PORT>`: where wrangler dev listens, and the base of checkout links. */
	gatewayUrl: string;
	sandbox: SandboxConfig;
}

/** Reads PORT and the sandbox's port variables; throws naming the variable on a bad value. */
export function readDevConfig(env: NodeJS.ProcessEnv): DevConfig {
	const gatewayPort = parsePort("PORT", env.PORT, DEFAULT_GATEWAY_PORT);
	// wrangler dev takes a fixed port, and the checkout links carry it.
	if (gatewayPort === 0) throw new Error("PORT must be a fixed port for npm run dev, not 0");
	const sandbox = readSandboxConfig(env);
	if (sandbox.controlPort === 0) {
		throw new Error(
			"SANDBOX_CONTROL_PORT must be a fixed port for npm run dev to find the sandbox",
		);
	}
	return { gatewayPort, gatewayUrl: formatUrl(GATEWAY_HOST, gatewayPort), sandbox };
}

/** The sandbox's URLs, as its `/health` lists them (a port of 0 is only known once it listens). */
export interface SandboxUrls {
	solana: string;
	stripe: string;
	control: string;
}

/**
 * `--var` overrides for wrangler dev: wrangler.toml names the default ports, and these follow
 * whichever ones this run uses.
 */
export function gatewayVars(config: DevConfig, sandbox: SandboxUrls): Record<string, string> {
	return {
		PUBLIC_BASE_URL: config.gatewayUrl,
		SOLANA_RPC_URLS: sandbox.solana,
		PYTH_HERMES_URL: `${sandbox.control}/hermes`,
		FX_REFERENCE_URL: `${sandbox.control}/fx`,
		STRIPE_API_URL: sandbox.stripe,
		STRIPE_JS_URL: `${sandbox.stripe}/js/v3/`,
		// Test-mode checkouts offer the sandbox's wallet (development only: src/checkout/sandbox-wallet.ts).
		SANDBOX_WALLET_URL: sandbox.control,
	};
}

/** Where the sandbox's Stripe emulator sends its events. */
export function stripeWebhookUrl(config: DevConfig): string {
	return `${config.gatewayUrl}/webhooks/stripe`;
}
