import { index, sqliteTable, text } from "drizzle-orm/sqlite-core";
import type { Role } from "../../domain/roles";
import { created, livemode } from "./columns";

/**
 * Who changed what in a merchant's account: keys, routing, webhook endpoints, refunds, settings.
 * Append-only: the gateway only ever inserts (a trigger in the migration refuses updates and
 * deletes), so an entry cannot be quietly rewritten by a later request.
 */
export const auditLog = sqliteTable(
	"audit_log",
	{
		id: text("id").primaryKey(),
		merchantId: text("merchant_id").notNull(),
		...livemode,
		action: text("action").notNull(),
		actorType: text("actor_type")
			.$type<"api_key" | "admin" | "system" | "user" | "anonymous">()
			.notNull(),
		actorId: text("actor_id"),
		/** The dashboard user's role when the entry was written (null for keys, admin, jobs). */
		actorRole: text("actor_role").$type<Role>(),
		objectId: text("object_id"),
		details: text("details", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
		...created,
	},
	(t) => [
		index("audit_log_merchant_idx").on(t.merchantId, t.livemode, t.id),
		index("audit_log_action_idx").on(t.merchantId, t.livemode, t.action, t.id),
		index("audit_log_object_idx").on(t.merchantId, t.livemode, t.objectId, t.id),
	],
);
