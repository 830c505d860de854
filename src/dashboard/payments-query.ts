import { isId, lowestIdAt } from "../domain/ids";
import type { PaymentObjectJson } from "../domain/payment";
import { PAYMENT_STATUSES, type PaymentStatus } from "../domain/payment-state";
import type { Env } from "../env";
import { listCustomers } from "../services/customers";

/**
 * The method that paid: the one with a matched signature or a card charge; unpaid payments have
 * none. Written exactly as in migrations/0017_dashboard.sql, so SQLite answers it from the index.
 */
const METHOD_SQL = `(CASE WHEN json_extract(data, '$.solana.signature') IS NOT NULL THEN 'solana' WHEN json_extract(data, '$.card.charge') IS NOT NULL THEN 'card' END)`;
const REFERENCE_SQL = `json_extract(data, '$.metadata.reference')`;
const ORDER_ID_SQL = `json_extract(data, '$.metadata.order_id')`;
const SIGNATURE = /^[1-9A-HJ-NP-Za-km-z]{64,90}$/;
const PAGE_SIZE = 25;

export const METHODS = ["solana", "card"] as const;

export interface PaymentFilters {
	status?: PaymentStatus;
	method?: (typeof METHODS)[number];
	/** YYYY-MM-DD, UTC, inclusive. */
	from?: string;
	to?: string;
	/** Minor units, inclusive. */
	amountMin?: number;
	amountMax?: number;
	/** A payment id, a metadata reference or order id, a Solana signature, or a customer email. */
	q?: string;
	startingAfter?: string;
	endingBefore?: string;
}

export interface FilterProblem {
	field: string;
	message: string;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

function dayStart(day: string): number | null {
	if (!DAY.test(day)) return null;
	const ms = Date.parse(`${day}T00:00:00Z`);
	return Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== day ? null : ms;
}

/** Reads the filter form's query string; a bad field is reported, never silently dropped. */
export function parseFilters(query: Record<string, string>): {
	filters: PaymentFilters;
	problems: FilterProblem[];
} {
	const filters: PaymentFilters = {};
	const problems: FilterProblem[] = [];
	const value = (name: string) => {
		const v = query[name]?.trim();
		return v === undefined || v === "" ? undefined : v;
	};
	const status = value("status");
	if (status !== undefined) {
		if ((PAYMENT_STATUSES as readonly string[]).includes(status))
			filters.status = status as PaymentStatus;
		else problems.push({ field: "status", message: `Unknown status '${status}'.` });
	}
	const method = value("method");
	if (method !== undefined) {
		if ((METHODS as readonly string[]).includes(method))
			filters.method = method as PaymentFilters["method"];
		else problems.push({ field: "method", message: `Unknown method '${method}'.` });
	}
	for (const field of ["from", "to"] as const) {
		const day = value(field);
		if (day === undefined) continue;
		if (dayStart(day) === null)
			problems.push({ field, message: `'${day}' is not a date (YYYY-MM-DD).` });
		else filters[field] = day;
	}
	for (const [field, key] of [
		["amount_min", "amountMin"],
		["amount_max", "amountMax"],
	] as const) {
		const raw = value(field);
		if (raw === undefined) continue;
		if (/^\d{1,15}$/.test(raw)) filters[key] = Number(raw);
		else problems.push({ field, message: "Amounts are whole minor units (e.g. 2500 for $25.00)." });
	}
	const q = value("q");
	if (q !== undefined) {
		if (q.length > 320) problems.push({ field: "q", message: "The search is too long." });
		else filters.q = q;
	}
	for (const [field, key] of [
		["starting_after", "startingAfter"],
		["ending_before", "endingBefore"],
	] as const) {
		const cursor = value(field);
		if (cursor === undefined) continue;
		if (isId("payment", cursor)) filters[key] = cursor;
		else problems.push({ field, message: "Not a payment id." });
	}
	return { filters, problems };
}

export interface PaymentsPage {
	data: PaymentObjectJson[];
	has_more: boolean;
	/** What the search was taken for, shown beside the results. */
	searchedAs: "id" | "signature" | "email" | "reference" | null;
}

/**
 * The merchant's payments in one mode matching the filters, newest first, one page. Every filter
 * maps to an index (status, method, amount, reference/order id, customer, id range for dates).
 */
export async function searchPayments(
	env: Env,
	owner: { merchantId: string; livemode: boolean },
	filters: PaymentFilters,
	limit = PAGE_SIZE,
): Promise<PaymentsPage> {
	const owned = ["merchant_id = ?", "livemode = ?"];
	const ownerBindings = [owner.merchantId, owner.livemode ? 1 : 0];
	const conditions = [...owned];
	const bindings: (string | number)[] = [...ownerBindings];
	const add = (sql: string, ...values: (string | number)[]) => {
		conditions.push(sql);
		bindings.push(...values);
	};
	if (filters.status) add("status = ?", filters.status);
	if (filters.method) add(`${METHOD_SQL} = ?`, filters.method);
	if (filters.amountMin !== undefined) add("amount >= ?", filters.amountMin);
	if (filters.amountMax !== undefined) add("amount <= ?", filters.amountMax);
	const from = filters.from ? dayStart(filters.from) : null;
	const to = filters.to ? dayStart(filters.to) : null;
	if (from !== null) add("id >= ?", lowestIdAt("payment", from));
	if (to !== null) add("id < ?", lowestIdAt("payment", to + 24 * 60 * 60 * 1000));
	if (filters.startingAfter) add("id < ?", filters.startingAfter);
	if (filters.endingBefore) add("id > ?", filters.endingBefore);

	let searchedAs: PaymentsPage["searchedAs"] = null;
	const q = filters.q;
	if (q !== undefined) {
		// Each kind of search is one indexed lookup giving candidate ids; the filters then apply.
		const scoped = `SELECT id FROM payments WHERE ${owned.join(" AND ")}`;
		if (isId("payment", q)) {
			searchedAs = "id";
			add("id = ?", q);
		} else if (SIGNATURE.test(q)) {
			searchedAs = "signature";
			add("id IN (SELECT payment_id FROM solana_signatures WHERE signature = ?)", q);
		} else if (q.includes("@")) {
			searchedAs = "email";
			const customers = await listCustomers(env, owner, { limit: 20, email: q });
			if (customers.data.length === 0) return { data: [], has_more: false, searchedAs };
			const selects = customers.data.map(() => `${scoped} AND customer_id = ?`);
			add(
				`id IN (${selects.join(" UNION ALL ")})`,
				...customers.data.flatMap((cus) => [...ownerBindings, cus.id]),
			);
		} else {
			searchedAs = "reference";
			add(
				`id IN (${scoped} AND ${REFERENCE_SQL} = ? UNION ALL ${scoped} AND ${ORDER_ID_SQL} = ?)`,
				...ownerBindings,
				q,
				...ownerBindings,
				q,
			);
		}
	}
	const backwards = filters.endingBefore !== undefined;
	const { results } = await env.DB.prepare(
		`SELECT data FROM payments WHERE ${conditions.join(" AND ")}
		 ORDER BY id ${backwards ? "ASC" : "DESC"} LIMIT ?`,
	)
		.bind(...bindings, limit + 1)
		.all<{ data: string }>();
	const page = results.slice(0, limit).map((r) => projected(r.data));
	if (backwards) page.reverse();
	return { data: page, has_more: results.length > limit, searchedAs };
}

/** A projected payment; rows projected before a field existed read as its default. */
function projected(data: string): PaymentObjectJson {
	const p = JSON.parse(data) as PaymentObjectJson;
	return { ...p, customer: p.customer ?? null, refund_status: p.refund_status ?? null };
}
