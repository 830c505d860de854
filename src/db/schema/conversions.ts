import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { CONVERSION_RATE_POLICIES, CONVERSION_STATUSES } from "../../domain/conversion";
import { created, livemode } from "./columns";

/**
 * Conversions of received crypto into a merchant's settlement currency, one per payment at most
 * (the unique index makes a repeated queue message a no-op). Amounts are decimal integer text of
 * the smallest unit (minor units for fiat, base units for tokens); the rate is exact, target
 * smallest units per source smallest unit. A failed conversion keeps its reason and no amounts.
 */
export const conversions = sqliteTable(
	"conversions",
	{
		id: text("id").primaryKey(),
		merchantId: text("merchant_id").notNull(),
		...livemode,
		paymentId: text("payment_id").notNull(),
		status: text("status", { enum: CONVERSION_STATUSES }).notNull(),
		policy: text("policy", { enum: CONVERSION_RATE_POLICIES }).notNull(),
		/** Ledger currency of what was received ("sol" or a mint) and its token symbol. */
		fromCurrency: text("from_currency").notNull(),
		fromToken: text("from_token").notNull(),
		fromAmount: text("from_amount").notNull(),
		/** Ledger currency of the target ("usd", or a mint) and, for a token, its symbol. */
		toCurrency: text("to_currency").notNull(),
		toToken: text("to_token"),
		toAmount: text("to_amount"),
		rateNumerator: text("rate_numerator"),
		rateDenominator: text("rate_denominator"),
		/** Display rate: target units per one whole source unit. */
		rate: text("rate"),
		rateSource: text("rate_source"),
		ratePublishTime: integer("rate_publish_time"),
		spreadBps: integer("spread_bps").notNull(),
		fee: text("fee"),
		rounding: text("rounding"),
		failureCode: text("failure_code"),
		failureMessage: text("failure_message"),
		...created,
	},
	(t) => [
		uniqueIndex("conversions_payment_idx").on(t.paymentId),
		index("conversions_merchant_idx").on(t.merchantId, t.livemode, t.id),
	],
);
