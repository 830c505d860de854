import { integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { livemode } from "./columns";

/**
 * Daily rollups that the analytics API reads instead of the source tables, so a summary costs
 * the window, not the history. Every table is keyed by (merchant, mode, UTC day, …) and a day's
 * rows are replaced whole by the rollup job (src/services/rollups.ts): recomputing a day from its
 * source rows always gives the same rows. A day is the UTC day of the object's id, which carries
 * its creation time: payments by the day they were created, refunds and conversions by theirs.
 */
const dayKey = {
	merchantId: text("merchant_id").notNull(),
	...livemode,
	/** YYYY-MM-DD, UTC. */
	day: text("day").notNull(),
	/** "card" or "solana": how the payer paid (or was paying). */
	method: text("method").notNull(),
	/** Lowercase ISO currency of the amounts (price currency; a conversion's settlement currency). */
	currency: text("currency").notNull(),
	/** The token symbol ("SOL", "USDC") for crypto, "" for cards. */
	token: text("token").notNull(),
	status: text("status").notNull(),
};

/** Payments by creation day and their status now. Amounts in minor units of `currency`. */
export const rollupPaymentsDaily = sqliteTable(
	"rollup_payments_daily",
	{
		...dayKey,
		payments: integer("payments").notNull(),
		amount: integer("amount").notNull(),
		amountReceived: integer("amount_received").notNull(),
		/** Processor fees the merchant bears (Stripe's card fee). */
		fees: integer("fees").notNull(),
		/** What succeeded card payments leave the merchant: received less fees. */
		net: integer("net").notNull(),
		/** Payments with any amount refunded (on the payment's own day, for the refund rate). */
		refundedPayments: integer("refunded_payments").notNull(),
		/** Counts per confirmation-time bucket (CONFIRMATION_BUCKETS), JSON array. */
		confirmHist: text("confirm_hist").notNull(),
	},
	(t) => [
		primaryKey({
			columns: [t.merchantId, t.livemode, t.day, t.method, t.currency, t.token, t.status],
		}),
	],
);

/** Refunds of received funds by the refund's creation day and its status now. */
export const rollupRefundsDaily = sqliteTable(
	"rollup_refunds_daily",
	{
		...dayKey,
		refunds: integer("refunds").notNull(),
		amount: integer("amount").notNull(),
	},
	(t) => [
		primaryKey({
			columns: [t.merchantId, t.livemode, t.day, t.method, t.currency, t.token, t.status],
		}),
	],
);

/**
 * Conversions by their day; `currency` is the settlement currency (a token target's symbol in
 * lowercase), `token` the token sold. Spread and settled amount in smallest units of `currency`.
 */
export const rollupConversionsDaily = sqliteTable(
	"rollup_conversions_daily",
	{
		...dayKey,
		conversions: integer("conversions").notNull(),
		fromAmount: integer("from_amount").notNull(),
		spread: integer("spread").notNull(),
		settled: integer("settled").notNull(),
	},
	(t) => [
		primaryKey({
			columns: [t.merchantId, t.livemode, t.day, t.method, t.currency, t.token, t.status],
		}),
	],
);

/** Customers with a succeeded payment on a day, per method, currency and token. */
export const rollupCustomersDaily = sqliteTable(
	"rollup_customers_daily",
	{
		merchantId: text("merchant_id").notNull(),
		...livemode,
		day: text("day").notNull(),
		customerId: text("customer_id").notNull(),
		method: text("method").notNull(),
		currency: text("currency").notNull(),
		token: text("token").notNull(),
	},
	(t) => [
		primaryKey({
			columns: [t.merchantId, t.livemode, t.day, t.customerId, t.method, t.currency, t.token],
		}),
	],
);

/** Each customer's first day with a succeeded payment: new versus returning customers. */
export const rollupCustomerFirsts = sqliteTable(
	"rollup_customer_firsts",
	{
		merchantId: text("merchant_id").notNull(),
		...livemode,
		customerId: text("customer_id").notNull(),
		firstDay: text("first_day").notNull(),
	},
	(t) => [primaryKey({ columns: [t.merchantId, t.livemode, t.customerId] })],
);

/** How far the rollup job has read the event log: the last events rowid whose day it rebuilt. */
export const rollupWatermarks = sqliteTable("rollup_watermarks", {
	name: text("name").primaryKey(),
	seq: integer("seq").notNull(),
	updated: integer("updated").notNull(),
});
