// `risk_rules`: a merchant's risk configuration per mode (src/services/risk.ts).
import type { Owner } from "../domain/owner";
import type { RiskConfig } from "../domain/risk";

/** The owner's stored configuration (rules as JSON text), if any. */
export function riskRulesRow(db: D1Database, owner: Owner) {
	return db
		.prepare(
			"SELECT review_at, block_at, rules, version, updated FROM risk_rules WHERE merchant_id = ? AND livemode = ?",
		)
		.bind(owner.merchantId, owner.livemode ? 1 : 0)
		.first<{
			review_at: number;
			block_at: number;
			rules: string;
			version: number;
			updated: number;
		}>();
}

/** Replaces the owner's configuration (an atomic upsert that bumps the version); the new version. */
export function upsertRiskRules(
	db: D1Database,
	owner: Owner,
	config: RiskConfig,
	updated: number,
): Promise<{ version: number } | null> {
	return db
		.prepare(
			`INSERT INTO risk_rules (merchant_id, livemode, review_at, block_at, rules, version, created, updated)
		 VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6, ?6)
		 ON CONFLICT (merchant_id, livemode) DO UPDATE SET review_at = excluded.review_at,
		   block_at = excluded.block_at, rules = excluded.rules,
		   version = risk_rules.version + 1, updated = excluded.updated
		 RETURNING version`,
		)
		.bind(
			owner.merchantId,
			owner.livemode ? 1 : 0,
			config.review_at,
			config.block_at,
			JSON.stringify(config.rules),
			updated,
		)
		.first<{ version: number }>();
}
