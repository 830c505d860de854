/**
 * Converting a succeeded crypto payment into the merchant's settlement currency: the token
 * amount the merchant was credited (the price part; the gateway's fee stays the gateway's) is
 * sold through FX clearing at the policy's rate, less the spread. One conversion per payment:
 * the row, its ledger transfer and its event land in one D1 batch keyed by the payment.
 */

import { getConfig } from "../config";
import {
	type ConversionRow,
	conversionOfPaymentAndSettings,
	insertConversion,
} from "../db/conversions";
import type { EventRow } from "../db/events";
import { transferStatements } from "../db/ledger";
import {
	type ConversionAmounts,
	conversionTransfer,
	convertAmount,
	formatRational,
	majorRate,
	multiply,
	type Rational,
	rational,
	unitRate,
} from "../domain/fx";
import { newId } from "../domain/ids";
import { accounts } from "../domain/ledger";
import { currencyExponent, isSupportedCurrency } from "../domain/money";
import type { PaymentRecord } from "../domain/payment";
import { settlementTransfer, tokenCurrency } from "../domain/solana-receipts";
import type { Env } from "../env";
import { RateError } from "../processors/prices/rates";
import { type ConversionJson, toApiConversion } from "./conversion-json";
import { publishEvents } from "./events";
import { paymentStub } from "./payments";
import { type Asset, exchangeRate } from "./rates";
import { tokenCatalog } from "./tokens";

export function conversionSpreadBps(env: Env): number {
	return getConfig(env).CONVERSION_SPREAD_BPS;
}

/** A conversion that cannot happen however often it is retried. */
export class ConversionRefused extends Error {
	constructor(
		readonly code: string,
		message: string,
	) {
		super(message);
		this.name = "ConversionRefused";
	}
}

/** What settlement currency means for one payment: the target and how many digits it has. */
interface Target {
	asset: Asset;
	/** Ledger currency: "usd", or a token's mint ("sol" for SOL). */
	currency: string;
	token: string | null;
	digits: number;
}

interface Plan {
	payment: PaymentRecord & { solana: NonNullable<PaymentRecord["solana"]> };
	policy: "locked" | "current";
	from: { token: string; currency: string; decimals: number; amount: bigint };
	/** The merchant's setting as written. */
	settlement: string;
	/** Null when the gateway cannot deliver the settlement currency. */
	target: Target | null;
}

export type ConvertOutcome =
	| { result: "converted"; conversion: ConversionJson }
	| { result: "skipped"; reason: string };

function resolveTarget(env: Env, settlement: string): Target | null {
	if (isSupportedCurrency(settlement)) {
		return {
			asset: { kind: "fiat", currency: settlement },
			currency: settlement,
			token: null,
			digits: currencyExponent(settlement),
		};
	}
	const token = tokenCatalog(env).find((t) => t.symbol === settlement);
	if (!token) return null;
	return {
		asset: { kind: "token", symbol: token.symbol, decimals: token.decimals },
		currency: token.mint ?? "sol",
		token: token.symbol,
		digits: token.decimals,
	};
}

/**
 * What converting this payment involves, or why nothing is to be done (no settlement currency,
 * already in it, already converted). Throws ConversionRefused for a payment that does not exist.
 */
async function plan(env: Env, paymentId: string): Promise<Plan | { skip: string }> {
	const payment = await paymentStub(env, paymentId).get();
	if (!payment) throw new ConversionRefused("payment_missing", `No such payment: ${paymentId}`);
	const solana = payment.solana;
	if (payment.status !== "succeeded" || !solana) {
		return { skip: `payment is ${payment.status}${solana ? "" : " and not in crypto"}` };
	}
	const { done, settings } = await conversionOfPaymentAndSettings(
		env.DB,
		paymentId,
		payment.merchant_id,
	);
	if (done) return { skip: `already converted as ${done}` };
	const settlement = settings.settlement_currency;
	if (!settlement) return { skip: "the merchant keeps what it receives" };
	const fromCurrency = tokenCurrency(solana);
	const target = resolveTarget(env, settlement);
	if (target?.currency === fromCurrency) return { skip: `received in ${settlement} already` };
	// Exactly what the merchant was credited on success: the same transfer the payment posted.
	const settled = settlementTransfer(payment, solana, BigInt(solana.amount_received), 0);
	const merchantAccount = accounts.merchantAvailable(
		payment.merchant_id,
		payment.livemode,
		fromCurrency,
	);
	const settledToMerchant =
		settled.postings.find((p) => p.account === merchantAccount)?.amount ?? 0n;
	// Tokens the price already gave back as tokens (refunded before the merchant chose to convert)
	// left the merchant's token balance: only what remains there is converted.
	const refundedInTokens = (await paymentStub(env, paymentId).listRefunds())
		.filter(
			(r) =>
				r.funds === "received" &&
				r.processor === "solana" &&
				!r.conversion &&
				(r.status === "pending" || r.status === "succeeded"),
		)
		.reduce((sum, r) => sum + BigInt(r.solana?.amount ?? "0"), 0n);
	const credited = settledToMerchant - refundedInTokens;
	if (credited <= 0n) return { skip: "nothing was credited to the merchant, or it went back" };
	return {
		payment: { ...payment, solana },
		policy: settings.conversion_rate_policy ?? "locked",
		from: {
			token: solana.token,
			currency: fromCurrency,
			decimals: solana.decimals,
			amount: credited,
		},
		settlement,
		target,
	};
}

interface PricedConversion {
	/** Target smallest units per source base unit. */
	rate: Rational;
	source: string;
	publishTime: number | null;
}

/**
 * The policy's rate. locked: what the payer paid for the price, the price ÷ the quoted token
 * amount (so a payment paid in full converts to exactly its price), then the current rate from
 * the price currency to the target when they differ. current: the token's rate now.
 */
async function priceConversion(
	env: Env,
	p: Plan,
	target: Target,
	now: number,
): Promise<PricedConversion> {
	const { payment } = p;
	if (p.policy === "locked") {
		const quoted = rational(BigInt(payment.amount), BigInt(payment.solana.quote.amount_before_fee));
		if (payment.currency === target.currency) {
			return { rate: quoted, source: "quote", publishTime: null };
		}
		const leg = await exchangeRate(
			env,
			{ kind: "fiat", currency: payment.currency },
			target.asset,
			now,
		);
		return {
			rate: multiply(quoted, unitRate(leg.rate, currencyExponent(payment.currency), target.digits)),
			source: `quote+${leg.source}`,
			publishTime: leg.publishTime,
		};
	}
	const fromAsset: Asset = { kind: "token", symbol: p.from.token, decimals: p.from.decimals };
	const current = await exchangeRate(env, fromAsset, target.asset, now);
	return {
		rate: unitRate(current.rate, p.from.decimals, target.digits),
		source: current.source,
		publishTime: current.publishTime,
	};
}

function baseRow(p: Plan, id: string, spreadBps: number, created: number): ConversionRow {
	return {
		id,
		merchant_id: p.payment.merchant_id,
		livemode: p.payment.livemode ? 1 : 0,
		payment_id: p.payment.id,
		status: "completed",
		policy: p.policy,
		from_currency: p.from.currency,
		from_token: p.from.token,
		from_amount: p.from.amount.toString(),
		to_currency: p.target?.currency ?? p.settlement,
		to_token: p.target?.token ?? null,
		to_amount: null,
		rate_numerator: null,
		rate_denominator: null,
		rate: null,
		rate_source: null,
		rate_publish_time: null,
		spread_bps: spreadBps,
		fee: null,
		rounding: null,
		failure_code: null,
		failure_message: null,
		created,
	};
}

function eventOf(row: ConversionRow, conversion: ConversionJson, now: number): EventRow {
	return {
		id: newId("event"),
		merchant_id: row.merchant_id,
		livemode: row.livemode === 1,
		type: `conversion.${row.status}`,
		object_id: row.id,
		object_version: null,
		data: JSON.stringify(conversion),
		created: now,
	};
}

/** Writes the row, its transfer (if any) and its event in one batch; publishes the event. */
async function record(
	env: Env,
	row: ConversionRow,
	transfer: Parameters<typeof transferStatements>[1] | null,
	now: number,
): Promise<ConvertOutcome> {
	const conversion = toApiConversion(row);
	const event = eventOf(row, conversion, now);
	const inserted = await insertConversion(
		env.DB,
		row,
		transfer ? await transferStatements(env.DB, transfer) : [],
		event,
	);
	if (!inserted) {
		return { result: "skipped", reason: "converted concurrently by another delivery" };
	}
	// A failed publish leaves the event for the minute cron; the conversion stands either way.
	await publishEvents(env, [event]);
	return { result: "converted", conversion };
}

/**
 * Converts a succeeded crypto payment if its merchant settles in another currency. Repeating it
 * changes nothing. Throws RateError (retry later), ConversionRefused (never possible) or an
 * infrastructure error (retry later).
 */
export async function convertPayment(
	env: Env,
	paymentId: string,
	now: number = Math.floor(Date.now() / 1000),
): Promise<ConvertOutcome> {
	const p = await plan(env, paymentId);
	if ("skip" in p) return { result: "skipped", reason: p.skip };
	const target = p.target;
	if (!target) {
		throw new ConversionRefused(
			"settlement_currency_unsupported",
			`The settlement currency '${p.settlement}' is neither a supported currency nor a known token.`,
		);
	}
	const priced = await priceConversion(env, p, target, now);
	const spreadBps = conversionSpreadBps(env);
	const amounts: ConversionAmounts = convertAmount(p.from.amount, priced.rate, spreadBps);
	const text = (v: bigint) => v.toString();
	const row: ConversionRow = {
		...baseRow(p, newId("conversion"), spreadBps, now),
		to_amount: text(amounts.amount),
		rate_numerator: text(priced.rate.numerator),
		rate_denominator: text(priced.rate.denominator),
		rate: formatRational(majorRate(priced.rate, p.from.decimals, target.digits), 12),
		rate_source: priced.source,
		rate_publish_time: priced.publishTime,
		fee: text(amounts.fee),
		rounding: text(amounts.rounding),
	};
	const transfer = conversionTransfer({
		paymentId: p.payment.id,
		merchantId: p.payment.merchant_id,
		livemode: p.payment.livemode,
		from: { currency: p.from.currency, amount: p.from.amount },
		to: { currency: target.currency },
		amounts,
		created: now,
	});
	return record(env, row, transfer, now);
}

/**
 * Records that a payment's conversion was given up (`status: "failed"`, event
 * `conversion.failed`); the merchant keeps what was received. Nothing happens when there was
 * nothing to convert or a conversion already exists.
 */
export async function failConversion(
	env: Env,
	paymentId: string,
	failure: { code: string; message: string },
	now: number = Math.floor(Date.now() / 1000),
): Promise<ConvertOutcome> {
	const p = await plan(env, paymentId);
	if ("skip" in p) return { result: "skipped", reason: p.skip };
	const row: ConversionRow = {
		...baseRow(p, newId("conversion"), conversionSpreadBps(env), now),
		status: "failed",
		failure_code: failure.code,
		failure_message: failure.message.slice(0, 500),
	};
	return record(env, row, null, now);
}

/** Why a conversion attempt failed, and whether trying again can help. */
export function classifyFailure(err: unknown): {
	code: string;
	message: string;
	retryable: boolean;
} {
	if (err instanceof ConversionRefused) {
		return { code: err.code, message: err.message, retryable: false };
	}
	if (err instanceof RateError) {
		const code =
			err.reason === "stale"
				? "rate_stale"
				: err.reason === "unsupported"
					? "rate_unsupported"
					: "rate_unavailable";
		return { code, message: err.message, retryable: err.reason !== "unsupported" };
	}
	return {
		code: "internal_error",
		message: err instanceof Error ? err.message : String(err),
		retryable: true,
	};
}
