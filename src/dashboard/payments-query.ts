import { type PaymentMatch, searchPaymentRows } from "../db/payments";
import { isId, lowestIdAt } from "../domain/ids";
import type { PaymentObjectJson } from "../domain/payment";
import { PAYMENT_STATUSES, type PaymentStatus } from "../domain/payment-state";
import type { Env } from "../env";
import { listCustomers } from "../services/customers";

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
	const from = filters.from ? dayStart(filters.from) : null;
	const to = filters.to ? dayStart(filters.to) : null;
	let searchedAs: PaymentsPage["searchedAs"] = null;
	let match: PaymentMatch | undefined;
	const q = filters.q;
	if (q !== undefined) {
		if (isId("payment", q)) {
			searchedAs = "id";
			match = { by: "id", id: q };
		} else if (SIGNATURE.test(q)) {
			searchedAs = "signature";
			match = { by: "signature", signature: q };
		} else if (q.includes("@")) {
			searchedAs = "email";
			const customers = await listCustomers(env, owner, { limit: 20, email: q });
			if (customers.data.length === 0) return { data: [], has_more: false, searchedAs };
			match = { by: "customers", customerIds: customers.data.map((cus) => cus.id) };
		} else {
			searchedAs = "reference";
			match = { by: "reference", reference: q };
		}
	}
	const page = await searchPaymentRows(
		env.DB,
		owner,
		{
			status: filters.status,
			method: filters.method,
			amountMin: filters.amountMin,
			amountMax: filters.amountMax,
			idFrom: from !== null ? lowestIdAt("payment", from) : undefined,
			idBefore: to !== null ? lowestIdAt("payment", to + 24 * 60 * 60 * 1000) : undefined,
			startingAfter: filters.startingAfter,
			endingBefore: filters.endingBefore,
			match,
		},
		limit,
	);
	return { data: page.data.map((r) => projected(r.data)), has_more: page.has_more, searchedAs };
}

/** A projected payment; rows projected before a field existed read as its default. */
function projected(data: string): PaymentObjectJson {
	const p = JSON.parse(data) as PaymentObjectJson;
	return { ...p, customer: p.customer ?? null, refund_status: p.refund_status ?? null };
}
