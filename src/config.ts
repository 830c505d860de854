/**
 * The Worker's configuration, parsed once per `env` object: every variable with its default in
 * one place, numbers as numbers, lists split, SOLANA_EXTRA_TOKENS checked. A bad value is one
 * clear "Invalid Worker configuration: …" error at the first request, cron run, queue batch or
 * Durable Object call that reads the configuration, instead of a NaN deep in a handler.
 *
 * Secrets (ADMIN_TOKEN, ENCRYPTION_KEYS, STRIPE_SECRET_KEY, SETTLEMENT_WALLET_KEY, …) are
 * validated here but read from `env` where they are used: they are not copied into the cache.
 */
import { z } from "zod";
import type { Env } from "./env";
import { parseEncryptionKeys } from "./lib/encryption";

/** `Number(value ?? fallback)`, refused when it is not a number at all. */
function numberOr(fallback: number) {
	return z
		.string()
		.optional()
		.transform((v, ctx) => {
			const n = Number(v ?? String(fallback));
			if (Number.isNaN(n)) {
				ctx.addIssue({ code: "custom", message: "must be a number" });
				return z.NEVER;
			}
			return n;
		});
}

/** A whole number of at least 0 when it is one, otherwise `fallback` (never an error). */
function wholeOr(fallback: number, max = Number.MAX_SAFE_INTEGER) {
	return z
		.string()
		.optional()
		.transform((v) => {
			const n = Number(v);
			return v !== undefined && Number.isSafeInteger(n) && n >= 0 && n <= max ? n : fallback;
		});
}

/** JSON list of extra SPL tokens: [{symbol, mint, decimals, program, usd_feed_id}]. */
const extraTokenSchema = z.object({
	symbol: z.string().min(1),
	mint: z.string().min(1),
	decimals: z.number().int().min(0).max(255),
	program: z.string().min(1),
	usd_feed_id: z.string().min(1),
});
export type ExtraToken = z.infer<typeof extraTokenSchema>;

const extraTokensSchema = z
	.string()
	.optional()
	.transform((v, ctx): ExtraToken[] => {
		if (!v) return [];
		let json: unknown;
		try {
			json = JSON.parse(v);
		} catch {
			ctx.addIssue({ code: "custom", message: "must be a JSON list of tokens" });
			return z.NEVER;
		}
		const parsed = z.array(extraTokenSchema).safeParse(json);
		if (!parsed.success) {
			for (const issue of parsed.error.issues)
				ctx.addIssue({ code: "custom", message: `${issue.path.join(".")}: ${issue.message}` });
			return z.NEVER;
		}
		return parsed.data;
	});

/** Parses SOLANA_EXTRA_TOKENS alone (scripts that have no whole Worker configuration). */
export function parseExtraTokens(value: string | undefined): ExtraToken[] {
	const result = extraTokensSchema.safeParse(value);
	if (!result.success) throw new Error(result.error.issues.map((i) => i.message).join("; "));
	return result.data;
}

const SOLANA_CLUSTERS = ["mainnet-beta", "devnet", "testnet", "localnet"] as const;

export const DEFAULT_FX_REFERENCE_CURRENCIES = ["eur", "gbp", "jpy"];
/** The ECB publishes on working days around 16:00 CET; six days spans its longest closure. */
const DEFAULT_FX_REFERENCE_MAX_AGE = 6 * 24 * 3600;
export const DEFAULT_CONVERSION_SPREAD_BPS = 30;
/** A settlement watcher looks this often while payments are open (a slot). */
export const DEFAULT_WATCH_INTERVAL_MS = 400;
/** getSignaturesForAddress returns at most this many per page (some providers allow fewer). */
export const MAX_SIGNATURE_PAGE = 1000;

const coolingOffSchema = z
	.string()
	.regex(/^\d{1,8}$/, "must be a whole number of seconds (at most 99999999)")
	.optional()
	.transform((v) => (v === undefined ? 86_400 : Number(v)));

const schema = z.object({
	// ── Deployment ──
	ENVIRONMENT: z.string().min(1),
	PUBLIC_BASE_URL: z.url(),
	/** Authorises the admin API; without it the admin API does not exist (404). */
	ADMIN_TOKEN: z.string().min(16, "ADMIN_TOKEN must be at least 16 characters").optional(),
	/** Signs checkout tokens and payer sessions (HMAC key). */
	SESSION_SECRET: z.string().min(32, "SESSION_SECRET must be at least 32 characters"),
	/** `on` lets anyone create a merchant from the dashboard; default off in production. */
	DASHBOARD_SIGN_UP: z.enum(["on", "off"]).optional(),
	/** The sender of invitation emails (an address on a domain with Email Routing). */
	EMAIL_FROM: z.email("EMAIL_FROM must be an email address").optional(),

	// ── Solana ──
	/** JSON-RPC endpoints, tried in order. */
	SOLANA_RPC_URLS: z
		.string()
		.refine(
			(v) => v.split(",").every((u) => /^https?:\/\/\S+$/.test(u.trim())),
			"must be comma-separated URLs",
		)
		.transform((v) =>
			v
				.split(",")
				.map((u) => u.trim())
				.filter(Boolean),
		),
	SOLANA_RPC_TIMEOUT_MS: z
		.string()
		.optional()
		.transform((v, ctx) => {
			const n = v ? Number(v) : 5000;
			if (Number.isNaN(n)) {
				ctx.addIssue({ code: "custom", message: "must be a number of milliseconds" });
				return z.NEVER;
			}
			return n;
		}),
	/** The cluster wallets are asked to use. */
	SOLANA_CLUSTER: z.enum(SOLANA_CLUSTERS).default("mainnet-beta"),
	/** The gateway's settlement wallet (public address) that receives crypto payments. */
	SOLANA_SETTLEMENT_WALLET: z
		.string()
		.regex(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/, "must be a base58 Solana address"),
	/** Shortfall accepted as paid, in basis points of the quoted amount. */
	SOLANA_UNDERPAYMENT_TOLERANCE_BPS: numberOr(0),
	/** Payments above this many minor units of their currency wait for `finalized`. */
	SOLANA_FINALIZED_ABOVE: numberOr(10_000),
	/** How often a settlement watcher looks while payments are open; not positive = default. */
	SOLANA_WATCH_INTERVAL_MS: z
		.string()
		.optional()
		.transform((v) => {
			const n = Number(v ?? DEFAULT_WATCH_INTERVAL_MS);
			return Number.isFinite(n) && n > 0 ? n : DEFAULT_WATCH_INTERVAL_MS;
		}),
	/** Signatures asked for per page (1-1000, whole); anything else = the maximum. */
	SOLANA_SIGNATURE_PAGE_SIZE: z
		.string()
		.optional()
		.transform((v) => {
			const n = Number(v ?? MAX_SIGNATURE_PAGE);
			return n > 0 && n <= MAX_SIGNATURE_PAGE ? Math.floor(n) : MAX_SIGNATURE_PAGE;
		}),
	/** Seconds a crypto quote holds its rate (never past the payment's expiry). */
	SOLANA_QUOTE_TTL_SECONDS: numberOr(900),
	SOLANA_EXTRA_TOKENS: extraTokensSchema,
	/** Gateway fee on crypto payments, in basis points, paid on top by the payer. */
	GATEWAY_FEE_BPS: z
		.string()
		.optional()
		.transform((v, ctx) => {
			try {
				return BigInt(v ?? "50");
			} catch {
				ctx.addIssue({ code: "custom", message: "must be a whole number of basis points" });
				return z.NEVER;
			}
		}),

	// ── Prices and conversions ──
	/** Oldest Pyth price a quote may use, in seconds. */
	PRICE_MAX_STALENESS_SECONDS: wholeOr(120),
	/** Frankfurter-style reference rates; fiat legs use Pyth without it (empty = unset). */
	FX_REFERENCE_URL: z
		.string()
		.optional()
		.transform((v) => v || undefined),
	/** Currencies fetched from the reference feed against USD. */
	FX_REFERENCE_CURRENCIES: z
		.string()
		.optional()
		.transform((v) =>
			v ? v.split(",").map((c) => c.trim().toLowerCase()) : DEFAULT_FX_REFERENCE_CURRENCIES,
		),
	/** Oldest reference rate a conversion may use, in seconds. */
	FX_REFERENCE_MAX_AGE_SECONDS: wholeOr(DEFAULT_FX_REFERENCE_MAX_AGE),
	/** The gateway's spread on conversions and card presentment (0-1000 bps). */
	CONVERSION_SPREAD_BPS: wholeOr(DEFAULT_CONVERSION_SPREAD_BPS, 1000),

	// ── Stripe ──
	/** Stripe API origin (the sandbox's emulator locally). */
	STRIPE_API_URL: z.string().default("https://api.stripe.com"),
	/** Retries of a failed Stripe call by the SDK. */
	STRIPE_MAX_NETWORK_RETRIES: numberOr(2),
	/** Stripe.js URL (the emulator's stand-in locally). */
	STRIPE_JS_URL: z.string().default("https://js.stripe.com/v3/"),

	// ── Payouts ──
	/** Seconds a new live-mode payout destination waits before it can receive a payout. */
	PAYOUT_DESTINATION_COOLING_OFF_SECONDS: coolingOffSchema,
});

/** Secrets are checked by the schema but not kept: their users read them from `env`. */
type Secret = "ADMIN_TOKEN" | "SESSION_SECRET";
export type Config = Omit<z.output<typeof schema>, Secret>;

const configs = new WeakMap<object, Config>();

/**
 * The configuration of `env`, parsed on first use and cached for the env object's life. Throws
 * one "Invalid Worker configuration: …" error listing every problem.
 */
export function getConfig(env: Env): Config {
	const cached = configs.get(env);
	if (cached) return cached;
	const result = schema.safeParse(env);
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
	const { ADMIN_TOKEN: _admin, SESSION_SECRET: _session, ...config } = result.data;
	configs.set(env, config);
	return config;
}

/** Whether the dashboard's self-serve sign-up is open (see DASHBOARD_SIGN_UP). */
export function signUpOpen(env: Pick<Env, "DASHBOARD_SIGN_UP" | "ENVIRONMENT">): boolean {
	return (env.DASHBOARD_SIGN_UP ?? (env.ENVIRONMENT === "production" ? "off" : "on")) === "on";
}

/** The live-mode cooling-off period of payout destinations, in seconds. */
export function payoutCoolingOffSeconds(
	env: Pick<Env, "PAYOUT_DESTINATION_COOLING_OFF_SECONDS">,
): number {
	return coolingOffSchema.parse(env.PAYOUT_DESTINATION_COOLING_OFF_SECONDS);
}

const checked = new WeakSet<object>();

/**
 * Validates the configuration and the bindings every request needs, once per
 * isolate and env object: a missing secret becomes one clear error at the first request instead
 * of an `undefined` deep in a handler. Not run at import time, so start-up stays cheap.
 */
export function assertEnv(env: Env): void {
	if (checked.has(env)) return;
	getConfig(env);
	if (!env.DB || !env.PAYMENTS)
		throw new Error("Invalid Worker configuration: DB and PAYMENTS bindings are required");
	checked.add(env);
}
