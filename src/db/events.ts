import { listPage, type Owner, type Page, type PageQuery } from "./pagination";

/** An `events` row as D1 returns it. */
export interface EventRow {
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
): Promise<EventRow | null> {
	return db
		.prepare("SELECT * FROM events WHERE id = ? AND merchant_id = ? AND livemode = ?")
		.bind(id, owner.merchantId, owner.livemode ? 1 : 0)
		.first<EventRow>();
}

/** A page of the merchant's events, newest first. */
export async function listEvents(
	db: D1Database,
	owner: Owner,
	filters: EventFilters,
	query: PageQuery,
): Promise<Page<EventRow>> {
	const where: [string, string | number][] = [
		["merchant_id", owner.merchantId],
		["livemode", owner.livemode ? 1 : 0],
	];
	if (filters.type) where.push(["type", filters.type]);
	if (filters.objectId) where.push(["object_id", filters.objectId]);
	return listPage<EventRow>(db, { table: "events", kind: "event", where, query });
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
