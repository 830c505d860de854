import type { Owner } from "../domain/owner";
import type { ReportStatus, ReportType } from "../domain/reports";
import type { PageWindow } from "./pagination";

/** A row of the `reports` table. */
export interface ReportRow {
	id: string;
	merchant_id: string;
	livemode: number;
	type: ReportType;
	period_from: string;
	period_to: string;
	origin: "api" | "daily";
	status: ReportStatus;
	formats: string;
	rows: number | null;
	size_bytes: number | null;
	csv_key: string | null;
	csv_size: number | null;
	json_key: string | null;
	json_size: number | null;
	balances: string | null;
	created: number;
	ready_at: number | null;
	failure_reason: string | null;
}

/** What an event row written with a report's outcome needs (its type is fixed by the caller). */
interface ReportEvent {
	id: string;
	merchant_id: string;
	data: string;
	created: number;
}

/** Records a pending report; a daily report that exists already is left as it is (unique index). */
export async function insertReportIfAbsent(db: D1Database, row: ReportRow): Promise<void> {
	await db
		.prepare(
			`INSERT OR IGNORE INTO reports (id, merchant_id, livemode, type, period_from, period_to, origin, status, formats, created)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		)
		.bind(
			row.id,
			row.merchant_id,
			row.livemode,
			row.type,
			row.period_from,
			row.period_to,
			row.origin,
			row.status,
			row.formats,
			row.created,
		)
		.run();
}

export async function findReport(db: D1Database, id: string): Promise<ReportRow | null> {
	return db.prepare("SELECT * FROM reports WHERE id = ?").bind(id).first<ReportRow>();
}

/** The merchant's report in this mode, or null (`readyOnly`: only when it is ready). */
export async function findOwnReport(
	db: D1Database,
	owner: Owner,
	id: string,
	readyOnly = false,
): Promise<ReportRow | null> {
	return db
		.prepare(
			readyOnly
				? "SELECT * FROM reports WHERE id = ? AND merchant_id = ? AND livemode = ? AND status = 'ready'"
				: "SELECT * FROM reports WHERE id = ? AND merchant_id = ? AND livemode = ?",
		)
		.bind(id, owner.merchantId, owner.livemode ? 1 : 0)
		.first<ReportRow>();
}

/**
 * The latest ready settlement report of the merchant and mode ending on `periodTo` whose balances
 * were taken at or after `readyFrom` (seconds).
 */
export async function latestSettlementClosing(
	db: D1Database,
	q: { merchantId: string; livemode: number; periodTo: string; readyFrom: number },
): Promise<{ id: string; balances: string } | null> {
	return db
		.prepare(
			`SELECT id, balances FROM reports
		 WHERE merchant_id = ? AND livemode = ? AND type = 'settlement' AND period_to = ? AND status = 'ready'
		   AND balances IS NOT NULL AND ready_at >= ?
		 ORDER BY ready_at DESC LIMIT 1`,
		)
		.bind(q.merchantId, q.livemode, q.periodTo, q.readyFrom)
		.first<{ id: string; balances: string }>();
}

/**
 * Marks a pending report ready and records its `report.ready` event once (one batch); true when
 * this call wrote the event.
 */
export async function markReportReady(
	db: D1Database,
	ready: ReportRow,
	event: ReportEvent,
): Promise<boolean> {
	const [, inserted] = await db.batch([
		db
			.prepare(
				`UPDATE reports SET status = 'ready', rows = ?, size_bytes = ?, csv_key = ?, csv_size = ?,
			   json_key = ?, json_size = ?, balances = ?, ready_at = ? WHERE id = ? AND status = 'pending'`,
			)
			.bind(
				ready.rows,
				ready.size_bytes,
				ready.csv_key,
				ready.csv_size,
				ready.json_key,
				ready.json_size,
				ready.balances,
				ready.ready_at,
				ready.id,
			),
		db
			.prepare(
				`INSERT INTO events (id, merchant_id, livemode, type, object_id, object_version, data, created)
			 SELECT ?, ?, ?, 'report.ready', ?, NULL, ?, ?
			 WHERE NOT EXISTS (SELECT 1 FROM events WHERE object_id = ? AND type = 'report.ready')`,
			)
			.bind(
				event.id,
				event.merchant_id,
				ready.livemode,
				ready.id,
				event.data,
				event.created,
				ready.id,
			),
	]);
	return (inserted?.meta.changes ?? 0) === 1;
}

/** Marks a pending report failed, with why (a ready one stays ready). */
export async function markReportFailed(db: D1Database, id: string, reason: string): Promise<void> {
	await db
		.prepare(
			"UPDATE reports SET status = 'failed', failure_reason = ? WHERE id = ? AND status = 'pending'",
		)
		.bind(reason, id)
		.run();
}

/** Records the failed report's `report.failed` event once; true when this call wrote it. */
export async function insertReportFailedEvent(
	db: D1Database,
	row: ReportRow,
	event: ReportEvent,
): Promise<boolean> {
	const inserted = await db
		.prepare(
			`INSERT INTO events (id, merchant_id, livemode, type, object_id, object_version, data, created)
			 SELECT ?, ?, ?, 'report.failed', ?, NULL, ?, ?
			 WHERE NOT EXISTS (SELECT 1 FROM events WHERE object_id = ? AND type = 'report.failed')`,
		)
		.bind(event.id, event.merchant_id, row.livemode, row.id, event.data, event.created, row.id)
		.run();
	return inserted.meta.changes === 1;
}

/** One window of the merchant's reports (see paginate()). */
export async function reportsWindow(
	db: D1Database,
	owner: Owner,
	window: PageWindow,
): Promise<ReportRow[]> {
	const cursor = window.idBelow ?? window.idAbove;
	const { results } = await db
		.prepare(
			`SELECT * FROM reports WHERE merchant_id = ? AND livemode = ?
		 ${cursor ? (window.idAbove ? "AND id > ?" : "AND id < ?") : ""}
		 ORDER BY id ${window.order.toUpperCase()} LIMIT ?`,
		)
		.bind(owner.merchantId, owner.livemode ? 1 : 0, ...(cursor ? [cursor] : []), window.take)
		.all<ReportRow>();
	return results;
}

/** The id of the merchant's daily report of this type for one day, or null. */
export async function findDailyReportId(
	db: D1Database,
	owner: Owner,
	type: ReportType,
	date: string,
): Promise<string | null> {
	const row = await db
		.prepare(
			`SELECT id FROM reports WHERE merchant_id = ? AND livemode = ? AND type = ? AND period_from = ?
			   AND period_to = ? AND origin = 'daily'`,
		)
		.bind(owner.merchantId, owner.livemode ? 1 : 0, type, date, date)
		.first<{ id: string }>();
	return row?.id ?? null;
}

/** Marks the day's pending daily reports failed, with why. */
export async function markDailyReportsFailed(
	db: D1Database,
	owner: Owner,
	date: string,
	reason: string,
): Promise<void> {
	await db
		.prepare(
			`UPDATE reports SET status = 'failed', failure_reason = ?
		 WHERE merchant_id = ? AND livemode = ? AND origin = 'daily' AND period_from = ? AND period_to = ?
		   AND status = 'pending'`,
		)
		.bind(reason, owner.merchantId, owner.livemode ? 1 : 0, date, date)
		.run();
}

/** The ids of the day's failed daily reports. */
export async function failedDailyReportIds(
	db: D1Database,
	owner: Owner,
	date: string,
): Promise<string[]> {
	const { results } = await db
		.prepare(
			`SELECT id FROM reports
		 WHERE merchant_id = ? AND livemode = ? AND origin = 'daily' AND period_from = ? AND period_to = ?
		   AND status = 'failed'`,
		)
		.bind(owner.merchantId, owner.livemode ? 1 : 0, date, date)
		.all<{ id: string }>();
	return results.map((r) => r.id);
}
