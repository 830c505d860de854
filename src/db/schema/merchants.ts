import { sqliteTable, text } from "drizzle-orm/sqlite-core";
import { created } from "./columns";

export const merchants = sqliteTable("merchants", {
	id: text("id").primaryKey(),
	name: text("name").notNull(),
	email: text("email"),
	metadata: text("metadata", { mode: "json" }).$type<Record<string, string>>().notNull(),
	...created,
});
