import type { ConversionRatePolicy, ConversionStatus } from "../domain/conversion";
import type { MerchantSettings } from "../domain/merchant-settings";
import type { Owner } from "../domain/owner";
import type { EventRow } from "./events";
import { listPage, type Page, type PageQuery } from "./pagination";

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

/** The payment's completed conversion, or null (none yet, or it failed). */
export function completedConversionOf(
	db: D1Database,
	paymentId: string,
): Promise<ConversionRow | null> {
	return db
		.prepare("SELECT * FROM conversions WHERE payment_id = ? AND status = 'completed'")
		.bind(paymentId)
		.first<ConversionRow>();
}

/** A page of the merchant's conversions, newest first. */
export async function listConversions(
	db: D1Database,
	owner: Owner,
	filters: { payment?: string | undefined },
	query: PageQuery,
): Promise<Page<ConversionRow>> {
	return listPage<ConversionRow>(db, "conversions", owner, filters, query);
}

const COLUMNS = [
	"id",
	"merchant_id",
	"livemode",
	"payment_id",
	"status",
	"policy",
	"from_currency",
	"from_token",
	"from_amount",
	"to_currency",
	"to_token",
	"to_amount",
	"rate_numerator",
	"rate_denominator",
	"rate",
	"rate_source",
	"rate_publish_time",
	"spread_bps",
	"fee",
	"rounding",
	"failure_code",
	"failure_message",
	"created",
] as const satisfies readonly (keyof ConversionRow)[];

/** The row, unless the payment has one already (the unique index on payment_id). */
function insertRowStatement(db: D1Database, row: ConversionRow): D1PreparedStatement {
	return db
		.prepare(
			`INSERT OR IGNORE INTO conversions (${COLUMNS.join(", ")}) VALUES (${COLUMNS.map(() => "?").join(", ")})`,
		)
		.bind(...COLUMNS.map((c) => row[c]));
}

/** The event, only if this very row was inserted: a losing concurrent attempt leaves no event. */
function insertEventForStatement(
	db: D1Database,
	event: EventRow,
	conversionId: string,
): D1PreparedStatement {
	return db
		.prepare(
			`INSERT OR IGNORE INTO events (id, merchant_id, livemode, type, object_id, object_version, data, created)
			 SELECT ?, ?, ?, ?, ?, NULL, ?, ? WHERE EXISTS (SELECT 1 FROM conversions WHERE id = ?)`,
		)
		.bind(
			event.id,
			event.merchant_id,
			event.livemode ? 1 : 0,
			event.type,
			event.object_id,
			event.data,
			event.created,
			conversionId,
		);
}

/**
 * What converting a payment first reads, in one batch: the id of its conversion if it has one,
 * and its merchant's settings.
 */
export async function conversionOfPaymentAndSettings(
	db: D1Database,
	paymentId: string,
	merchantId: string,
): Promise<{ done: string | undefined; settings: MerchantSettings }> {
	const [existing, merchant] = await db.batch([
		db.prepare("SELECT id FROM conversions WHERE payment_id = ?").bind(paymentId),
		db.prepare("SELECT settings FROM merchants WHERE id = ?").bind(merchantId),
	]);
	const done = (existing?.results[0] as { id: string } | undefined)?.id;
	const raw = (merchant?.results[0] as { settings: string } | undefined)?.settings;
	return { done, settings: (raw ? JSON.parse(raw) : {}) as MerchantSettings };
}

/**
 * The row, its ledger statements and its event in one batch; false when the payment had a
 * conversion already (nothing was written then).
 */
export async function insertConversion(
	db: D1Database,
	row: ConversionRow,
	transfer: D1PreparedStatement[],
	event: EventRow,
): Promise<boolean> {
	const results = await db.batch([
		insertRowStatement(db, row),
		...transfer,
		insertEventForStatement(db, event, row.id),
	]);
	return (results[0]?.meta.changes ?? 0) === 1;
}
