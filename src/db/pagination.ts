import { ApiError } from "../lib/errors";
import { type IdKind, isId, lowestIdAt } from "../lib/ids";

export interface PageQuery {
	limit: number;
	starting_after?: string | undefined;
	ending_before?: string | undefined;
	"created[gte]"?: number | undefined;
	"created[gt]"?: number | undefined;
	"created[lte]"?: number | undefined;
	"created[lt]"?: number | undefined;
}

/** The merchant and mode a list or lookup is scoped to. */
export interface Owner {
	merchantId: string;
	livemode: boolean;
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

/**
 * Cursor pagination, newest first, over a table whose ids sort by creation. Filters are fixed
 * equality conditions (already bound by the caller); cursors and `created` bounds become id
 * bounds, so every page is one bounded index range scan.
 */
export async function listPage<Row extends { id: string }>(
	db: D1Database,
	input: {
		table: "payments" | "events" | "conversions" | "payouts";
		kind: IdKind;
		where: [column: string, value: string | number][];
		query: PageQuery;
	},
): Promise<Page<Row>> {
	const { query, kind } = input;
	checkCursors(query, kind);
	const conditions = input.where.map(([column]) => `${column} = ?`);
	const bindings: (string | number)[] = input.where.map(([, value]) => value);
	const lower = [
		query["created[gte]"] !== undefined ? lowestIdAt(kind, query["created[gte]"] * 1000) : null,
		query["created[gt]"] !== undefined ? lowestIdAt(kind, (query["created[gt]"] + 1) * 1000) : null,
	];
	const upper = [
		query["created[lte]"] !== undefined
			? lowestIdAt(kind, (query["created[lte]"] + 1) * 1000)
			: null,
		query["created[lt]"] !== undefined ? lowestIdAt(kind, query["created[lt]"] * 1000) : null,
	];
	for (const bound of lower) {
		if (bound) {
			conditions.push("id >= ?");
			bindings.push(bound);
		}
	}
	for (const bound of upper) {
		if (bound) {
			conditions.push("id < ?");
			bindings.push(bound);
		}
	}
	const backwards = query.ending_before !== undefined;
	if (query.starting_after) {
		conditions.push("id < ?");
		bindings.push(query.starting_after);
	}
	if (query.ending_before) {
		conditions.push("id > ?");
		bindings.push(query.ending_before);
	}
	const sql = `SELECT * FROM ${input.table} WHERE ${conditions.join(" AND ")}
		ORDER BY id ${backwards ? "ASC" : "DESC"} LIMIT ?`;
	const { results } = await db
		.prepare(sql)
		.bind(...bindings, query.limit + 1)
		.all<Row>();
	const has_more = results.length > query.limit;
	const page = results.slice(0, query.limit);
	return { data: backwards ? page.reverse() : page, has_more };
}
