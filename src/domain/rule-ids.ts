/**
 * The check both rule sets (risk and routing) make: a rule is addressed by its id, so two rules
 * may not share one. Used as `.refine(hasUniqueRuleIds, UNIQUE_RULE_IDS)`.
 */
export function hasUniqueRuleIds(config: { rules: readonly { id: string }[] }): boolean {
	return new Set(config.rules.map((r) => r.id)).size === config.rules.length;
}

export const UNIQUE_RULE_IDS = { message: "rule ids must be unique", path: ["rules"] };
