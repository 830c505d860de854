import type { Owner } from "../domain/owner";
import type { PaymentStatus } from "../domain/payment-state";
import { listPage, type Page, type PageQuery, type PageWindow, paginate } from "./pagination";

// Reads of the `payments` projection (the payment's API object in `data`, kept by its object).

/** A payments row as lists read it: the id and the projected API object. */
export interface PaymentDataRow {
	id: string;
	data: string;
}

export interface PaymentListFilters {
	status?: PaymentStatus | undefined;
	customer?: string | undefined;
}

/** A page of the merchant's payments, newest first. */
export async function listPayments(
	db: D1Database,
	owner: Owner,
	filters: PaymentListFilters,
	query: PageQuery,
): Promise<Page<PaymentDataRow>> {
	return listPage<PaymentDataRow>(db, "payments", owner, filters, query);
}

/** A customer's latest payments (projected objects), newest first. */
export async function recentPaymentsOfCustomer(
	db: D1Database,
	owner: Owner,
	customerId: string,
	limit: number,
): Promise<{ data: string }[]> {
	const { results } = await db
		.prepare(
			`SELECT data FROM payments WHERE merchant_id = ? AND livemode = ? AND customer_id = ?
		 ORDER BY id DESC LIMIT ?`,
		)
		.bind(owner.merchantId, owner.livemode ? 1 : 0, customerId, limit)
		.all<{ data: string }>();
	return results;
}

/**
 * The method that paid: the one with a matched signature or a card charge; unpaid payments have
 * none. Written exactly as in migrations/0017_dashboard.sql, so SQLite answers it from the index.
 */
const METHOD_SQL = `(CASE WHEN json_extract(data, '$.solana.signature') IS NOT NULL THEN 'solana' WHEN json_extract(data, '$.card.charge') IS NOT NULL THEN 'card' END)`;
const REFERENCE_SQL = `json_extract(data, '$.metadata.reference')`;
const ORDER_ID_SQL = `json_extract(data, '$.metadata.order_id')`;

/** What the dashboard's search matched its text as; each is one indexed lookup of candidates. */
export type PaymentMatch =
	| { by: "id"; id: string }
	| { by: "signature"; signature: string }
	| { by: "customers"; customerIds: string[] }
	| { by: "reference"; reference: string };

export interface PaymentSearch {
	status?: PaymentStatus | undefined;
	method?: "solana" | "card" | undefined;
	amountMin?: number | undefined;
	amountMax?: number | undefined;
	/** Payment ids at or after (`idFrom`) and before (`idBefore`): the bounds of a date range. */
	idFrom?: string | undefined;
	idBefore?: string | undefined;
	startingAfter?: string | undefined;
	endingBefore?: string | undefined;
	match?: PaymentMatch | undefined;
}

/**
 * The merchant's payments in one mode matching the search, newest first, one page (`limit` rows,
 * and whether there are more). Every filter maps to an index (status, method, amount,
 * reference/order id, customer, id range for dates).
 */
export async function searchPaymentRows(
	db: D1Database,
	owner: Owner,
	search: PaymentSearch,
	limit: number,
): Promise<Page<{ data: string }>> {
	const cursor = {
		limit,
		starting_after: search.startingAfter,
		ending_before: search.endingBefore,
	};
	return paginate(cursor, (window) => searchWindow(db, owner, search, window));
}

async function searchWindow(
	db: D1Database,
	owner: Owner,
	search: PaymentSearch,
	window: PageWindow,
): Promise<{ data: string }[]> {
	const owned = ["merchant_id = ?", "livemode = ?"];
	const ownerBindings = [owner.merchantId, owner.livemode ? 1 : 0];
	const conditions = [...owned];
	const bindings: (string | number)[] = [...ownerBindings];
	const add = (sql: string, ...values: (string | number)[]) => {
		conditions.push(sql);
		bindings.push(...values);
	};
	if (search.status) add("status = ?", search.status);
	if (search.method) add(`${METHOD_SQL} = ?`, search.method);
	if (search.amountMin !== undefined) add("amount >= ?", search.amountMin);
	if (search.amountMax !== undefined) add("amount <= ?", search.amountMax);
	if (search.idFrom !== undefined) add("id >= ?", search.idFrom);
	if (search.idBefore !== undefined) add("id < ?", search.idBefore);
	if (window.idBelow) add("id < ?", window.idBelow);
	if (window.idAbove) add("id > ?", window.idAbove);

	const match = search.match;
	if (match) {
		const scoped = `SELECT id FROM payments WHERE ${owned.join(" AND ")}`;
		if (match.by === "id") add("id = ?", match.id);
		else if (match.by === "signature") {
			add("id IN (SELECT payment_id FROM solana_signatures WHERE signature = ?)", match.signature);
		} else if (match.by === "customers") {
			const selects = match.customerIds.map(() => `${scoped} AND customer_id = ?`);
			add(
				`id IN (${selects.join(" UNION ALL ")})`,
				...match.customerIds.flatMap((id) => [...ownerBindings, id]),
			);
		} else {
			add(
				`id IN (${scoped} AND ${REFERENCE_SQL} = ? UNION ALL ${scoped} AND ${ORDER_ID_SQL} = ?)`,
				...ownerBindings,
				match.reference,
				...ownerBindings,
				match.reference,
			);
		}
	}
	const { results } = await db
		.prepare(
			`SELECT data FROM payments WHERE ${conditions.join(" AND ")}
		 ORDER BY id ${window.order.toUpperCase()} LIMIT ?`,
		)
		.bind(...bindings, window.take)
		.all<{ data: string }>();
	return results;
}
