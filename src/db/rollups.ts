// The rollup job's SQL (src/services/rollups.ts runs it): its watermark, the scan of the event
// log, and the statements that rebuild whole days of the rollup tables from their source rows.
import { lowestIdAt } from "../domain/ids";
import { CONFIRMATION_BUCKETS, DAY_MS, type DayKey, dayStartMs } from "../domain/rollups";

const WATERMARK = "events";

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/**
 * SQL for the creation time (ms) carried by an id column: the 10 base32 characters after the
 * prefix, decoded. Lets the log scan group events by day without returning them.
 */
function idTimeSql(column: string): string {
	const start = `instr(${column}, '_') + 1`;
	const digits = Array.from(
		{ length: 10 },
		(_, i) =>
			`(instr('${ALPHABET}', substr(${column}, ${start} + ${i}, 1)) - 1) * ${32 ** (9 - i)}`,
	);
	return `(${digits.join(" + ")})`;
}

const ROLLED_UP = "(type LIKE 'payment.%' OR type LIKE 'refund.%' OR type LIKE 'conversion.%')";

/** The job's watermark (a rowid of `events`), with the log's highest rowid; null before the first run. */
export function rollupWatermark(db: D1Database): Promise<{ seq: number; top: number } | null> {
	return db
		.prepare(
			`SELECT seq, (SELECT coalesce(max(rowid), 0) FROM events) AS top
			 FROM rollup_watermarks WHERE name = ?`,
		)
		.bind(WATERMARK)
		.first<{ seq: number; top: number }>();
}

/**
 * One pass over up to `limit` events after `watermark`, grouped by the day each event's object
 * was created: per (merchant, mode, day), the first position of a rolled-up event, the last
 * position, and how many events and rolled-up events.
 */
export function eventDaysAfter(db: D1Database, watermark: number, limit: number) {
	return db
		.prepare(
			`SELECT merchant_id, livemode, day, MIN(CASE WHEN rolled THEN seq END) AS first_seq,
			   MAX(seq) AS last_seq, COUNT(*) AS events, SUM(rolled) AS rolled
			 FROM (SELECT rowid AS seq, merchant_id, livemode, ${ROLLED_UP} AS rolled,
			         date(${idTimeSql("object_id")} / 1000, 'unixepoch') AS day
			       FROM events WHERE rowid > ?1 ORDER BY rowid LIMIT ?2)
			 GROUP BY 1, 2, 3`,
		)
		.bind(watermark, limit)
		.all<{
			merchant_id: string;
			livemode: number;
			day: string | null;
			first_seq: number | null;
			last_seq: number;
			events: number;
			rolled: number;
		}>();
}

/** Moves the job's watermark (batched with the rebuild it follows). */
export function setWatermarkStatement(
	db: D1Database,
	seq: number,
	now: number,
): D1PreparedStatement {
	return db
		.prepare(
			`INSERT INTO rollup_watermarks (name, seq, updated) VALUES (?1, ?2, ?3)
				 ON CONFLICT (name) DO UPDATE SET seq = excluded.seq, updated = excluded.updated`,
		)
		.bind(WATERMARK, seq, now);
}

/** How a payment was (or is being) paid: a card attempt without a crypto transaction is a card. */
const PAYMENT_METHOD = `CASE
	WHEN json_extract(data, '$.card.payment_intent') IS NOT NULL
	 AND json_extract(data, '$.solana.signature') IS NULL THEN 'card'
	WHEN json_extract(data, '$.solana.token') IS NOT NULL THEN 'solana'
	ELSE coalesce(json_extract(data, '$.payment_method_types[0]'), 'card') END`;

/**
 * The days being rebuilt, as the first table of every statement: (merchant, mode, day) and the
 * id range of the day for the statement's kind. CROSS JOIN keeps it the outer loop, so each day
 * is a range scan of the source table's (merchant_id, livemode, id) index.
 */
const KEYS = "k(m, l, d, lo, hi)";

/** A payment's facts for the rollup, read from its projection row of the day. */
const PAYMENT_FACTS = `SELECT k.m AS m, k.l AS l, k.d AS d, status, currency, amount, amount_received,
	amount_refunded, customer_id,
	${PAYMENT_METHOD} AS method,
	json_extract(data, '$.solana.token') AS sol_token,
	coalesce(json_extract(data, '$.card.fee'), 0) AS card_fee,
	json_extract(data, '$.succeeded_at') - created AS confirm_s
	FROM k CROSS JOIN payments p
	  ON p.merchant_id = k.m AND p.livemode = k.l AND p.id >= k.lo AND p.id < k.hi`;

function histogramSql(): string {
	const bucket = CONFIRMATION_BUCKETS.map((b, i) => `WHEN confirm_s < ${b} THEN ${i}`).join(" ");
	const expr = `CASE WHEN confirm_s IS NULL THEN -1 ${bucket} ELSE ${CONFIRMATION_BUCKETS.length} END`;
	const sums = Array.from(
		{ length: CONFIRMATION_BUCKETS.length + 1 },
		(_, i) => `SUM(CASE WHEN status = 'succeeded' AND ${expr} = ${i} THEN 1 ELSE 0 END)`,
	);
	return `json_array(${sums.join(", ")})`;
}

const PAYMENTS_INSERT = `INSERT INTO rollup_payments_daily (merchant_id, livemode, day, method, currency,
	token, status, payments, amount, amount_received, fees, net, refunded_payments, confirm_hist)
	SELECT m, l, d, method, currency, tok, status, COUNT(*), SUM(amount), SUM(amount_received),
	  SUM(CASE WHEN status = 'succeeded' AND method = 'card' THEN card_fee ELSE 0 END),
	  SUM(CASE WHEN status = 'succeeded' AND method = 'card' THEN amount_received - card_fee ELSE 0 END),
	  SUM(CASE WHEN amount_refunded > 0 THEN 1 ELSE 0 END),
	  ${histogramSql()}
	FROM (SELECT *, CASE WHEN method = 'solana' THEN coalesce(sol_token, '') ELSE '' END AS tok
	      FROM (${PAYMENT_FACTS}))
	GROUP BY m, l, d, method, currency, tok, status`;

/** Refunds of received funds; held funds (an overpayment, a late payment) were never a sale. */
const REFUNDS_INSERT = `INSERT INTO rollup_refunds_daily (merchant_id, livemode, day, method, currency,
	token, status, refunds, amount)
	SELECT m, l, d, method, currency, tok, status, COUNT(*), SUM(coalesce(amount, 0))
	FROM (SELECT k.m AS m, k.l AS l, k.d AS d, status, currency, amount,
	        CASE json_extract(data, '$.processor') WHEN 'stripe' THEN 'card' ELSE 'solana' END AS method,
	        CASE WHEN json_extract(data, '$.processor') = 'stripe' THEN ''
	             ELSE coalesce(json_extract(data, '$.solana.token'), '') END AS tok
	      FROM k CROSS JOIN refunds r
	        ON r.merchant_id = k.m AND r.livemode = k.l AND r.id >= k.lo AND r.id < k.hi
	      WHERE coalesce(json_extract(data, '$.funds'), 'received') = 'received')
	GROUP BY m, l, d, method, currency, tok, status`;

/** A token target settles in that token: its symbol, lowercased, names the currency. */
const CONVERSIONS_INSERT = `INSERT INTO rollup_conversions_daily (merchant_id, livemode, day, method,
	currency, token, status, conversions, from_amount, spread, settled)
	SELECT m, l, d, 'solana', cur, from_token, status, COUNT(*),
	  SUM(CAST(from_amount AS INTEGER)), SUM(CAST(coalesce(fee, '0') AS INTEGER)),
	  SUM(CAST(coalesce(to_amount, '0') AS INTEGER))
	FROM (SELECT k.m AS m, k.l AS l, k.d AS d, status, from_token, from_amount, fee, to_amount,
	        CASE WHEN to_token IS NULL THEN lower(to_currency) ELSE lower(to_token) END AS cur
	      FROM k CROSS JOIN conversions c
	        ON c.merchant_id = k.m AND c.livemode = k.l AND c.id >= k.lo AND c.id < k.hi)
	GROUP BY m, l, d, cur, from_token, status`;

const CUSTOMERS_INSERT = `INSERT INTO rollup_customers_daily (merchant_id, livemode, day, customer_id,
	method, currency, token)
	SELECT DISTINCT m, l, d, customer_id, method, currency,
	  CASE WHEN method = 'solana' THEN coalesce(sol_token, '') ELSE '' END
	FROM (${PAYMENT_FACTS}) WHERE status = 'succeeded' AND customer_id IS NOT NULL`;

/** Succeeded is final, so a customer's first day only ever moves earlier. */
const FIRSTS_UPSERT = `INSERT INTO rollup_customer_firsts (merchant_id, livemode, customer_id, first_day)
	SELECT DISTINCT c.merchant_id, c.livemode, c.customer_id, c.day
	FROM k CROSS JOIN rollup_customers_daily c
	  ON c.merchant_id = k.m AND c.livemode = k.l AND c.day = k.d
	WHERE true
	ON CONFLICT (merchant_id, livemode, customer_id)
	DO UPDATE SET first_day = min(first_day, excluded.first_day)`;

const TABLES = [
	["rollup_payments_daily", PAYMENTS_INSERT, "payment"],
	["rollup_refunds_daily", REFUNDS_INSERT, "refund"],
	["rollup_conversions_daily", CONVERSIONS_INSERT, "conversion"],
	["rollup_customers_daily", CUSTOMERS_INSERT, "payment"],
] as const;

/** Days per statement: five bound values each, under D1's 100 per statement. */
const KEYS_PER_STATEMENT = 19;

/**
 * The statements that replace the rollup rows of the given days with a recomputation from their
 * source rows, found by id range (ids start with their creation time). Nine statements per 19
 * days, whatever the days hold.
 */
export function rebuildStatements(db: D1Database, keys: DayKey[]): D1PreparedStatement[] {
	const out: D1PreparedStatement[] = [];
	for (let i = 0; i < keys.length; i += KEYS_PER_STATEMENT) {
		const chunk = keys.slice(i, i + KEYS_PER_STATEMENT);
		const values = chunk.map(() => "(?, ?, ?, ?, ?)").join(", ");
		const withKeys = `WITH ${KEYS} AS (VALUES ${values})`;
		const bind = (kind: "payment" | "refund" | "conversion") =>
			chunk.flatMap((key) => {
				const start = dayStartMs(key.day);
				return [
					key.merchantId,
					key.livemode ? 1 : 0,
					key.day,
					lowestIdAt(kind, start),
					lowestIdAt(kind, start + DAY_MS),
				];
			});
		for (const [table, insert, kind] of TABLES) {
			out.push(
				db
					.prepare(
						`${withKeys} DELETE FROM ${table}
						 WHERE (merchant_id, livemode, day) IN (SELECT m, l, d FROM k)`,
					)
					.bind(...bind(kind)),
				db.prepare(`${withKeys} ${insert}`).bind(...bind(kind)),
			);
		}
		out.push(db.prepare(`${withKeys} ${FIRSTS_UPSERT}`).bind(...bind("payment")));
	}
	return out;
}
