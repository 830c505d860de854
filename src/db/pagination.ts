import { asc, desc, gt, lt, type SQL } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import { type IdKind, isId, lowestIdAt } from "../domain/ids";
import type { Owner } from "../domain/owner";
import { ApiError } from "../lib/errors";

export interface PageQuery {
	limit: number;
	starting_after?: string | undefined;
	ending_before?: string | undefined;
	"created[gte]"?: number | undefined;
	"created[gt]"?: number | undefined;
	"created[lte]"?: number | undefined;
	"created[lt]"?: number | undefined;
}

export interface Page<T> {
	data: T[];
	has_more: boolean;
}

/**
 * Refuses both cursors at once, and a cursor that is not an id of the listed kind (`label` names
 * the kind in the message, e.g. "payment link").
 */
export function checkCursors(
	query: { starting_after?: string | undefined; ending_before?: string | undefined },
	kind: IdKind,
	label: string = kind,
): void {
	if (query.starting_after && query.ending_before) {
		throw new ApiError(
			"parameter_invalid",
			"Pass only one of starting_after and ending_before.",
			"ending_before",
		);
	}
	for (const param of ["starting_after", "ending_before"] as const) {
		const value = query[param];
		if (value !== undefined && !isId(kind, value)) {
			throw new ApiError("parameter_invalid", `'${value}' is not a valid ${label} id.`, param);
		}
	}
}

/** A cursor query: a page size, and at most one of the two cursors (ids of the listed kind). */
export interface CursorQuery {
	limit: number;
	starting_after?: string | undefined;
	ending_before?: string | undefined;
}

/** The rows one page reads, as id bounds, a direction and a row count. */
export interface PageWindow {
	/** Only ids below this one (`starting_after`). */
	idBelow?: string | undefined;
	/** Only ids above this one (`ending_before`). */
	idAbove?: string | undefined;
	/** Newest first, or oldest first when paging back from `ending_before`. */
	order: "asc" | "desc";
	/** One more row than the page holds: its presence says there are more. */
	take: number;
}

/**
 * The one cursor pagination of every list: `fetch` reads the window's rows (in its own query,
 * SQL or drizzle, with the list's filters) in the window's order; the page is the first `limit`
 * of them, put back newest first, and `has_more` says whether another row followed.
 */
export async function paginate<Row>(
	query: CursorQuery,
	fetch: (window: PageWindow) => Promise<Row[]>,
): Promise<Page<Row>> {
	const backwards = query.ending_before !== undefined;
	const rows = await fetch({
		idBelow: query.starting_after || undefined,
		idAbove: query.ending_before || undefined,
		order: backwards ? "asc" : "desc",
		take: query.limit + 1,
	});
	const page = rows.slice(0, query.limit);
	if (backwards) page.reverse();
	return { data: page, has_more: rows.length > query.limit };
}

/** The window's cursor bounds and order on a table's id column, for a drizzle query. */
export function idWindow(id: SQLiteColumn, window: PageWindow): { bounds: SQL[]; orderBy: SQL } {
	const bounds: SQL[] = [];
	if (window.idBelow) bounds.push(lt(id, window.idBelow));
	if (window.idAbove) bounds.push(gt(id, window.idAbove));
	return { bounds, orderBy: window.order === "asc" ? asc(id) : desc(id) };
}

/**
 * A list's `created` filters as bounds on ids (which sort by creation): ids at or above each of
 * `lowest`, and below each of `below`, in the order the filters are applied.
 */
export function createdIdBounds(
	kind: IdKind,
	query: Pick<PageQuery, "created[gte]" | "created[gt]" | "created[lte]" | "created[lt]">,
): { lowest: string[]; below: string[] } {
	const at = (seconds: number) => lowestIdAt(kind, seconds * 1000);
	const lowest: string[] = [];
	const below: string[] = [];
	if (query["created[gte]"] !== undefined) lowest.push(at(query["created[gte]"]));
	if (query["created[gt]"] !== undefined) lowest.push(at(query["created[gt]"] + 1));
	if (query["created[lte]"] !== undefined) below.push(at(query["created[lte]"] + 1));
	if (query["created[lt]"] !== undefined) below.push(at(query["created[lt]"]));
	return { lowest, below };
}

/**
 * The tables `listPage` lists: each one's id kind, and the column each of its filters compares
 * (in the order the conditions are written). Callers name filters, never columns.
 */
const LISTS = {
	payments: { kind: "payment", columns: { status: "status", customer: "customer_id" } },
	events: { kind: "event", columns: { type: "type", objectId: "object_id" } },
	conversions: { kind: "conversion", columns: { payment: "payment_id" } },
	payouts: {
		kind: "payout",
		columns: { status: "status", destination: "destination_id", currency: "currency" },
	},
} as const satisfies Record<string, { kind: IdKind; columns: Record<string, string> }>;

export type ListName = keyof typeof LISTS;

/** A list's equality filters by name; absent or empty ones filter nothing. */
export type ListFilters<T extends ListName> = {
	[K in keyof (typeof LISTS)[T]["columns"]]?: string | undefined;
};

/**
 * Cursor pagination, newest first, over the owner's rows of a table whose ids sort by creation,
 * with the list's equality filters; cursors and `created` bounds become id bounds, so every page
 * is one bounded index range scan.
 */
export async function listPage<Row extends { id: string }, T extends ListName = ListName>(
	db: D1Database,
	table: T,
	owner: Owner,
	filters: ListFilters<T>,
	query: PageQuery,
): Promise<Page<Row>> {
	const { kind, columns } = LISTS[table];
	checkCursors(query, kind);
	const where: [string, string | number][] = [
		["merchant_id", owner.merchantId],
		["livemode", owner.livemode ? 1 : 0],
	];
	for (const [name, column] of Object.entries(columns)) {
		const value = (filters as Record<string, string | undefined>)[name];
		if (value) where.push([column, value]);
	}
	return paginate(query, async (window) => {
		const conditions = where.map(([column]) => `${column} = ?`);
		const bindings: (string | number)[] = where.map(([, value]) => value);
		const { lowest, below } = createdIdBounds(kind, query);
		for (const bound of lowest) {
			conditions.push("id >= ?");
			bindings.push(bound);
		}
		for (const bound of below) {
			conditions.push("id < ?");
			bindings.push(bound);
		}
		if (window.idBelow) {
			conditions.push("id < ?");
			bindings.push(window.idBelow);
		}
		if (window.idAbove) {
			conditions.push("id > ?");
			bindings.push(window.idAbove);
		}
		const sql = `SELECT * FROM ${table} WHERE ${conditions.join(" AND ")}
		ORDER BY id ${window.order.toUpperCase()} LIMIT ?`;
		const { results } = await db
			.prepare(sql)
			.bind(...bindings, window.take)
			.all<Row>();
		return results;
	});
}
