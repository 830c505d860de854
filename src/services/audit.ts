import { and, eq, gte, lt, type SQL } from "drizzle-orm";
import { createDb } from "../db/client";
import {
	checkCursors,
	createdIdBounds,
	idWindow,
	type Page,
	type PageQuery,
	paginate,
} from "../db/pagination";
import { auditLog } from "../db/schema";
import { newId } from "../domain/ids";
import type { Role } from "../domain/roles";
import type { Env } from "../env";

export type AuditActorType = "api_key" | "admin" | "system" | "user" | "anonymous";

/**
 * Who did it: the API key's id, `admin` for the operator token, a job's name, a dashboard user, or
 * `anonymous` (id null) for someone not signed in, such as a failed sign-in (which names the
 * account it targeted in its details, never as the actor).
 */
export interface AuditActor {
	type: AuditActorType;
	id: string | null;
	/** A dashboard user's role at the time (absent for keys, the operator and jobs). */
	role?: Role | null;
}

export interface AuditEntry {
	merchant_id: string;
	livemode: boolean;
	/** What happened, `resource.verb`: `api_key.rolled`, `webhook_endpoint.created`, … */
	action: string;
	actor: AuditActor;
	object_id?: string | null | undefined;
	/** What changed, never a secret: ids, field names, before/after of non-secret settings. */
	details?: Record<string, unknown> | undefined;
}

export interface AuditLogJson {
	id: string;
	object: "audit_log_entry";
	livemode: boolean;
	action: string;
	actor: { type: AuditActorType; id: string | null; role: Role | null };
	object_id: string | null;
	details: Record<string, unknown>;
	created: number;
}

type AuditRow = typeof auditLog.$inferSelect;

function toJson(row: AuditRow): AuditLogJson {
	return {
		id: row.id,
		object: "audit_log_entry",
		livemode: row.livemode,
		action: row.action,
		actor: { type: row.actorType, id: row.actorId, role: row.actorRole },
		object_id: row.objectId,
		details: row.details,
		created: row.created,
	};
}

function toRow(entry: AuditEntry, now = Date.now()): AuditRow {
	return {
		id: newId("auditLog", now),
		merchantId: entry.merchant_id,
		livemode: entry.livemode,
		action: entry.action,
		actorType: entry.actor.type,
		actorId: entry.actor.id,
		actorRole: entry.actor.role ?? null,
		objectId: entry.object_id ?? null,
		details: entry.details ?? {},
		created: Math.floor(now / 1000),
	};
}

/**
 * Appends an entry to the merchant's audit log. Called after the change it records has been
 * written, so a failed change leaves no entry; an entry that fails to write fails the request
 * (the change stands, and the client's retry with its Idempotency-Key replays without a second
 * change), so a change is never silently unaudited.
 */
export async function audit(env: Pick<Env, "DB">, entry: AuditEntry): Promise<AuditLogJson> {
	const row = toRow(entry);
	await createDb(env.DB).insert(auditLog).values(row);
	return toJson(row);
}

/** The insert of `audit`, for callers that write the change and its entry in one D1 batch. */
export function auditStatement(env: Pick<Env, "DB">, entry: AuditEntry) {
	return createDb(env.DB).insert(auditLog).values(toRow(entry));
}

/** A page of one merchant's entries in one mode, newest first (filters: action, object). */
export async function listAuditLog(
	env: Pick<Env, "DB">,
	owner: { merchantId: string; livemode: boolean },
	query: PageQuery & { action?: string | undefined; object_id?: string | undefined },
): Promise<Page<AuditLogJson>> {
	checkCursors(query, "auditLog", "audit log entry");
	const conditions: SQL[] = [
		eq(auditLog.merchantId, owner.merchantId),
		eq(auditLog.livemode, owner.livemode),
	];
	if (query.action !== undefined) conditions.push(eq(auditLog.action, query.action));
	if (query.object_id !== undefined) conditions.push(eq(auditLog.objectId, query.object_id));
	const created = createdIdBounds("auditLog", query);
	for (const id of created.lowest) conditions.push(gte(auditLog.id, id));
	for (const id of created.below) conditions.push(lt(auditLog.id, id));
	const page = await paginate(query, (window) => {
		const { bounds, orderBy } = idWindow(auditLog.id, window);
		return createDb(env.DB)
			.select()
			.from(auditLog)
			.where(and(...conditions, ...bounds))
			.orderBy(orderBy)
			.limit(window.take);
	});
	return { data: page.data.map(toJson), has_more: page.has_more };
}

/** An entry for a change made through the API: the merchant, mode and key come from the auth. */
export function auditApiChange(
	env: Pick<Env, "DB">,
	auth: { merchantId: string; livemode: boolean; keyId: string },
	action: string,
	objectId: string | null,
	details: Record<string, unknown> = {},
): Promise<AuditLogJson> {
	return audit(env, {
		merchant_id: auth.merchantId,
		livemode: auth.livemode,
		action,
		actor: { type: "api_key", id: auth.keyId },
		object_id: objectId,
		details,
	});
}

/**
 * An entry about the team rather than one mode (sign-ins, invitations, roles, passkeys): written
 * to both modes, so either mode's audit log shows who has access.
 */
export async function auditAccount(
	env: Pick<Env, "DB">,
	entry: Omit<AuditEntry, "livemode">,
): Promise<void> {
	const now = Date.now();
	const db = createDb(env.DB);
	await db.batch([
		db.insert(auditLog).values(toRow({ ...entry, livemode: false }, now)),
		db.insert(auditLog).values(toRow({ ...entry, livemode: true }, now)),
	]);
}
