import type { Owner } from "../domain/owner";
import { listPage, type Page, type PageQuery } from "./pagination";

/** An `events` row as D1 returns it. */
export interface StoredEventRow {
	id: string;
	type: string;
	livemode: number;
	created: number;
	data: string;
	merchant_id: string;
}

export interface EventFilters {
	type?: string | undefined;
	objectId?: string | undefined;
}

/** The merchant's event in this mode, or null. */
export async function findEvent(
	db: D1Database,
	owner: Owner,
	id: string,
): Promise<StoredEventRow | null> {
	return db
		.prepare("SELECT * FROM events WHERE id = ? AND merchant_id = ? AND livemode = ?")
		.bind(id, owner.merchantId, owner.livemode ? 1 : 0)
		.first<StoredEventRow>();
}

/** A page of the merchant's events, newest first. */
export async function listEvents(
	db: D1Database,
	owner: Owner,
	filters: EventFilters,
	query: PageQuery,
): Promise<Page<StoredEventRow>> {
	return listPage<StoredEventRow>(db, "events", owner, filters, query);
}

export interface TimelineEvent {
	id: string;
	type: string;
	object_id: string;
	created: number;
}

/** The events of these objects (a payment and its refunds), oldest first, at most 500. */
export async function eventsOfObjects(
	db: D1Database,
	owner: readonly [merchantId: string, livemode: number],
	objects: string[],
): Promise<TimelineEvent[]> {
	const { results } = await db
		.prepare(
			`SELECT id, type, object_id, created FROM events
		 WHERE object_id IN (${objects.map(() => "?").join(",")}) AND merchant_id = ? AND livemode = ?
		 ORDER BY id LIMIT 500`,
		)
		.bind(...objects, ...owner)
		.all<TimelineEvent>();
	return results;
}

/** A row of the event log, as producers write it. */
export interface EventRow {
	id: string;
	merchant_id: string;
	livemode: boolean;
	type: string;
	object_id: string;
	/** The object's version (a payment's sequence number), when it has one. */
	object_version: number | null;
	/** The object as it was at the event, JSON. */
	data: string;
	created: number;
}

export function insertEventStatement(db: D1Database, event: EventRow): D1PreparedStatement {
	return db
		.prepare(
			`INSERT OR IGNORE INTO events (id, merchant_id, livemode, type, object_id, object_version, data, created)
			 VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		)
		.bind(
			event.id,
			event.merchant_id,
			event.livemode ? 1 : 0,
			event.type,
			event.object_id,
			event.object_version,
			event.data,
			event.created,
		);
}

/** Marks the events published at `at` (one batch; an event already marked keeps its time). */
export async function markEventsPublished(
	db: D1Database,
	ids: string[],
	at: number,
): Promise<void> {
	await db.batch(
		ids.map((id) =>
			db.prepare("UPDATE events SET published = ? WHERE id = ? AND published IS NULL").bind(at, id),
		),
	);
}

type EventLogRow = Omit<EventRow, "livemode"> & { livemode: number };

/**
 * Published `payment.succeeded` events in the id range [fromId, toId) of merchants who convert
 * their funds, whose payment has no conversion yet (at most 200, oldest first).
 */
export async function succeededPaymentsWithoutConversion(
	db: D1Database,
	fromId: string,
	toId: string,
): Promise<EventLogRow[]> {
	const { results } = await db
		.prepare(
			`SELECT e.id, e.merchant_id, e.livemode, e.type, e.object_id, e.object_version, e.data, e.created
		 FROM events e JOIN merchants m ON m.id = e.merchant_id
		 WHERE e.id >= ? AND e.id < ? AND e.type = 'payment.succeeded' AND e.published IS NOT NULL
		   AND json_extract(m.settings, '$.settlement_currency') IS NOT NULL
		   AND NOT EXISTS (SELECT 1 FROM conversions c WHERE c.payment_id = e.object_id)
		 ORDER BY e.id LIMIT 200`,
		)
		.bind(fromId, toId)
		.all<EventLogRow>();
	return results;
}

/**
 * Published events in the id range [fromId, toId) with an endpoint (enabled before the event)
 * that has no first attempt for them, with that endpoint's enabled events, oldest first.
 */
export async function eventsWithoutFirstAttempt(
	db: D1Database,
	fromId: string,
	toId: string,
	limit: number,
): Promise<{ id: string; type: string; enabled_events: string }[]> {
	const { results } = await db
		.prepare(
			`SELECT e.id, e.type, we.enabled_events FROM events e
		 JOIN webhook_endpoints we ON we.merchant_id = e.merchant_id AND we.livemode = e.livemode
		   AND we.disabled = 0 AND we.deleted IS NULL AND we.updated <= e.created
		 WHERE e.id >= ? AND e.id < ? AND e.published IS NOT NULL
		   AND NOT EXISTS (SELECT 1 FROM webhook_attempts a
		     WHERE a.endpoint_id = we.id AND a.event_id = e.id AND a.redelivery_id = '')
		 ORDER BY e.id LIMIT ?`,
		)
		.bind(fromId, toId, limit)
		.all<{ id: string; type: string; enabled_events: string }>();
	return results;
}

/** Events not yet published that were created at or before `createdBy`, oldest first. */
export async function unpublishedEvents(
	db: D1Database,
	createdBy: number,
	limit: number,
): Promise<EventLogRow[]> {
	const { results } = await db
		.prepare(
			`SELECT id, merchant_id, livemode, type, object_id, object_version, data, created
		 FROM events WHERE published IS NULL AND created <= ? ORDER BY id LIMIT ?`,
		)
		.bind(createdBy, limit)
		.all<EventLogRow>();
	return results;
}

/** The merchants and modes with an event (other than a report's) in the id range [fromId, toId). */
export async function activeOwnersBetween(
	db: D1Database,
	fromId: string,
	toId: string,
): Promise<{ merchant_id: string; livemode: number }[]> {
	const { results } = await db
		.prepare(
			`SELECT DISTINCT merchant_id, livemode FROM events
		 WHERE id >= ? AND id < ? AND type NOT LIKE 'report.%'`,
		)
		.bind(fromId, toId)
		.all<{ merchant_id: string; livemode: number }>();
	return results;
}
