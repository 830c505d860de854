import sanctionedList from "../../data/sanctioned-addresses.json";
import { riskRulesRow, upsertRiskRules } from "../db/risk-rules";
import { type Owner, ownerKey } from "../domain/owner";
import type { PaymentRecord } from "../domain/payment";
import {
	assessRisk,
	DEFAULT_RISK_CONFIG,
	hasFirstSeenRules,
	type RiskAssessment,
	type RiskConfig,
	type RiskInput,
	stricter,
	velocityKeys,
} from "../domain/risk";
import type { Env } from "../env";
import { log } from "../lib/log";
import { RulesCache } from "../lib/rules-cache";
import { emitEvent } from "./events";

/** The sanctioned-address sample list (data/sanctioned-addresses.json), built into the Worker. */
export const SANCTIONED_ADDRESSES: ReadonlySet<string> = new Set(sanctionedList.addresses);

/** A merchant's risk rules in one mode, as stored. */
export interface RiskRulesRecord extends RiskConfig {
	version: number;
	updated: number | null;
}

/** The API object: `GET /v1/risk_rules` and the data of `risk_rules.updated` events. */
export function toApiRiskRules(record: RiskRulesRecord, livemode: boolean) {
	return {
		object: "risk_rules" as const,
		livemode,
		review_at: record.review_at,
		block_at: record.block_at,
		rules: record.rules,
		updated: record.updated,
	};
}

const DEFAULT_RULES: RiskRulesRecord = { ...DEFAULT_RISK_CONFIG, version: 0, updated: null };

export async function getRiskRules(d1: D1Database, owner: Owner): Promise<RiskRulesRecord> {
	const row = await riskRulesRow(d1, owner);
	if (!row) return DEFAULT_RULES;
	return {
		review_at: row.review_at,
		block_at: row.block_at,
		rules: JSON.parse(row.rules) as RiskConfig["rules"],
		version: row.version,
		updated: row.updated,
	};
}

/**
 * Replaces the whole configuration (an atomic upsert that bumps the version), then records a
 * `risk_rules.updated` event carrying that version.
 */
export async function replaceRiskRules(
	env: Env,
	owner: Owner,
	config: RiskConfig,
): Promise<RiskRulesRecord> {
	const now = Date.now();
	const updated = Math.floor(now / 1000);
	const row = await upsertRiskRules(env.DB, owner, config, updated);
	if (!row) throw new Error("risk_rules upsert returned no version");
	const record: RiskRulesRecord = { ...config, version: row.version, updated };
	await emitEvent(env, {
		merchant_id: owner.merchantId,
		livemode: owner.livemode,
		type: "risk_rules.updated",
		object_id: owner.merchantId,
		object_version: record.version,
		data: JSON.stringify(toApiRiskRules(record, owner.livemode)),
	});
	rulesCache.remember(owner, record, now);
	return record;
}

// Payment creation reads the rules on every payment: each isolate keeps them briefly, as routing
// does with its rules (current at once after a replacement made in this isolate).
const rulesCache = new RulesCache<RiskRulesRecord>("risk rules");

export function cachedRiskRules(d1: D1Database, owner: Owner): Promise<RiskRulesRecord> {
	return rulesCache.read(owner, () => getRiskRules(d1, owner));
}

/** Forgets this isolate's cached risk rules (tests). */
export function clearRiskCaches(): void {
	rulesCache.clear();
}

function countersStub(env: Env, owner: Owner) {
	const ns = env.RISK_COUNTERS;
	return ns ? ns.get(ns.idFromName(ownerKey(owner))) : null;
}

/** The facts an assessment starts from; counters and lists are added here. */
export type RiskFacts = Omit<RiskInput, "velocity" | "wallet_first_seen" | "sanctioned">;

/**
 * Assesses a payment: bumps and reads its velocity counters (and looks its wallet up) in one call
 * to the merchant's RiskCounters object, made only when a rule needs it.
 */
export async function assessPayment(
	env: Env,
	owner: Owner,
	paymentId: string,
	facts: RiskFacts,
	config?: RiskConfig,
): Promise<RiskAssessment> {
	const rules = config ?? (await cachedRiskRules(env.DB, owner));
	const keys = velocityKeys(rules, facts);
	const wallet = hasFirstSeenRules(rules) ? facts.wallet : null;
	const velocity: Record<string, number> = {};
	let walletFirstSeen: boolean | null = null;
	const stub = countersStub(env, owner);
	if (stub && (keys.length > 0 || wallet)) {
		const result = await stub.count({ payment: paymentId, now: Date.now(), keys, wallet });
		keys.forEach((k, i) => {
			velocity[k.rule] = result.counts[i] ?? 0;
		});
		walletFirstSeen = result.wallet_first_seen;
	}
	return assessRisk(rules, {
		...facts,
		velocity,
		wallet_first_seen: walletFirstSeen,
		sanctioned: SANCTIONED_ADDRESSES,
	});
}

/**
 * The assessment when funds arrive: the payer is known now. Never throws: when the rules or the
 * counters cannot be read, the sanctions list (built in) still decides, and the creation
 * decision stands. The result is the stricter of the two, with both sets of reasons.
 */
export async function assessArrival(
	env: Env,
	owner: Owner,
	paymentId: string,
	facts: RiskFacts,
	atCreation: RiskAssessment | null,
): Promise<RiskAssessment> {
	let now: RiskAssessment;
	try {
		now = await assessPayment(env, owner, paymentId, { ...facts, customer: null, ip: null });
	} catch (err) {
		log("warn", "risk rules or counters unreadable at arrival; sanctions only", {
			payment: paymentId,
			error: err instanceof Error ? err.message : String(err),
		});
		now = assessRisk(DEFAULT_RISK_CONFIG, {
			...facts,
			velocity: {},
			wallet_first_seen: null,
			sanctioned: SANCTIONED_ADDRESSES,
		});
	}
	if (!atCreation) return now;
	const seen = new Set(now.reasons.map((r) => `${r.rule}\n${r.detail}`));
	return {
		score: Math.max(now.score, atCreation.score),
		decision: stricter(now.decision, atCreation.decision),
		reasons: [
			...atCreation.reasons.filter((r) => !seen.has(`${r.rule}\n${r.detail}`)),
			...now.reasons,
		],
	};
}

/**
 * The arrival assessment of a payment's funds, from what the payment knows and what arrived: the
 * paying wallet (crypto) or the card's fingerprint.
 */
export function assessPaymentArrival(
	env: Env,
	payment: Pick<PaymentRecord, "id" | "merchant_id" | "livemode" | "amount" | "currency" | "risk">,
	arrived: { wallet: string | null; card_fingerprint: string | null },
): Promise<RiskAssessment> {
	return assessArrival(
		env,
		{ merchantId: payment.merchant_id, livemode: payment.livemode },
		payment.id,
		{
			amount: payment.amount,
			currency: payment.currency,
			customer: null,
			email: null,
			ip: null,
			country: null,
			...arrived,
		},
		payment.risk ?? null,
	);
}
