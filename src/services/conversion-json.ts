// A conversion as the API and the dashboard show it (its own module: the routes and the
// dashboard read conversions without the machinery that makes them).
import type { ConversionRow } from "../db/conversions";

type Amount = number | string;

export interface ConversionJson {
	id: string;
	object: "conversion";
	livemode: boolean;
	payment: string;
	status: "completed" | "failed";
	policy: "locked" | "current";
	/** What was converted: the token, its ledger currency ("sol" or the mint), base units. */
	from: { token: string; currency: string; amount: string };
	/** What the merchant received: minor units (a number) for a currency, base units for a token. */
	to: { currency: string; token: string | null; amount: Amount | null };
	/** `to` units per one whole `from` token (display; the exact rate is kept with the row). */
	rate: string | null;
	rate_source: string | null;
	/** When the rates used were published (the oldest), Unix seconds; null for the quote alone. */
	rate_published: number | null;
	spread_bps: number;
	/** The spread kept by the gateway, in `to` units. */
	fee: Amount | null;
	/** What rounding gave the merchant on top, borne by the gateway: 0 or 1 unit. */
	rounding: Amount | null;
	failure_code: string | null;
	failure_message: string | null;
	created: number;
}

export function toApiConversion(row: ConversionRow): ConversionJson {
	// Fiat amounts are integer minor units on the wire; token amounts decimal strings.
	const amount = (v: string | null): Amount | null =>
		v === null ? null : row.to_token === null ? Number(v) : v;
	return {
		id: row.id,
		object: "conversion",
		livemode: row.livemode === 1,
		payment: row.payment_id,
		status: row.status,
		policy: row.policy,
		from: { token: row.from_token, currency: row.from_currency, amount: row.from_amount },
		to: { currency: row.to_currency, token: row.to_token, amount: amount(row.to_amount) },
		rate: row.rate,
		rate_source: row.rate_source,
		rate_published: row.rate_publish_time,
		spread_bps: row.spread_bps,
		fee: amount(row.fee),
		rounding: amount(row.rounding),
		failure_code: row.failure_code,
		failure_message: row.failure_message,
		created: row.created,
	};
}
