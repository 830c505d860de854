import type { CardPaymentDetails } from "./card-details";
import type { PaymentObjectJson } from "./payment";
import type { RefundJson } from "./refund";
import { type Cell, formatUnits, isoTime } from "./reports";

/**
 * Rows of the transactions report, pure part: one row per payment, refund or conversion, and for
 * a payout one row for the money it took from the balance, one for its network fee when it had
 * one, and one for the money given back when it failed or was canceled. Amounts
 * in integers of the smallest unit with a decimal twin. `amount`, `fee` and `net` are in
 * `currency` (a refund's are negative); the token columns are what moved on chain, in base
 * units of `token`. A crypto payment's gateway fee is paid by the payer on top of the price, so
 * it shows in `token_fee` and the price-currency `fee` is 0.
 */
export interface TransactionRow {
	type: "payment" | "refund" | "conversion" | "payout" | "payout_fee" | "payout_return";
	id: string;
	created: number;
	status: string;
	method: string;
	amount: bigint;
	currency: string;
	fee: bigint;
	net: bigint;
	token: string | null;
	token_amount: bigint | null;
	token_fee: bigint | null;
	token_decimals: number | null;
	/** The Solana signature, the Stripe PaymentIntent or Stripe refund. */
	processor_reference: string | null;
	/** The payment a refund or conversion belongs to (for a payment, itself; none for a payout). */
	payment: string | null;
	customer: string | null;
	description: string | null;
	metadata: Record<string, string>;
}

export const TRANSACTION_COLUMNS = [
	"type",
	"id",
	"created",
	"status",
	"method",
	"amount",
	"amount_decimal",
	"currency",
	"fee",
	"fee_decimal",
	"net",
	"net_decimal",
	"token",
	"token_amount",
	"token_amount_decimal",
	"token_fee",
	"token_fee_decimal",
	"processor_reference",
	"payment",
	"customer",
	"description",
	"metadata",
] as const;

/** Digits of a ledger currency (ISO exponent, 9 for SOL, a mint's decimals); null if unknown. */
export type DigitsOf = (currency: string) => number | null;

function decimal(amount: bigint | null, digits: number | null): string | null {
	return amount === null || digits === null ? null : formatUnits(amount, digits);
}

export function paymentRow(p: PaymentObjectJson): TransactionRow {
	const card: CardPaymentDetails | null = p.card;
	const paidByCard = (card?.amount_received ?? 0) > 0;
	const paidOnChain = !paidByCard && p.solana?.signature;
	const method = paidByCard
		? "card"
		: paidOnChain
			? "solana"
			: p.payment_method_types.length === 1
				? (p.payment_method_types[0] as string)
				: "";
	const fee = paidByCard ? BigInt(card?.fee ?? 0) : 0n;
	const solana = method === "solana" ? p.solana : null;
	const received = BigInt(solana?.amount_received ?? "0");
	return {
		type: "payment",
		id: p.id,
		created: p.created,
		status: p.status,
		method,
		amount: BigInt(p.amount),
		currency: p.currency,
		fee,
		net: BigInt(p.amount_received) - fee,
		token: solana?.token ?? null,
		token_amount: solana ? received : null,
		token_fee: solana && received > 0n ? BigInt(solana.quote.fee) : null,
		token_decimals: solana?.decimals ?? null,
		processor_reference: paidByCard
			? (card?.payment_intent ?? null)
			: (p.solana?.signature ?? card?.payment_intent ?? null),
		payment: p.id,
		customer: p.customer,
		description: p.description,
		metadata: p.metadata,
	};
}

export function refundRow(r: RefundJson): TransactionRow {
	const amount = -BigInt(r.amount ?? 0);
	return {
		type: "refund",
		id: r.id,
		created: r.created,
		status: r.status,
		method: r.processor === "stripe" ? "card" : "solana",
		amount,
		currency: r.currency,
		fee: 0n,
		net: amount,
		token: r.solana?.token ?? null,
		token_amount: r.solana ? -BigInt(r.solana.amount) : null,
		token_fee: r.solana?.network_fee ? BigInt(r.solana.network_fee) : null,
		token_decimals: r.solana?.decimals ?? null,
		processor_reference: r.solana?.signature ?? r.card?.stripe_refund ?? null,
		payment: r.payment,
		customer: null,
		description: null,
		metadata: r.metadata,
	};
}

/** A conversion as stored: text amounts of the smallest unit. */
export interface ConversionFields {
	id: string;
	payment_id: string;
	status: string;
	from_token: string;
	from_currency: string;
	from_amount: string;
	to_currency: string;
	to_amount: string | null;
	fee: string | null;
	created: number;
}

export function conversionRow(c: ConversionFields, digitsOf: DigitsOf): TransactionRow {
	const received = BigInt(c.to_amount ?? "0");
	const fee = BigInt(c.fee ?? "0");
	return {
		type: "conversion",
		id: c.id,
		created: c.created,
		status: c.status,
		method: "conversion",
		amount: received + fee,
		currency: c.to_currency,
		fee,
		net: received,
		token: c.from_token,
		token_amount: -BigInt(c.from_amount),
		token_fee: null,
		token_decimals: digitsOf(c.from_currency),
		processor_reference: null,
		payment: c.payment_id,
		customer: null,
		description: null,
		metadata: {},
	};
}

/** A payout as stored: text amounts of the smallest unit. */
export interface PayoutFields {
	id: string;
	status: string;
	method: string;
	amount: string;
	currency: string;
	fee: string | null;
	fee_currency: string | null;
	automatic: number | boolean;
	solana_signature: string | null;
	stripe_transfer_id: string | null;
	created: number;
	updated: number;
}

/**
 * A payout's rows: what it took from the balance when created, its network fee (charged apart,
 * in `fee_currency`), and, once it failed or was canceled, the amount given back.
 */
export function payoutRows(p: PayoutFields): TransactionRow[] {
	const amount = BigInt(p.amount);
	const base = {
		id: p.id,
		status: p.status,
		method: p.method,
		fee: 0n,
		token: null,
		token_amount: null,
		token_fee: null,
		token_decimals: null,
		processor_reference: p.solana_signature ?? p.stripe_transfer_id,
		payment: null,
		customer: null,
		description: p.automatic ? "automatic payout" : "payout",
		metadata: {},
	};
	const rows: TransactionRow[] = [
		{
			...base,
			type: "payout",
			created: p.created,
			amount: -amount,
			currency: p.currency,
			net: -amount,
		},
	];
	const fee = BigInt(p.fee ?? "0");
	if (fee > 0n && p.fee_currency)
		rows.push({
			...base,
			type: "payout_fee",
			created: p.updated,
			amount: -fee,
			currency: p.fee_currency,
			net: -fee,
		});
	if (p.status === "failed" || p.status === "canceled")
		rows.push({
			...base,
			type: "payout_return",
			created: p.updated,
			amount,
			currency: p.currency,
			net: amount,
		});
	return rows;
}

/**
 * The CSV cells of a row, in TRANSACTION_COLUMNS order. A refund's token fee is in lamports
 * (SOL's 9 digits), whatever token went back.
 */
export function transactionCells(row: TransactionRow, digitsOf: DigitsOf): Cell[] {
	const digits = digitsOf(row.currency);
	const feeDigits = row.type === "refund" ? 9 : row.token_decimals;
	return [
		row.type,
		row.id,
		isoTime(row.created),
		row.status,
		row.method,
		row.amount,
		decimal(row.amount, digits),
		row.currency,
		row.fee,
		decimal(row.fee, digits),
		row.net,
		decimal(row.net, digits),
		row.token,
		row.token_amount,
		decimal(row.token_amount, row.token_decimals),
		row.token_fee,
		decimal(row.token_fee, feeDigits),
		row.processor_reference,
		row.payment,
		row.customer,
		row.description,
		Object.keys(row.metadata).length > 0 ? JSON.stringify(row.metadata) : null,
	];
}

/** The JSON form of a row: the same columns, integers as numbers when exact, else strings. */
export function transactionJson(row: TransactionRow, digitsOf: DigitsOf): Record<string, unknown> {
	const cells = transactionCells(row, digitsOf);
	const out: Record<string, unknown> = {};
	TRANSACTION_COLUMNS.forEach((column, i) => {
		const value = cells[i];
		out[column] =
			typeof value === "bigint"
				? column.startsWith("token")
					? value.toString()
					: Number(value)
				: (value ?? null);
	});
	out.metadata = row.metadata;
	return out;
}
