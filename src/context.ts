/**
 * The services that routes, queue consumers, cron and Durable Objects share, built by one
 * factory from `env` (the way Unkey's Workers API sets its services on the Hono context). HTTP
 * handlers find them at `c.var.services` (set by `initServices` in src/app.ts); everything else
 * calls `createServices(env)`. Built once per env object and lazily: a request that never reads
 * the chain builds no RPC client.
 */
import type Stripe from "stripe";
import { type Config, getConfig } from "./config";
import { createDb, type Database } from "./db/client";
import type { Env } from "./env";
import { rpcFromEnv, type SolanaRpc } from "./processors/solana/rpc";
import { stripeFromEnv } from "./processors/stripe/client";

export interface Services {
	readonly env: Env;
	/** The parsed configuration (src/config.ts). */
	readonly config: Config;
	/** Drizzle over the D1 binding. */
	readonly db: Database;
	/** The Solana JSON-RPC client (SOLANA_RPC_URLS, SOLANA_RPC_TIMEOUT_MS). */
	readonly solana: SolanaRpc;
	/** The Stripe client; throws when card payments are not configured (no STRIPE_SECRET_KEY). */
	stripe(): Stripe;
}

const built = new WeakMap<object, Services>();

/** The shared services of `env`; throws "Invalid Worker configuration: …" on a bad variable. */
export function createServices(env: Env): Services {
	const cached = built.get(env);
	if (cached) return cached;
	const config = getConfig(env);
	let db: Database | undefined;
	let solana: SolanaRpc | undefined;
	const services: Services = {
		env,
		config,
		get db() {
			db ??= createDb(env.DB);
			return db;
		},
		get solana() {
			solana ??= rpcFromEnv(env);
			return solana;
		},
		// Read at each call: the SDK client is cached per key by stripeFromEnv.
		stripe: () => stripeFromEnv(env),
	};
	built.set(env, services);
	return services;
}
