import { sqliteTable, text } from "drizzle-orm/sqlite-core";
import { created } from "./columns";

/** Which payment a Solana transaction signature settled: the primary key makes it one at most. */
export const solanaSignatures = sqliteTable("solana_signatures", {
	signature: text("signature").primaryKey(),
	paymentId: text("payment_id").notNull(),
	...created,
});
