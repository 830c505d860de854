import { routingRulesRow, upsertRoutingRules } from "../db/routing-rules";
import { newId } from "../domain/ids";
import type { Owner } from "../domain/owner";
import type { PaymentMethodType } from "../domain/payment-method";
import {
	type BreakerState,
	breakerOpen,
	PROCESSORS,
	type Processor,
	type ProcessorHealthState,
	type RiskLevel,
	type RoutingConfig,
	type RoutingDecision,
	route,
} from "../domain/routing";
import type { Env } from "../env";
import { log } from "../lib/log";
import { RulesCache } from "../lib/rules-cache";

/** A merchant's routing configuration in one mode, as stored. */
export interface RoutingRulesRecord extends RoutingConfig {
	/** Counts replacements; 0 while the merchant has never set rules. */
	version: number;
	/** Unix seconds of the last replacement; null while never set. */
	updated: number | null;
}

/** The API object: `GET /v1/routing_rules` and the data of `routing_rules.updated` events. */
export function toApiRoutingRules(record: RoutingRulesRecord, livemode: boolean) {
	return {
		object: "routing_rules" as const,
		livemode,
		strategy: record.strategy,
		rules: record.rules,
		updated: record.updated,
	};
}

const DEFAULT_RULES: RoutingRulesRecord = {
	strategy: "first_match",
	rules: [],
	version: 0,
	updated: null,
};

/** The stored configuration, read from D1 (the API's own reads are never stale). */
export async function getRoutingRules(d1: D1Database, owner: Owner): Promise<RoutingRulesRecord> {
	const row = await routingRulesRow(d1, owner);
	if (!row) return DEFAULT_RULES;
	return { strategy: row.strategy, rules: row.rules, version: row.version, updated: row.updated };
}

/**
 * Replaces the whole configuration and appends a `routing_rules.updated` event in one D1 batch
 * (one transaction): the event carries the version that same write produced, so concurrent
 * replacements each leave exactly one event, in order.
 */
export async function replaceRoutingRules(
	d1: D1Database,
	owner: Owner,
	config: RoutingConfig,
): Promise<RoutingRulesRecord> {
	const now = Date.now();
	const updated = Math.floor(now / 1000);
	const data = JSON.stringify(
		toApiRoutingRules({ ...config, version: 0, updated }, owner.livemode),
	);
	const version = await upsertRoutingRules(d1, owner, config, updated, {
		id: newId("event", now),
		data,
	});
	if (version === undefined) throw new Error("routing_rules upsert returned no version");
	const record: RoutingRulesRecord = { ...config, version, updated };
	rulesCache.remember(owner, record, now);
	return record;
}

// ── Per-isolate caches ────────────────────────────────────────────────────────────────────────
// Payment creation reads rules and processor health on every payment; both change rarely, so
// each isolate keeps them briefly. Only settled values are cached, never promises: a promise
// started by one request must not be awaited by another (its I/O belongs to the first).

const HEALTH_TTL_MS = 2_000;

const rulesCache = new RulesCache<RoutingRulesRecord>("routing rules");

/** The configuration routing uses: at most 10 s old (see RulesCache). */
export function cachedRoutingRules(d1: D1Database, owner: Owner): Promise<RoutingRulesRecord> {
	return rulesCache.read(owner, () => getRoutingRules(d1, owner));
}

let healthCache: { states: Partial<Record<Processor, BreakerState>>; expires: number } | null =
	null;

function healthStub(env: Env, processor: Processor) {
	const ns = env.PROCESSOR_HEALTH;
	return ns ? ns.get(ns.idFromName(processor)) : null;
}

/** Updates this isolate's view with a state the processor's object just reported. */
function noteHealth(processor: Processor, state: ProcessorHealthState): void {
	if (healthCache) {
		healthCache.states[processor] = { failures: state.failures, opened_at: state.opened_at };
	}
}

/**
 * Records a processor call's outcome on its circuit breaker. Never rejects (a lost record only
 * delays the breaker), so callers can hand it to `ctx.waitUntil` and move on.
 */
export async function recordProcessorOutcome(
	env: Env,
	processor: Processor,
	outcome: "success" | "failure",
): Promise<void> {
	const stub = healthStub(env, processor);
	if (!stub) return;
	try {
		noteHealth(processor, await stub.record(outcome));
	} catch (err) {
		log("warn", "processor outcome not recorded", {
			processor,
			outcome,
			error: err instanceof Error ? err.message : String(err),
		});
	}
}

/**
 * Processors whose circuit is open now. States are fetched from the processors' objects at
 * most every 2 s per isolate; whether a breaker is still open is decided at each call, so a
 * cool-down ends on time. A processor whose object cannot be reached counts as up.
 */
export async function unavailableProcessors(env: Env): Promise<Processor[]> {
	if (!env.PROCESSOR_HEALTH) return [];
	if (!healthCache || healthCache.expires <= Date.now()) {
		const previous = healthCache?.states ?? {};
		const fetched = await Promise.all(
			PROCESSORS.map(async (processor) => {
				try {
					const state = await healthStub(env, processor)?.state();
					return [processor, state ?? previous[processor]] as const;
				} catch (err) {
					log("warn", "processor health unreadable", {
						processor,
						error: err instanceof Error ? err.message : String(err),
					});
					return [processor, previous[processor]] as const;
				}
			}),
		);
		const states: Partial<Record<Processor, BreakerState>> = {};
		for (const [processor, state] of fetched) {
			if (state) states[processor] = { failures: state.failures, opened_at: state.opened_at };
		}
		healthCache = { states, expires: Date.now() + HEALTH_TTL_MS };
	}
	const now = Date.now();
	const states = healthCache.states;
	return PROCESSORS.filter((p) => {
		const state = states[p];
		return state !== undefined && breakerOpen(state, now);
	});
}

/** Forgets this isolate's cached rules and processor health (tests; operators never need it). */
export function clearRoutingCaches(): void {
	rulesCache.clear();
	healthCache = null;
}

export interface RoutingRequest {
	merchantId: string;
	livemode: boolean;
	amount: number;
	currency: string;
	/** The methods the payment accepts, in the merchant's order of preference. */
	methods: readonly PaymentMethodType[];
	/** The payer's country (ISO 3166-1 alpha-2, e.g. `request.cf.country`), when known. */
	country?: string | null | undefined;
	risk?: RiskLevel | null | undefined;
}

/**
 * The processor a payment goes to under the merchant's current rules and processor health:
 * what payment creation records on the payment, and what the preview endpoint shows.
 */
export async function decideRouting(env: Env, request: RoutingRequest): Promise<RoutingDecision> {
	const owner = { merchantId: request.merchantId, livemode: request.livemode };
	const [config, unavailable] = await Promise.all([
		cachedRoutingRules(env.DB, owner),
		unavailableProcessors(env),
	]);
	return route(config, {
		amount: request.amount,
		currency: request.currency.toLowerCase(),
		methods: request.methods,
		country: request.country ? request.country.toUpperCase() : null,
		risk: request.risk ?? null,
		unavailable,
	});
}
