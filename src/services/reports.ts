/**
 * Reports: a merchant's transactions or settlement statement for a period of UTC days, written
 * to R2 as CSV and JSON, recorded in D1, announced with a `report.ready` event. Small reports are
 * built in the request; large ones (over 31 days or many rows) and the daily ones go through the
 * reports queue, whose consumer builds them idempotently (src/queues/reports.ts).
 */

import type { EventRow } from "../db/events";
import { checkCursors, paginate } from "../db/pagination";
import {
	findOwnReport,
	findReport,
	insertReportFailedEvent,
	insertReportIfAbsent,
	latestSettlementClosing,
	markReportFailed,
	markReportReady,
	type ReportRow,
	reportsWindow,
} from "../db/reports";
import { isId, newId } from "../domain/ids";
import type { ReportsMessage } from "../domain/queue-messages";
import { addDays, periodDays, periodProblem, type ReportType } from "../domain/reports";
import type { Env } from "../env";
import { ApiError } from "../lib/errors";
import { publishEvents } from "./events";
import { countTransactions, settlementData } from "./report-data";
import {
	CONTENT_TYPES,
	type ReportFormat,
	type WrittenReport,
	writeSettlement,
	writeTransactions,
} from "./report-files";

export interface ReportSpec {
	merchantId: string;
	livemode: boolean;
	type: ReportType;
	from: string;
	to: string;
}

export interface Report {
	id: string;
	object: "report";
	livemode: boolean;
	type: ReportType;
	from: string;
	to: string;
	status: "pending" | "ready" | "failed";
	formats: ("csv" | "json")[];
	rows: number | null;
	size_bytes: number | null;
	created: number;
	ready_at: number | null;
	failure_reason?: string | null;
}

/** Requests past either limit are built by the queue's consumer, not in the request. */
export const INLINE_MAX_DAYS = 31;
export const INLINE_MAX_ROWS = 5_000;

export function toApiReport(row: ReportRow): Report {
	return {
		id: row.id,
		object: "report",
		livemode: row.livemode === 1,
		type: row.type,
		from: row.period_from,
		to: row.period_to,
		status: row.status,
		formats: JSON.parse(row.formats) as ("csv" | "json")[],
		rows: row.rows,
		size_bytes: row.size_bytes,
		created: row.created,
		ready_at: row.ready_at,
		failure_reason: row.failure_reason,
	};
}

export async function insertReport(
	env: Env,
	spec: ReportSpec,
	origin: ReportRow["origin"],
	now: number,
): Promise<ReportRow> {
	const row: ReportRow = {
		// The id's time is the clock's milliseconds (not `now`), so ids sort in creation order.
		id: newId("report"),
		merchant_id: spec.merchantId,
		livemode: spec.livemode ? 1 : 0,
		type: spec.type,
		period_from: spec.from,
		period_to: spec.to,
		origin,
		status: "pending",
		formats: JSON.stringify(["csv", "json"]),
		rows: null,
		size_bytes: null,
		csv_key: null,
		csv_size: null,
		json_key: null,
		json_size: null,
		balances: null,
		created: now,
		ready_at: null,
		failure_reason: null,
	};
	// A daily report that exists already is left as it is (the unique index on daily reports).
	await insertReportIfAbsent(env.DB, row);
	return row;
}

async function readReport(env: Env, id: string): Promise<ReportRow | null> {
	return findReport(env.DB, id);
}

/**
 * The closing balances of a ready settlement report that ended the day before `from` and was
 * built after that day was over (a report of an unfinished day closes too early to open from).
 */
async function previousClosing(env: Env, row: ReportRow) {
	const dayBefore = addDays(row.period_from, -1);
	const prev = await latestSettlementClosing(env.DB, {
		merchantId: row.merchant_id,
		livemode: row.livemode,
		periodTo: dayBefore,
		readyFrom: periodStartOf(row.period_from),
	});
	if (!prev) return null;
	const balances = JSON.parse(prev.balances) as Record<string, string>;
	return {
		report: prev.id,
		balances: new Map(Object.entries(balances).map(([c, v]) => [c, BigInt(v)])),
	};
}

export function periodStartOf(date: string): number {
	return Math.floor(Date.parse(`${date}T00:00:00Z`) / 1000);
}

/**
 * Builds a recorded report unless it is built already: files to R2 (their keys derive from the
 * report id, so building twice overwrites rather than adds), then the row marked ready and
 * `report.ready` recorded in one batch that writes the event only once.
 */
export async function buildStoredReport(env: Env, id: string, now: number): Promise<ReportRow> {
	const row = await readReport(env, id);
	if (!row) throw new Error(`No report ${id}`);
	if (row.status !== "pending") return row;
	const scope = {
		merchantId: row.merchant_id,
		livemode: row.livemode === 1,
		from: row.period_from,
		to: row.period_to,
	};
	const header = {
		id: row.id,
		type: row.type,
		livemode: scope.livemode,
		from: row.period_from,
		to: row.period_to,
		created: row.created,
	};
	const written: WrittenReport =
		row.type === "transactions"
			? await writeTransactions(env, header, scope)
			: await writeSettlement(
					env,
					header,
					scope,
					await settlementData(env, scope, await previousClosing(env, row)),
				);
	const ready: ReportRow = {
		...row,
		status: "ready",
		rows: written.rows,
		size_bytes: written.csv.size + written.json.size,
		csv_key: written.csv.key,
		csv_size: written.csv.size,
		json_key: written.json.key,
		json_size: written.json.size,
		balances: written.balances ? JSON.stringify(written.balances) : null,
		ready_at: now,
	};
	const event: EventRow = {
		id: newId("event"),
		merchant_id: row.merchant_id,
		livemode: row.livemode === 1,
		type: "report.ready",
		object_id: row.id,
		object_version: null,
		data: JSON.stringify(toApiReport(ready)),
		created: now,
	};
	const inserted = await markReportReady(env.DB, ready, event);
	if (inserted) await publishEvents(env, [event]);
	return (await readReport(env, id)) ?? ready;
}

/** Builds one report synchronously: reads D1, writes CSV + JSON to R2, records it, emits report.ready. */
export async function buildReport(env: Env, spec: ReportSpec, now: number): Promise<Report> {
	const row = await insertReport(env, spec, "api", now);
	return toApiReport(await buildStoredReport(env, row.id, now));
}

/** Records a report that could not be built, with why; a ready one stays ready. */
export async function failReport(env: Env, id: string, reason: string): Promise<void> {
	await markReportFailed(env.DB, id, reason.slice(0, 500));
	// Also when an earlier give-up marked it but could not announce it.
	await announceFailed(env, [id]);
}

/**
 * `report.failed` for each report just marked failed, written once per report (a repeated give-up
 * adds nothing) and published like every other event.
 */
export async function announceFailed(env: Env, ids: string[]): Promise<void> {
	const now = Math.floor(Date.now() / 1000);
	for (const id of ids) {
		const row = await readReport(env, id);
		if (row?.status !== "failed") continue;
		const event: EventRow = {
			id: newId("event"),
			merchant_id: row.merchant_id,
			livemode: row.livemode === 1,
			type: "report.failed",
			object_id: row.id,
			object_version: null,
			data: JSON.stringify(toApiReport(row)),
			created: now,
		};
		if (await insertReportFailedEvent(env.DB, row, event)) await publishEvents(env, [event]);
	}
}

async function enqueue(env: Env, message: ReportsMessage): Promise<void> {
	if (!env.REPORTS_QUEUE) throw new Error("Large reports need the REPORTS_QUEUE binding");
	await env.REPORTS_QUEUE.send(message);
}

/**
 * `POST /v1/reports`: validates the period, then builds the report now, or records it pending
 * and hands it to the reports queue when it covers more than 31 days or more than 5,000 rows.
 */
export async function requestReport(env: Env, spec: ReportSpec, now: number): Promise<Report> {
	const problem = periodProblem(spec.from, spec.to, now);
	if (problem)
		throw new ApiError(
			"parameter_invalid",
			`'${problem.param}' ${problem.message}.`,
			problem.param,
		);
	const large =
		periodDays(spec.from, spec.to) > INLINE_MAX_DAYS ||
		(spec.type === "transactions" && (await countTransactions(env, spec)) > INLINE_MAX_ROWS);
	if (!large) return buildReport(env, spec, now);
	const row = await insertReport(env, spec, "api", now);
	await enqueue(env, { kind: "build", report_id: row.id });
	return toApiReport(row);
}

export async function getReport(
	env: Env,
	q: { merchantId: string; livemode: boolean; id: string },
): Promise<Report | null> {
	if (!isId("report", q.id)) return null;
	const row = await findOwnReport(env.DB, q, q.id);
	return row ? toApiReport(row) : null;
}

export async function listReports(
	env: Env,
	q: {
		merchantId: string;
		livemode: boolean;
		limit: number;
		startingAfter?: string;
		endingBefore?: string;
	},
): Promise<{ data: Report[]; has_more: boolean }> {
	checkCursors({ starting_after: q.startingAfter, ending_before: q.endingBefore }, "report");
	const query = { limit: q.limit, starting_after: q.startingAfter, ending_before: q.endingBefore };
	const page = await paginate(query, (window) => reportsWindow(env.DB, q, window));
	return { data: page.data.map(toApiReport), has_more: page.has_more };
}

/** The file's body stream and content type, or null when the report is not the merchant's or not ready. */
export async function openReportFile(
	env: Env,
	q: { merchantId: string; livemode: boolean; id: string; format: ReportFormat },
): Promise<{ body: ReadableStream; contentType: string; filename: string; size: number } | null> {
	if (!isId("report", q.id) || !env.REPORTS_BUCKET) return null;
	const row = await findOwnReport(env.DB, q, q.id, true);
	const key = q.format === "csv" ? row?.csv_key : row?.json_key;
	if (!row || !key) return null;
	const object = await env.REPORTS_BUCKET.get(key);
	if (!object) return null;
	return {
		body: object.body,
		contentType: CONTENT_TYPES[q.format],
		filename: `${row.type}-${row.period_from}-${row.period_to}-${row.id}.${q.format}`,
		size: object.size,
	};
}
