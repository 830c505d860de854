import { integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import type { RoutingConfig } from "../../domain/routing";
import { created, livemode } from "./columns";
import { merchants } from "./merchants";

/**
 * A merchant's payment routing configuration, one row per mode (test and live rules are
 * separate). Replaced whole on every change; `version` counts the changes and is the
 * `object_version` of each `routing_rules.updated` event. No row: the default configuration.
 */
export const routingRules = sqliteTable(
	"routing_rules",
	{
		merchantId: text("merchant_id")
			.notNull()
			.references(() => merchants.id),
		...livemode,
		strategy: text("strategy").$type<RoutingConfig["strategy"]>().notNull(),
		rules: text("rules", { mode: "json" }).$type<RoutingConfig["rules"]>().notNull(),
		version: integer("version").notNull(),
		...created,
		updated: integer("updated").notNull(),
	},
	(t) => [primaryKey({ columns: [t.merchantId, t.livemode] })],
);
