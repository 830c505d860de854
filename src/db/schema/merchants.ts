import { sql } from "drizzle-orm";
import { index, sqliteTable, text } from "drizzle-orm/sqlite-core";
import type { MerchantSettings } from "../../domain/merchant-settings";
import { created } from "./columns";

/** The daily payout run pages through merchants by this expression (merchants_payout_interval_idx). */
export const PAYOUT_INTERVAL_SQL = `"settings" ->> '$.payout_schedule.interval'`;

export const merchants = sqliteTable(
	"merchants",
	{
		id: text("id").primaryKey(),
		name: text("name").notNull(),
		email: text("email"),
		metadata: text("metadata", { mode: "json" }).$type<Record<string, string>>().notNull(),
		settings: text("settings", { mode: "json" }).$type<MerchantSettings>().notNull().default({}),
		...created,
	},
	// An expression index: the schedule stays in the settings document (one source of truth) and
	// the daily run still reads only the merchants with a schedule, a bounded range per page.
	(t) => [
		index("merchants_payout_interval_idx").on(
			sql`${t.settings} ->> '$.payout_schedule.interval'`,
			t.id,
		),
	],
);
