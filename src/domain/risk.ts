import { z } from "zod";
import { parseIpv4, parseIpv6 } from "./ip";
import type { RiskLevel } from "./routing";
import { hasUniqueRuleIds, UNIQUE_RULE_IDS } from "./rule-ids";

/**
 * Fraud and validation rules, pure: a merchant's rules as data, and the assessment of one payment
 * against them. The caller supplies what is known about the payment (amount, customer, email, IP,
 * country, wallet, card fingerprint), the velocity counts its counters returned, whether the
 * wallet is new to the merchant, and the sanctioned-address list.
 *
 * Scoring: every rule that fires adds its score (capped at 100 in total) and may name a decision
 * of its own; the decision is the stricter of that and the thresholds' verdict on the score.
 * Adding a rule therefore never lowers a decision, except an allow list, which exempts the payer
 * from the soft rules (velocity, amount, first-seen) but never from block lists or sanctions.
 */

export const RISK_DECISIONS = ["allow", "review", "block"] as const satisfies readonly RiskLevel[];

export const VELOCITY_KEYS = ["customer", "wallet", "email", "ip", "card_fingerprint"] as const;
export type VelocityKey = (typeof VELOCITY_KEYS)[number];

export const LIST_FIELDS = ["wallet", "email", "ip", "country"] as const;
export type ListField = (typeof LIST_FIELDS)[number];

const ruleId = z
	.string()
	.regex(/^[A-Za-z0-9_-]{1,64}$/, "must be 1–64 letters, digits, '_' or '-'");
const action = z.enum(["review", "block", "score"]);
const score = z.number().int().min(0).max(100);
const common = {
	id: ruleId,
	description: z.string().max(500).optional(),
	/** `score` only adds to the score; `review` and `block` also decide at least that much. */
	action: action.default("block"),
	/** What a hit adds to the score; by default block 100, review 50, score 25. */
	score: score.optional(),
};

const currency = z
	.string()
	.regex(/^[A-Za-z]{3}$/, "must be an ISO 4217 code")
	.transform((v) => v.toLowerCase());

export const VelocityRuleSchema = z
	.object({
		...common,
		kind: z.literal("velocity"),
		key: z.enum(VELOCITY_KEYS),
		/** Sliding window, seconds (one minute to thirty days). */
		window_seconds: z
			.number()
			.int()
			.min(60)
			.max(30 * 86_400),
		/** Payments allowed in the window, this one included; the next one fires the rule. */
		max: z.number().int().min(1).max(100_000),
	})
	.strict();

export const AmountRuleSchema = z
	.object({
		...common,
		kind: z.literal("amount"),
		/** Applies to payments in this currency only; all currencies when absent. */
		currency: currency.optional(),
		/** Minor units: fires below `min` or above `max`. */
		min: z.number().int().min(0).optional(),
		max: z.number().int().min(0).optional(),
	})
	.strict()
	.refine((r) => r.min !== undefined || r.max !== undefined, {
		message: "an amount rule needs min or max",
		path: ["max"],
	})
	.refine((r) => r.min === undefined || r.max === undefined || r.min <= r.max, {
		message: "min must not exceed max",
		path: ["min"],
	});

const listValues = z.array(z.string().min(1).max(200)).min(1).max(1000);

function checkListValues(r: { field: ListField; values: string[] }, ctx: z.RefinementCtx): void {
	r.values.forEach((v, i) => {
		const ok =
			r.field === "ip"
				? parseCidr(v) !== null
				: r.field === "country"
					? /^[A-Za-z]{2}$/.test(v)
					: r.field === "email"
						? v.includes("@") || /^[^@\s]+\.[^@\s]+$/.test(v)
						: /^[1-9A-HJ-NP-Za-km-z]{32,44}$/.test(v);
		if (!ok) {
			ctx.addIssue({
				code: "custom",
				path: ["values", i],
				message: {
					ip: "must be an IPv4 or IPv6 address or CIDR range",
					country: "must be an ISO 3166-1 alpha-2 code",
					email: "must be an email address or a domain",
					wallet: "must be a Solana address",
				}[r.field],
			});
		}
	});
}

export const BlockListRuleSchema = z
	.object({
		...common,
		kind: z.literal("block_list"),
		field: z.enum(LIST_FIELDS),
		/** Wallet addresses; emails or email domains; IPs or CIDR ranges (v4, v6); countries. */
		values: listValues,
	})
	.strict()
	.superRefine(checkListValues);

export const AllowListRuleSchema = z
	.object({
		id: ruleId,
		description: z.string().max(500).optional(),
		kind: z.literal("allow_list"),
		field: z.enum(LIST_FIELDS),
		values: listValues,
	})
	.strict()
	.superRefine(checkListValues);

export const FirstSeenWalletRuleSchema = z
	.object({ ...common, action: action.default("score"), kind: z.literal("first_seen_wallet") })
	.strict();

export const RiskRuleSchema = z.union([
	VelocityRuleSchema,
	AmountRuleSchema,
	BlockListRuleSchema,
	AllowListRuleSchema,
	FirstSeenWalletRuleSchema,
]);

export const RiskConfigSchema = z
	.object({
		/** Score from which a payment is reviewed, and from which it is blocked. */
		review_at: score.min(1).default(50),
		block_at: score.min(1).default(90),
		rules: z.array(RiskRuleSchema).max(100).default([]),
	})
	.strict()
	.refine((c) => c.review_at <= c.block_at, {
		message: "review_at must not exceed block_at",
		path: ["review_at"],
	})
	.refine(hasUniqueRuleIds, UNIQUE_RULE_IDS);

export type RiskRule = z.infer<typeof RiskRuleSchema>;
export type VelocityRule = z.infer<typeof VelocityRuleSchema>;
export type RiskConfig = z.infer<typeof RiskConfigSchema>;
export type RiskDecision = (typeof RISK_DECISIONS)[number];

export const DEFAULT_RISK_CONFIG: RiskConfig = { review_at: 50, block_at: 90, rules: [] };

/** The rule a sanctioned payer trips; it is always on and cannot be allow-listed. */
export const SANCTIONS_RULE = "sanctioned_address";

export interface RiskReason {
	rule: string;
	detail: string;
}

export interface RiskAssessment {
	score: number;
	decision: RiskDecision;
	reasons: RiskReason[];
}

/** What is known about a payment when it is assessed; null where not known yet. */
export interface RiskInput {
	amount: number;
	currency: string;
	customer: string | null;
	email: string | null;
	ip: string | null;
	country: string | null;
	wallet: string | null;
	card_fingerprint: string | null;
	/** Payments in each velocity rule's window, this one included, by rule id. */
	velocity: Readonly<Record<string, number>>;
	/** True when the merchant has never seen `wallet` before; null when not checked. */
	wallet_first_seen: boolean | null;
	sanctioned: ReadonlySet<string>;
}

const RANK: Record<RiskDecision, number> = { allow: 0, review: 1, block: 2 };

export function stricter(a: RiskDecision, b: RiskDecision): RiskDecision {
	return RANK[a] >= RANK[b] ? a : b;
}

/** The value a velocity rule counts by, or null when the payment does not have it (yet). */
export function velocitySubject(
	key: VelocityKey,
	input: Omit<RiskInput, "velocity" | "wallet_first_seen" | "sanctioned" | "amount" | "currency">,
): string | null {
	const value = {
		customer: input.customer,
		wallet: input.wallet,
		email: input.email?.trim().toLowerCase() ?? null,
		ip: input.ip ? canonicalIp(input.ip) : null,
		card_fingerprint: input.card_fingerprint,
	}[key];
	return value ? `${key}:${value}` : null;
}

/** The counters a payment bumps: one per velocity rule whose subject it has. */
export function velocityKeys(
	config: RiskConfig,
	input: Parameters<typeof velocitySubject>[1],
): { rule: string; key: string; window_seconds: number }[] {
	const out: { rule: string; key: string; window_seconds: number }[] = [];
	for (const rule of config.rules) {
		if (rule.kind !== "velocity") continue;
		const key = velocitySubject(rule.key, input);
		if (key) out.push({ rule: rule.id, key, window_seconds: rule.window_seconds });
	}
	return out;
}

export function hasVelocityRules(config: RiskConfig): boolean {
	return config.rules.some((r) => r.kind === "velocity");
}

export function hasFirstSeenRules(config: RiskConfig): boolean {
	return config.rules.some((r) => r.kind === "first_seen_wallet");
}

function defaultScore(a: "review" | "block" | "score"): number {
	return a === "block" ? 100 : a === "review" ? 50 : 25;
}

function listMatches(field: ListField, values: readonly string[], input: RiskInput): string | null {
	if (field === "wallet")
		return input.wallet && values.includes(input.wallet) ? input.wallet : null;
	if (field === "country") {
		const c = input.country?.toUpperCase();
		return c && values.some((v) => v.toUpperCase() === c) ? c : null;
	}
	if (field === "email") {
		const email = input.email?.trim().toLowerCase();
		if (!email) return null;
		const domain = email.slice(email.lastIndexOf("@") + 1);
		return values.some((v) => {
			const value = v.toLowerCase();
			return value.includes("@") ? value === email : value === domain;
		})
			? email
			: null;
	}
	if (!input.ip) return null;
	const ip = parseIp(input.ip);
	if (!ip) return null;
	return values.some((v) => {
		const range = parseCidr(v);
		return range !== null && cidrContains(range, ip);
	})
		? input.ip
		: null;
}

/** Assesses one payment against the merchant's rules. */
export function assessRisk(config: RiskConfig, input: RiskInput): RiskAssessment {
	const reasons: RiskReason[] = [];
	let total = 0;
	let floor: RiskDecision = "allow";
	const hit = (
		rule: { id: string; action: "review" | "block" | "score"; score?: number | undefined },
		detail: string,
	) => {
		reasons.push({ rule: rule.id, detail });
		total += rule.score ?? defaultScore(rule.action);
		if (rule.action !== "score") floor = stricter(floor, rule.action);
	};

	if (input.wallet && input.sanctioned.has(input.wallet)) {
		hit(
			{ id: SANCTIONS_RULE, action: "block", score: 100 },
			`wallet ${input.wallet} is on the sanctions list`,
		);
	}
	const allowed = config.rules.some(
		(r) => r.kind === "allow_list" && listMatches(r.field, r.values, input) !== null,
	);

	for (const rule of config.rules) {
		switch (rule.kind) {
			case "block_list": {
				const value = listMatches(rule.field, rule.values, input);
				if (value !== null) hit(rule, `${rule.field} ${value} is on the block list`);
				break;
			}
			case "velocity": {
				const count = input.velocity[rule.id];
				if (!allowed && count !== undefined && count > rule.max) {
					hit(
						rule,
						`${count} payments by this ${rule.key.replace("_", " ")} in ${rule.window_seconds} s (limit ${rule.max})`,
					);
				}
				break;
			}
			case "amount": {
				if (allowed || (rule.currency && rule.currency !== input.currency.toLowerCase())) break;
				if (rule.max !== undefined && input.amount > rule.max) {
					hit(rule, `amount ${input.amount} ${input.currency} is above ${rule.max}`);
				} else if (rule.min !== undefined && input.amount < rule.min) {
					hit(rule, `amount ${input.amount} ${input.currency} is below ${rule.min}`);
				}
				break;
			}
			case "first_seen_wallet": {
				if (!allowed && input.wallet && input.wallet_first_seen === true) {
					hit(rule, `wallet ${input.wallet} has never paid this merchant before`);
				}
				break;
			}
			case "allow_list":
				break;
		}
	}
	const score = Math.min(100, total);
	const byScore: RiskDecision =
		score >= config.block_at ? "block" : score >= config.review_at ? "review" : "allow";
	return { score, decision: stricter(floor, byScore), reasons };
}

// ── IP addresses and CIDR ranges ──────────────────────────────────────────────────────────────

interface ParsedIp {
	version: 4 | 6;
	value: bigint;
}

interface Cidr extends ParsedIp {
	prefix: number;
}

/** The address as one number: 32 bits for IPv4, 128 for IPv6. */
function ipValue(parts: number[], bits: 8n | 16n): bigint {
	return parts.reduce((v, part) => (v << bits) | BigInt(part), 0n);
}

export function parseIp(s: string): ParsedIp | null {
	const octets = parseIpv4(s);
	if (octets !== null) return { version: 4, value: ipValue(octets, 8n) };
	const groups = parseIpv6(s);
	if (groups === null) return null;
	const v6 = ipValue(groups, 16n);
	// An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is that IPv4 address.
	if (v6 >> 32n === 0xffffn) return { version: 4, value: v6 & 0xffffffffn };
	return { version: 6, value: v6 };
}

/** `a.b.c.d`, `a.b.c.d/n`, an IPv6 address or `x::/n`; null when it is none of them. */
export function parseCidr(s: string): Cidr | null {
	const [addr, prefixText, extra] = s.trim().split("/");
	if (addr === undefined || extra !== undefined) return null;
	const ip = parseIp(addr);
	if (!ip) return null;
	const bits = ip.version === 4 ? 32 : 128;
	if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return null;
	const prefix = prefixText === undefined ? bits : Number(prefixText);
	if (prefix > bits) return null;
	return { ...ip, prefix };
}

export function cidrContains(range: Cidr, ip: ParsedIp): boolean {
	if (range.version !== ip.version) return false;
	const bits = BigInt(range.version === 4 ? 32 : 128);
	const shift = bits - BigInt(range.prefix);
	return range.value >> shift === ip.value >> shift;
}

function canonicalIp(s: string): string {
	const ip = parseIp(s);
	if (!ip) return s;
	return `${ip.version}:${ip.value.toString(16)}`;
}
