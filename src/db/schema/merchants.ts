import { sqliteTable, text } from "drizzle-orm/sqlite-core";
import { created } from "./columns";

/** A merchant's payment policy; absent fields fall back to the gateway's configuration. */
export interface MerchantSettings {
	/** Tokens the merchant accepts, by symbol or mint ("SOL", "USDC", …). */
	accepted_tokens?: string[];
	/** Crypto payments above this many minor units of their currency wait for `finalized`. */
	solana_finalized_above?: number;
}

export const merchants = sqliteTable("merchants", {
	id: text("id").primaryKey(),
	name: text("name").notNull(),
	email: text("email"),
	metadata: text("metadata", { mode: "json" }).$type<Record<string, string>>().notNull(),
	settings: text("settings", { mode: "json" }).$type<MerchantSettings>().notNull().default({}),
	...created,
});
