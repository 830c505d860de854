import type { ConversionRatePolicy, ConversionStatus } from "../domain/conversion";
import { listPage, type Owner, type Page, type PageQuery } from "./pagination";

/** A `conversions` row as D1 returns it. */
export interface ConversionRow {
	id: string;
	merchant_id: string;
	livemode: number;
	payment_id: string;
	status: ConversionStatus;
	policy: ConversionRatePolicy;
	from_currency: string;
	from_token: string;
	from_amount: string;
	to_currency: string;
	to_token: string | null;
	to_amount: string | null;
	rate_numerator: string | null;
	rate_denominator: string | null;
	rate: string | null;
	rate_source: string | null;
	rate_publish_time: number | null;
	spread_bps: number;
	fee: string | null;
	rounding: string | null;
	failure_code: string | null;
	failure_message: string | null;
	created: number;
}

/** The merchant's conversion in this mode, or null. */
export async function findConversion(
	db: D1Database,
	owner: Owner,
	id: string,
): Promise<ConversionRow | null> {
	return db
		.prepare("SELECT * FROM conversions WHERE id = ? AND merchant_id = ? AND livemode = ?")
		.bind(id, owner.merchantId, owner.livemode ? 1 : 0)
		.first<ConversionRow>();
}

/** A page of the merchant's conversions, newest first. */
export async function listConversions(
	db: D1Database,
	owner: Owner,
	filters: { payment?: string | undefined },
	query: PageQuery,
): Promise<Page<ConversionRow>> {
	const where: [string, string | number][] = [
		["merchant_id", owner.merchantId],
		["livemode", owner.livemode ? 1 : 0],
	];
	if (filters.payment) where.push(["payment_id", filters.payment]);
	return listPage<ConversionRow>(db, { table: "conversions", kind: "conversion", where, query });
}
