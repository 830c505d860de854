import { z } from "zod";
import type {
	ConversionsMessage,
	PayoutsQueueMessage,
	RefundsMessage,
	ReportsMessage,
	WebhookQueueMessage,
} from "./domain/queue-messages";
import { parseEncryptionKeys } from "./lib/encryption";

// `WorkerEnv` is generated from wrangler.toml and .dev.vars.example by `npm run types` into
// worker-configuration.d.ts (`npm run typecheck` fails when it is stale). It names the Durable
// Object classes through the main module, so this file imports none of them.

/** Bindings the code treats as optional: a test or deployment may leave them out. */
type OptionalBinding =
	| "PROCESSOR_HEALTH"
	| "REFUNDS"
	| "PAYOUTS"
	| "RISK_COUNTERS"
	| "API_RATE_LIMITER"
	| "CHECKOUT_RATE_LIMITER"
	| "LINK_RATE_LIMITER"
	| "AUTH_FAILURE_RATE_LIMITER"
	| "DASHBOARD_AUTH_RATE_LIMITER"
	| "REPORTS_BUCKET"
	| "FX_REFERENCE_URL"
	| "SOLANA_CLUSTER"
	| "STRIPE_PUBLISHABLE_KEY";

/** Secrets (.dev.vars.example): each one's feature is off, or fails on use, without it. */
type OptionalSecret =
	| "ADMIN_TOKEN"
	| "STRIPE_SECRET_KEY"
	| "STRIPE_WEBHOOK_SECRET"
	| "ENCRYPTION_KEYS"
	| "SETTLEMENT_WALLET_KEY";

type QueueBinding =
	| "REFUNDS_QUEUE"
	| "CONVERSIONS_QUEUE"
	| "WEBHOOKS_QUEUE"
	| "REPORTS_QUEUE"
	| "PAYOUTS_QUEUE";

/**
 * Bindings and secrets of the gateway Worker (wrangler.toml, `.dev.vars`, `wrangler secret put`).
 * What each variable means, and its default, is in src/config.ts.
 */
export interface Env
	extends Omit<WorkerEnv, OptionalBinding | OptionalSecret | QueueBinding>,
		Partial<Pick<WorkerEnv, OptionalBinding | OptionalSecret>> {
	/** Queues (wrangler.toml): refunds, conversions and webhook deliveries. */
	REFUNDS_QUEUE?: Queue<RefundsMessage>;
	CONVERSIONS_QUEUE?: Queue<ConversionsMessage>;
	WEBHOOKS_QUEUE?: Queue<WebhookQueueMessage>;
	/** Report builds too large for one request or cron run. */
	REPORTS_QUEUE?: Queue<ReportsMessage>;
	/** Payouts to execute (the send step), from the API and the payout schedule. */
	PAYOUTS_QUEUE?: Queue<PayoutsQueueMessage>;
	/** Cloudflare Email Workers `send_email` binding: sends team invitations. Optional. */
	SEND_EMAIL?: SendEmail;
	// Variables set in no shipped configuration: each has its default in src/config.ts.
	SOLANA_RPC_TIMEOUT_MS?: string;
	SOLANA_UNDERPAYMENT_TOLERANCE_BPS?: string;
	SOLANA_FINALIZED_ABOVE?: string;
	SOLANA_WATCH_INTERVAL_MS?: string;
	SOLANA_SIGNATURE_PAGE_SIZE?: string;
	SOLANA_QUOTE_TTL_SECONDS?: string;
	SOLANA_EXTRA_TOKENS?: string;
	PRICE_MAX_STALENESS_SECONDS?: string;
	FX_REFERENCE_CURRENCIES?: string;
	FX_REFERENCE_MAX_AGE_SECONDS?: string;
	CONVERSION_SPREAD_BPS?: string;
	STRIPE_API_URL?: string;
	STRIPE_MAX_NETWORK_RETRIES?: string;
	STRIPE_JS_URL?: string;
	GATEWAY_FEE_BPS?: string;
	SANDBOX_WALLET_URL?: string;
	EMAIL_FROM?: string;
	DASHBOARD_SIGN_UP?: string;
	PAYOUT_DESTINATION_COOLING_OFF_SECONDS?: string;
}

const configSchema = z.object({
	ADMIN_TOKEN: z.string().min(16, "ADMIN_TOKEN must be at least 16 characters").optional(),
	SESSION_SECRET: z.string().min(32, "SESSION_SECRET must be at least 32 characters"),
	ENVIRONMENT: z.string().min(1),
	PUBLIC_BASE_URL: z.url(),
	SOLANA_RPC_URLS: z
		.string()
		.refine(
			(v) => v.split(",").every((u) => /^https?:\/\/\S+$/.test(u.trim())),
			"must be comma-separated URLs",
		),
	SOLANA_CLUSTER: z.enum(["mainnet-beta", "devnet", "testnet", "localnet"]).optional(),
	DASHBOARD_SIGN_UP: z.enum(["on", "off"]).optional(),
	EMAIL_FROM: z.email("EMAIL_FROM must be an email address").optional(),
	SOLANA_SETTLEMENT_WALLET: z
		.string()
		.regex(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/, "must be a base58 Solana address"),
	PAYOUT_DESTINATION_COOLING_OFF_SECONDS: z
		.string()
		.regex(/^\d{1,8}$/, "must be a whole number of seconds (at most 99999999)")
		.optional(),
});

const checked = new WeakSet<object>();

/**
 * Validates bindings once per isolate and env object: a missing secret becomes one clear error
 * at the first request instead of an `undefined` deep in a handler. Not run at import time, so
 * start-up stays cheap.
 */
export function assertEnv(env: Env): void {
	if (checked.has(env)) return;
	const result = configSchema.safeParse(env);
	if (!result.success) {
		const problems = result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
		throw new Error(`Invalid Worker configuration: ${problems}`);
	}
	if (env.ENVIRONMENT === "production" && !env.PUBLIC_BASE_URL.startsWith("https://")) {
		// Checkout links are built from it: a loopback or plain-http origin would reach no payer.
		throw new Error("Invalid Worker configuration: PUBLIC_BASE_URL must be https:// in production");
	}
	if (env.ENVIRONMENT === "production") {
		// Webhook signing secrets cannot be stored without it; elsewhere it is checked on first use.
		try {
			parseEncryptionKeys(env.ENCRYPTION_KEYS);
		} catch (error) {
			throw new Error(`Invalid Worker configuration: ${(error as Error).message}`);
		}
	}
	if (!env.DB || !env.PAYMENTS)
		throw new Error("Invalid Worker configuration: DB and PAYMENTS bindings are required");
	checked.add(env);
}

/** Whether the dashboard's self-serve sign-up is open (see DASHBOARD_SIGN_UP). */
export function signUpOpen(env: Pick<Env, "DASHBOARD_SIGN_UP" | "ENVIRONMENT">): boolean {
	return (env.DASHBOARD_SIGN_UP ?? (env.ENVIRONMENT === "production" ? "off" : "on")) === "on";
}

/** The live-mode cooling-off period of payout destinations, in seconds (validated by assertEnv). */
export function payoutCoolingOffSeconds(
	env: Pick<Env, "PAYOUT_DESTINATION_COOLING_OFF_SECONDS">,
): number {
	const value = env.PAYOUT_DESTINATION_COOLING_OFF_SECONDS;
	return value === undefined ? 86_400 : Number(value);
}
