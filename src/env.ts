import type {
	ConversionsMessage,
	PayoutsQueueMessage,
	RefundsMessage,
	ReportsMessage,
	WebhookQueueMessage,
} from "./domain/queue-messages";

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
