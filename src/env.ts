import { z } from "zod";
import type { PaymentObject } from "../durable-objects/payment/object";
import type { PayoutObject } from "../durable-objects/payout-object";
import type { ProcessorHealth } from "../durable-objects/processor-health";
import type { RefundObject } from "../durable-objects/refund-object";
import type { RiskCounters } from "../durable-objects/risk-counters";
import type { SettlementWatcher } from "../durable-objects/settlement-watcher";
import { parseEncryptionKeys } from "./lib/encryption";

/** Bindings and secrets of the gateway Worker (wrangler.toml, `.dev.vars`, `wrangler secret put`). */
export interface Env {
	DB: D1Database;
	PAYMENTS: DurableObjectNamespace<PaymentObject>;
	/** One `ProcessorHealth` circuit breaker per processor; without it every processor counts as up. */
	PROCESSOR_HEALTH?: DurableObjectNamespace<ProcessorHealth>;
	/** One `RefundObject` per crypto refund: sends its transfer exactly once and follows it. */
	REFUNDS?: DurableObjectNamespace<RefundObject>;
	/** One `PayoutObject` per on-chain payout: sends its transfer exactly once and follows it. */
	PAYOUTS?: DurableObjectNamespace<PayoutObject>;
	/** One `RiskCounters` per merchant and mode: velocity counters and wallets seen (risk rules). */
	RISK_COUNTERS?: DurableObjectNamespace<RiskCounters>;
	/** One `SettlementWatcher` per settlement account: finds and books every inflow. */
	SETTLEMENT_WATCHERS: DurableObjectNamespace<SettlementWatcher>;
	/** Per-API-key request limit (wrangler.toml `[[ratelimits]]`). */
	API_RATE_LIMITER?: RateLimit;
	/** Per-IP limit on payer-facing endpoints (checkout, transaction requests, sign-in). */
	CHECKOUT_RATE_LIMITER?: RateLimit;
	/** Per-IP limit on payment link visits, each of which creates a payment. */
	LINK_RATE_LIMITER?: RateLimit;
	/** Per-IP limit on failed authentication to /v1 (missing, malformed or unknown keys). */
	AUTH_FAILURE_RATE_LIMITER?: RateLimit;
	/** Queues (wrangler.toml): refunds, conversions and webhook deliveries. */
	REFUNDS_QUEUE?: Queue<unknown>;
	CONVERSIONS_QUEUE?: Queue<unknown>;
	WEBHOOKS_QUEUE?: Queue<unknown>;
	/** Report builds too large for one request or cron run. */
	REPORTS_QUEUE?: Queue<unknown>;
	/** Payouts to execute (the send step), from the API and the payout schedule. */
	PAYOUTS_QUEUE?: Queue<unknown>;
	/** R2 bucket holding report files (CSV and JSON). */
	REPORTS_BUCKET?: R2Bucket;
	/** Authorises the admin API; without it the admin API does not exist (404). */
	ADMIN_TOKEN?: string;
	/** Signs checkout tokens and payer sessions (HMAC key, at least 32 characters). */
	SESSION_SECRET: string;
	ENVIRONMENT: string;
	PUBLIC_BASE_URL: string;
	/** Comma-separated Solana JSON-RPC endpoints, tried in order. */
	SOLANA_RPC_URLS: string;
	SOLANA_RPC_TIMEOUT_MS?: string;
	/** The cluster wallets are asked to use: mainnet-beta (default), devnet, testnet, localnet. */
	SOLANA_CLUSTER?: string;
	/** The gateway's settlement wallet (public address) that receives crypto payments. */
	SOLANA_SETTLEMENT_WALLET: string;
	/**
	 * The settlement wallet's secret key (base58 of its 64 bytes), a Worker secret: it signs crypto
	 * refunds. Without it crypto refunds fail; everything else works.
	 */
	SETTLEMENT_WALLET_KEY?: string;
	/** Shortfall accepted as paid, in basis points of the quoted amount (default 0). */
	SOLANA_UNDERPAYMENT_TOLERANCE_BPS?: string;
	/** Payments above this many minor units of their currency wait for `finalized` (default 10000). */
	SOLANA_FINALIZED_ABOVE?: string;
	/** How often a settlement watcher looks while payments are open, in ms (default 400: a slot). */
	SOLANA_WATCH_INTERVAL_MS?: string;
	/** Signatures asked for per `getSignaturesForAddress` page (default and most 1000). */
	SOLANA_SIGNATURE_PAGE_SIZE?: string;
	/** Seconds a crypto quote holds its rate (default 900, never past the payment's expiry). */
	SOLANA_QUOTE_TTL_SECONDS?: string;
	/** JSON list of extra tokens: [{symbol, mint, decimals, program, usd_feed_id}]. */
	SOLANA_EXTRA_TOKENS?: string;
	/** Pyth Hermes base URL for crypto and FX prices. */
	PYTH_HERMES_URL: string;
	/** Oldest price a quote may use, in seconds (default 120). */
	PRICE_MAX_STALENESS_SECONDS?: string;
	/** Frankfurter-style fiat reference rates (`{base}/latest?base=USD`); fiat legs use Pyth without it. */
	FX_REFERENCE_URL?: string;
	/** Currencies fetched from the reference feed against USD, comma-separated (default eur,gbp,jpy). */
	FX_REFERENCE_CURRENCIES?: string;
	/** Oldest reference rate a conversion may use, in seconds (default 518400: six days, past Easter). */
	FX_REFERENCE_MAX_AGE_SECONDS?: string;
	/** The gateway's spread on conversions and card presentment, in basis points (default 30). */
	CONVERSION_SPREAD_BPS?: string;
	/** Stripe secret key (sk_live_… / sk_test_…); card payments are off without it. */
	STRIPE_SECRET_KEY?: string;
	/** Stripe publishable key, handed to the checkout's Payment Element. */
	STRIPE_PUBLISHABLE_KEY?: string;
	/** Signing secret of the Stripe webhook endpoint (whsec_…). */
	STRIPE_WEBHOOK_SECRET?: string;
	/** Stripe API origin (default https://api.stripe.com; the sandbox's emulator locally). */
	STRIPE_API_URL?: string;
	/** Retries of a failed Stripe call by the SDK (default 2). */
	STRIPE_MAX_NETWORK_RETRIES?: string;
	/** Stripe.js URL (default https://js.stripe.com/v3/; the emulator's stand-in locally). */
	STRIPE_JS_URL?: string;
	/** Gateway fee on crypto payments, in basis points, paid on top by the payer (default 50). */
	GATEWAY_FEE_BPS?: string;
	/**
	 * The local sandbox's control server (set by `npm run dev`): with ENVIRONMENT=development, a
	 * test-mode checkout offers its Sandbox Wallet. Ignored anywhere else; never set in production.
	 */
	SANDBOX_WALLET_URL?: string;
	/**
	 * Key-encryption keys for secrets at rest (webhook signing secrets): `kid:base64(32 bytes)`,
	 * comma-separated, first = current. Required in production.
	 */
	ENCRYPTION_KEYS?: string;
	/** Cloudflare Email Workers `send_email` binding: sends team invitations. Optional. */
	SEND_EMAIL?: SendEmail;
	/** The sender of invitation emails (an address on a domain with Email Routing). */
	EMAIL_FROM?: string;
	/** Per-IP and per-account limit on dashboard sign-in, recovery and invitation attempts. */
	DASHBOARD_AUTH_RATE_LIMITER?: RateLimit;
	/**
	 * `on` lets anyone create a merchant from the dashboard's sign-up page; `off` does not. Default:
	 * off when ENVIRONMENT is production, on elsewhere.
	 */
	DASHBOARD_SIGN_UP?: string;
	/**
	 * Seconds a new live-mode payout destination (or one made default) waits before it can receive
	 * a payout (default 86400). Test mode has no cooling-off period.
	 */
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
