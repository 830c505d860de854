import { z } from "zod";
import type { PaymentMethodType } from "./payment-method";
import { hasUniqueRuleIds, UNIQUE_RULE_IDS } from "./rule-ids";

/**
 * Payment routing: which processor takes a payment, with which settings, and why. Pure: the
 * caller supplies the payment's facts, the merchant's rules, processor health and cost inputs;
 * the decision is recorded on the payment as `routing`.
 */

export const PROCESSORS = ["solana", "stripe"] as const;
export type Processor = (typeof PROCESSORS)[number];

/** Which methods each processor can take. */
export const PROCESSOR_METHODS: Record<Processor, PaymentMethodType> = {
	solana: "solana",
	stripe: "card",
};

export const RISK_LEVELS = ["allow", "review", "block"] as const;
export type RiskLevel = (typeof RISK_LEVELS)[number];

const currency = z
	.string()
	.regex(/^[A-Za-z]{3}$/, "must be an ISO 4217 code")
	.transform((v) => v.toLowerCase());
const country = z
	.string()
	.regex(/^[A-Za-z]{2}$/, "must be an ISO 3166-1 alpha-2 code")
	.transform((v) => v.toUpperCase());

export const RoutingConditionsSchema = z
	.object({
		methods: z
			.array(z.enum(["solana", "card"]))
			.min(1)
			.optional(),
		currencies: z.array(currency).min(1).optional(),
		/** Minor units of the payment's currency, inclusive. */
		amount_gte: z.number().int().min(0).optional(),
		amount_lte: z.number().int().min(0).optional(),
		countries: z.array(country).min(1).optional(),
		not_countries: z.array(country).min(1).optional(),
		risk_levels: z.array(z.enum(RISK_LEVELS)).min(1).optional(),
	})
	.strict()
	.refine(
		(c) => c.amount_gte === undefined || c.amount_lte === undefined || c.amount_gte <= c.amount_lte,
		{
			message: "amount_gte must not exceed amount_lte",
			path: ["amount_gte"],
		},
	);

export const SolanaSettingsSchema = z
	.object({
		required_commitment: z.enum(["confirmed", "finalized"]).optional(),
		accepted_tokens: z.array(z.string().min(1).max(44)).min(1).max(20).optional(),
	})
	.strict();

export const CardSettingsSchema = z
	.object({ capture_method: z.enum(["automatic", "manual"]).optional() })
	.strict();

export const RoutingRuleSchema = z
	.object({
		id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "must be 1–64 letters, digits, '_' or '-'"),
		description: z.string().max(500).optional(),
		conditions: RoutingConditionsSchema.default({}),
		action: z.discriminatedUnion("processor", [
			z
				.object({ processor: z.literal("solana"), settings: SolanaSettingsSchema.default({}) })
				.strict(),
			z
				.object({ processor: z.literal("stripe"), settings: CardSettingsSchema.default({}) })
				.strict(),
		]),
	})
	.strict();

export const RoutingConfigSchema = z
	.object({
		/**
		 * first_match: the first rule whose conditions hold decides.
		 * priority: matching rules in order, skipping processors whose circuit is open.
		 * lowest_cost: among matching rules (or every eligible processor), the cheapest total.
		 */
		strategy: z.enum(["first_match", "priority", "lowest_cost"]).default("first_match"),
		rules: z.array(RoutingRuleSchema).max(100).default([]),
	})
	.strict()
	.refine(hasUniqueRuleIds, UNIQUE_RULE_IDS);

export type RoutingConditions = z.infer<typeof RoutingConditionsSchema>;
export type RoutingRule = z.infer<typeof RoutingRuleSchema>;
export type RoutingConfig = z.infer<typeof RoutingConfigSchema>;
export type ProcessorSettings = RoutingRule["action"]["settings"];
export type SolanaSettings = z.infer<typeof SolanaSettingsSchema>;
export type CardSettings = z.infer<typeof CardSettingsSchema>;

/** A processor's all-in cost for one payment, in minor units of the payment's currency. */
export interface CostEstimate {
	processor_fee: number;
	network_fee: number;
	conversion_spread: number;
	total: number;
}

/** Fee schedules used for cost estimates; defaults follow the processors' public pricing. */
export interface CostModel {
	/** Stripe: percentage in basis points plus a fixed amount per currency (minor units). */
	stripe: {
		bps: number;
		fixed: Record<string, number>;
		cross_border_bps: number;
		home_country: string;
	};
	/** Solana: the gateway's fee, a network fee estimate, and the conversion spread. */
	solana: { bps: number; network_fee: Record<string, number>; conversion_spread_bps: number };
}

export const DEFAULT_COST_MODEL: CostModel = {
	stripe: {
		bps: 290,
		fixed: { usd: 30, eur: 25, gbp: 20, jpy: 50 },
		cross_border_bps: 150,
		home_country: "US",
	},
	// 5,000 lamports per signature plus priority fees stays well under a cent at today's prices.
	solana: { bps: 50, network_fee: {}, conversion_spread_bps: 30 },
};

export interface RoutingInput {
	amount: number;
	currency: string;
	/** The methods the payment accepts, in the merchant's order of preference. */
	methods: readonly PaymentMethodType[];
	/** The payer's country (Cloudflare `request.cf.country`), when known. */
	country: string | null;
	risk: RiskLevel | null;
	/** Processors whose circuit breaker is open (failing recently). */
	unavailable?: readonly Processor[];
	costModel?: CostModel;
}

export interface RoutingAlternative {
	processor: Processor;
	rule_id: string | null;
	reason: string;
	cost?: CostEstimate;
}

export interface RoutingDecision {
	processor: Processor | null;
	settings: ProcessorSettings;
	rule_id: string | null;
	strategy: RoutingConfig["strategy"];
	reason: string;
	cost?: CostEstimate;
	alternatives: RoutingAlternative[];
}

export function matches(
	conditions: RoutingConditions,
	input: RoutingInput,
	processor: Processor,
): boolean {
	const method = PROCESSOR_METHODS[processor];
	if (!input.methods.includes(method)) return false;
	if (conditions.methods && !conditions.methods.includes(method)) return false;
	if (conditions.currencies && !conditions.currencies.includes(input.currency)) return false;
	if (conditions.amount_gte !== undefined && input.amount < conditions.amount_gte) return false;
	if (conditions.amount_lte !== undefined && input.amount > conditions.amount_lte) return false;
	if (conditions.countries && (!input.country || !conditions.countries.includes(input.country)))
		return false;
	if (conditions.not_countries && input.country && conditions.not_countries.includes(input.country))
		return false;
	if (conditions.risk_levels && (!input.risk || !conditions.risk_levels.includes(input.risk)))
		return false;
	return true;
}

/** Rounds a basis-point share up: estimates never understate a cost. */
function bpsOf(amount: number, bps: number): number {
	return Math.ceil((amount * bps) / 10_000);
}

export function estimateCost(processor: Processor, input: RoutingInput): CostEstimate {
	const model = input.costModel ?? DEFAULT_COST_MODEL;
	if (processor === "stripe") {
		const crossBorder =
			input.country !== null && input.country !== model.stripe.home_country
				? model.stripe.cross_border_bps
				: 0;
		const processorFee =
			bpsOf(input.amount, model.stripe.bps + crossBorder) +
			(model.stripe.fixed[input.currency] ?? 30);
		return {
			processor_fee: processorFee,
			network_fee: 0,
			conversion_spread: 0,
			total: processorFee,
		};
	}
	const processorFee = bpsOf(input.amount, model.solana.bps);
	const networkFee = model.solana.network_fee[input.currency] ?? 1;
	const spread = bpsOf(input.amount, model.solana.conversion_spread_bps);
	return {
		processor_fee: processorFee,
		network_fee: networkFee,
		conversion_spread: spread,
		total: processorFee + networkFee + spread,
	};
}

interface Candidate {
	processor: Processor;
	settings: ProcessorSettings;
	rule_id: string | null;
}

function describe(rule: RoutingRule | null): string {
	if (!rule) return "default";
	return rule.description ? `rule ${rule.id} (${rule.description})` : `rule ${rule.id}`;
}

/**
 * Candidates in order: each matching rule's processor, then (as the default) every processor the
 * payment's methods allow, in the payment's method order. A later duplicate of a processor is
 * dropped, so the first rule to name a processor sets its settings.
 */
function candidates(config: RoutingConfig, input: RoutingInput): (Candidate & { why: string })[] {
	const out: (Candidate & { why: string })[] = [];
	const seen = new Set<Processor>();
	for (const rule of config.rules) {
		const processor = rule.action.processor;
		if (seen.has(processor) || !matches(rule.conditions, input, processor)) continue;
		seen.add(processor);
		out.push({ processor, settings: rule.action.settings, rule_id: rule.id, why: describe(rule) });
	}
	for (const method of input.methods) {
		const processor = (Object.keys(PROCESSOR_METHODS) as Processor[]).find(
			(p) => PROCESSOR_METHODS[p] === method,
		);
		if (!processor || seen.has(processor)) continue;
		seen.add(processor);
		out.push({ processor, settings: {}, rule_id: null, why: "default for the payment's methods" });
	}
	return out;
}

/** Decides the processor for a payment under the merchant's routing configuration. */
export function route(config: RoutingConfig, input: RoutingInput): RoutingDecision {
	const unavailable = new Set(input.unavailable ?? []);
	const all = candidates(config, input);
	if (all.length === 0) {
		return {
			processor: null,
			settings: {},
			rule_id: null,
			strategy: config.strategy,
			reason: "no processor can take this payment's methods",
			alternatives: [],
		};
	}
	const withCost = all.map((c) => ({ ...c, cost: estimateCost(c.processor, input) }));
	const alternative = (c: (typeof withCost)[number], reason: string): RoutingAlternative => ({
		processor: c.processor,
		rule_id: c.rule_id,
		reason,
		cost: c.cost,
	});

	if (config.strategy === "first_match") {
		// The first candidate decides even when its processor is failing: the merchant asked for it.
		const [chosen, ...rest] = withCost as [(typeof withCost)[number], ...typeof withCost];
		return {
			processor: chosen.processor,
			settings: chosen.settings,
			rule_id: chosen.rule_id,
			strategy: config.strategy,
			reason: `first match: ${chosen.why}${unavailable.has(chosen.processor) ? " (processor currently failing)" : ""}`,
			cost: chosen.cost,
			alternatives: rest.map((c) => alternative(c, `later match: ${c.why}`)),
		};
	}

	const healthy = withCost.filter((c) => !unavailable.has(c.processor));
	const down = withCost.filter((c) => unavailable.has(c.processor));
	if (healthy.length === 0) {
		return {
			processor: null,
			settings: {},
			rule_id: null,
			strategy: config.strategy,
			reason: "every eligible processor is currently failing",
			alternatives: down.map((c) => alternative(c, `circuit open: ${c.why}`)),
		};
	}

	let ordered = healthy;
	let reason: (c: (typeof withCost)[number]) => string;
	if (config.strategy === "lowest_cost") {
		// Stable sort: a tie keeps the rule (or method) order, so the outcome is predictable.
		ordered = [...healthy].sort((a, b) => a.cost.total - b.cost.total);
		reason = (c) => `lowest estimated cost ${c.cost.total} ${input.currency} (${c.why})`;
	} else {
		reason = (c) =>
			down.length > 0
				? `priority: ${c.why}; skipped failing ${down.map((d) => d.processor).join(", ")}`
				: `priority: ${c.why}`;
	}
	const [chosen, ...rest] = ordered as [(typeof withCost)[number], ...typeof withCost];
	return {
		processor: chosen.processor,
		settings: chosen.settings,
		rule_id: chosen.rule_id,
		strategy: config.strategy,
		reason: reason(chosen),
		cost: chosen.cost,
		alternatives: [
			...rest.map((c) =>
				alternative(
					c,
					config.strategy === "lowest_cost"
						? `estimated cost ${c.cost.total} ${input.currency} (${c.why})`
						: `lower priority: ${c.why}`,
				),
			),
			...down.map((c) => alternative(c, `circuit open: ${c.why}`)),
		],
	};
}

/**
 * A circuit breaker over recent processor outcomes: open after `threshold` consecutive failures,
 * half-open again after `cooldownMs` (one trial request decides). Pure state transitions; the
 * caller stores the state where it is shared (a Durable Object or KV).
 */
export interface BreakerState {
	failures: number;
	opened_at: number | null;
}

export const BREAKER_DEFAULTS = { threshold: 5, cooldownMs: 30_000 };

export function breakerRecord(
	state: BreakerState,
	outcome: "success" | "failure",
	now: number,
	options = BREAKER_DEFAULTS,
): BreakerState {
	if (outcome === "success") return { failures: 0, opened_at: null };
	const failures = state.failures + 1;
	if (failures < options.threshold) return { failures, opened_at: null };
	// Still open: keep the time it opened. Half-open (cool-down over) and failing again: reopen.
	const stillOpen = state.opened_at !== null && now - state.opened_at < options.cooldownMs;
	return { failures, opened_at: stillOpen ? state.opened_at : now };
}

export function breakerOpen(state: BreakerState, now: number, options = BREAKER_DEFAULTS): boolean {
	return state.opened_at !== null && now - state.opened_at < options.cooldownMs;
}

/** A processor's circuit breaker as its object reports it. */
export interface ProcessorHealthState extends BreakerState {
	/** Whether routing should skip the processor now (open and still cooling down). */
	open: boolean;
	/** When a trial payment may be sent again (ms since the epoch); null when closed. */
	retry_at: number | null;
}

export function breakerReport(state: BreakerState, now: number): ProcessorHealthState {
	const open = breakerOpen(state, now);
	const retryAt =
		open && state.opened_at !== null ? state.opened_at + BREAKER_DEFAULTS.cooldownMs : null;
	return { ...state, open, retry_at: retryAt };
}
