import { sql } from "drizzle-orm";
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { REPORT_STATUSES, REPORT_TYPES } from "../../domain/reports";
import { created, livemode } from "./columns";

/**
 * Report files a merchant can download: one row per report, its CSV and JSON in R2 under
 * `reports/<merchant>/<mode>/<id>.<ext>`. `origin` says who asked: the daily cron (at most one
 * report per merchant, mode, type and period, by the unique index) or the API. A settlement
 * report keeps its closing balances (`balances`, JSON of decimal strings per currency) so the
 * next day's report opens from them without summing the ledger's history.
 */
export const reports = sqliteTable(
	"reports",
	{
		id: text("id").primaryKey(),
		merchantId: text("merchant_id").notNull(),
		...livemode,
		type: text("type", { enum: REPORT_TYPES }).notNull(),
		/** UTC dates, YYYY-MM-DD, both inclusive. */
		periodFrom: text("period_from").notNull(),
		periodTo: text("period_to").notNull(),
		origin: text("origin").$type<"api" | "daily">().notNull(),
		status: text("status", { enum: REPORT_STATUSES }).notNull(),
		/** JSON array of the formats written, such as ["csv","json"]. */
		formats: text("formats").notNull(),
		rows: integer("rows"),
		/** Bytes of the CSV and JSON files together. */
		sizeBytes: integer("size_bytes"),
		csvKey: text("csv_key"),
		csvSize: integer("csv_size"),
		jsonKey: text("json_key"),
		jsonSize: integer("json_size"),
		balances: text("balances"),
		...created,
		readyAt: integer("ready_at"),
		failureReason: text("failure_reason"),
	},
	(t) => [
		index("reports_merchant_idx").on(t.merchantId, t.livemode, t.id),
		uniqueIndex("reports_daily_idx")
			.on(t.merchantId, t.livemode, t.type, t.periodFrom, t.periodTo)
			.where(sql`${t.origin} = 'daily'`),
		index("reports_settlement_to_idx").on(t.merchantId, t.livemode, t.type, t.periodTo, t.status),
	],
);
