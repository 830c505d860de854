import { integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import type { RiskConfig } from "../../domain/risk";
import { created, livemode } from "./columns";
import { merchants } from "./merchants";

/**
 * A merchant's fraud and validation rules, one row per mode. Replaced whole on every change;
 * `version` counts the changes and is the `object_version` of each `risk_rules.updated` event.
 * No row: no rules (only the sanctions check applies).
 */
export const riskRules = sqliteTable(
	"risk_rules",
	{
		merchantId: text("merchant_id")
			.notNull()
			.references(() => merchants.id),
		...livemode,
		reviewAt: integer("review_at").notNull(),
		blockAt: integer("block_at").notNull(),
		rules: text("rules", { mode: "json" }).$type<RiskConfig["rules"]>().notNull(),
		version: integer("version").notNull(),
		...created,
		updated: integer("updated").notNull(),
	},
	(t) => [primaryKey({ columns: [t.merchantId, t.livemode] })],
);
