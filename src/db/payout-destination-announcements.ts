export interface Announcement {
	event: {
		id: string;
		merchant_id: string;
		livemode: boolean;
		type: string;
		object_id: string;
		data: string;
		created: number;
	};
	audit: {
		id: string;
		merchant_id: string;
		livemode: boolean;
		action: string;
		actor_type: string;
		actor_id: string | null;
		actor_role: string | null;
		object_id: string;
		details: Record<string, unknown>;
		created: number;
	};
}

/**
 * The event and audit log entry of a change, to follow the change's statement in its batch. Each
 * is written only if the statement before it changed a row (SQLite's changes(): the change, then
 * the event), so a change and its announcement land together or not at all, and a change that
 * did not apply (a lost race, a refused removal) announces nothing.
 */
export function announcementStatements(db: D1Database, a: Announcement): D1PreparedStatement[] {
	return [
		db
			.prepare(
				`INSERT INTO events (id, merchant_id, livemode, type, object_id, object_version, data, created)
				 SELECT ?, ?, ?, ?, ?, NULL, ?, ? WHERE changes() = 1`,
			)
			.bind(
				a.event.id,
				a.event.merchant_id,
				a.event.livemode ? 1 : 0,
				a.event.type,
				a.event.object_id,
				a.event.data,
				a.event.created,
			),
		db
			.prepare(
				`INSERT INTO audit_log (id, merchant_id, livemode, action, actor_type, actor_id, actor_role, object_id, details, created)
				 SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE changes() = 1`,
			)
			.bind(
				a.audit.id,
				a.audit.merchant_id,
				a.audit.livemode ? 1 : 0,
				a.audit.action,
				a.audit.actor_type,
				a.audit.actor_id,
				a.audit.actor_role,
				a.audit.object_id,
				JSON.stringify(a.audit.details),
				a.audit.created,
			),
	];
}
