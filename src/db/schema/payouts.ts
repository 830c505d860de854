import {
	index,
	integer,
	primaryKey,
	sqliteTable,
	text,
	uniqueIndex,
} from "drizzle-orm/sqlite-core";
import { PAYOUT_METHODS, PAYOUT_STATUSES } from "../../domain/payout";
import {
	PAYOUT_DESTINATION_STATUSES,
	PAYOUT_DESTINATION_TYPES,
} from "../../domain/payout-destination";
import { created, livemode } from "./columns";

/**
 * Where a merchant's payouts go: a Solana wallet the merchant proved it controls (a signature of
 * a gateway-issued message), or a Stripe Connect connected account onboarded through Stripe.
 * Rows are never deleted: a removed destination keeps its row (payouts name it) with `removed`.
 */
export const payoutDestinations = sqliteTable(
	"payout_destinations",
	{
		id: text("id").primaryKey(),
		merchantId: text("merchant_id").notNull(),
		...livemode,
		/** solana_wallet | stripe_account */
		type: text("type", { enum: PAYOUT_DESTINATION_TYPES }).notNull(),
		/** The wallet's address (solana_wallet). */
		address: text("address"),
		/** The connected account's id (stripe_account). */
		stripeAccountId: text("stripe_account_id"),
		/** onboarding (Connect not finished) | active | removed */
		status: text("status", { enum: PAYOUT_DESTINATION_STATUSES }).notNull(),
		/** The destination payouts of its kind go to when none is named. */
		isDefault: integer("is_default", { mode: "boolean" }).notNull().default(false),
		/** Unix seconds before which no payout is sent to it (live mode's cooling-off period). */
		usableAfter: integer("usable_after").notNull(),
		...created,
		updated: integer("updated").notNull(),
		removed: integer("removed"),
	},
	(t) => [
		index("payout_destinations_merchant_idx").on(t.merchantId, t.livemode, t.id),
		index("payout_destinations_account_idx").on(t.stripeAccountId),
	],
);

/** Messages issued for a wallet to sign, each usable once, to prove it is the merchant's. */
export const payoutDestinationChallenges = sqliteTable(
	"payout_destination_challenges",
	{
		nonce: text("nonce").primaryKey(),
		merchantId: text("merchant_id").notNull(),
		...livemode,
		address: text("address").notNull(),
		/** The exact message issued (its UTF-8 bytes are what the wallet signs). */
		message: text("message").notNull(),
		expires: integer("expires").notNull(),
		/** Unix seconds when a proof consumed it; a nonce is accepted once. */
		used: integer("used"),
		...created,
	},
	(t) => [
		// A merchant's open challenges are counted (a cap), and expired ones swept: both by index.
		index("payout_destination_challenges_merchant_idx").on(t.merchantId, t.expires),
		index("payout_destination_challenges_expires_idx").on(t.expires),
	],
);

/**
 * Money leaving a merchant's `available` balance: on chain to a wallet destination or through a
 * Stripe Connect transfer. Amounts are decimal strings of minor units or token base units.
 */
export const payouts = sqliteTable(
	"payouts",
	{
		id: text("id").primaryKey(),
		merchantId: text("merchant_id").notNull(),
		...livemode,
		amount: text("amount").notNull(),
		/** A fiat code (usd) or a ledger token currency (sol, or the mint). */
		currency: text("currency").notNull(),
		destinationId: text("destination_id").notNull(),
		/** solana | stripe */
		method: text("method", { enum: PAYOUT_METHODS }).notNull(),
		/** pending | in_transit | paid | failed | canceled */
		status: text("status", { enum: PAYOUT_STATUSES }).notNull(),
		automatic: integer("automatic", { mode: "boolean" }).notNull(),
		/** Charged to the merchant on top of `amount` (network fee, token account rent), same currency basis as fee_currency. */
		fee: text("fee"),
		feeCurrency: text("fee_currency"),
		failureCode: text("failure_code"),
		failureMessage: text("failure_message"),
		solanaSignature: text("solana_signature"),
		stripeTransferId: text("stripe_transfer_id"),
		/**
		 * Lamports of the merchant's SOL set aside for an on-chain payout's network fee at creation
		 * (the fee estimate, with token-account rent when the recipient had none); null for Stripe.
		 */
		feeReserved: text("fee_reserved"),
		/** The payout was accepted with the recipient's token-account rent in its fee reserve. */
		createsTokenAccount: integer("creates_token_account", { mode: "boolean" })
			.notNull()
			.default(false),
		/** What Stripe reversed of a paid Connect transfer, back in the merchant's available. */
		amountReversed: text("amount_reversed").notNull().default("0"),
		version: integer("version").notNull().default(1),
		...created,
		updated: integer("updated").notNull(),
	},
	(t) => [
		index("payouts_merchant_idx").on(t.merchantId, t.livemode, t.id),
		index("payouts_status_idx").on(t.status, t.id),
		index("payouts_destination_idx").on(t.destinationId, t.id),
	],
);

/**
 * The balance transfers an automatic payout includes: each ledger transfer that moved a
 * merchant's available balance belongs to at most one payout, so every payment reconciles to the
 * payout that paid it.
 */
export const payoutItems = sqliteTable(
	"payout_items",
	{
		payoutId: text("payout_id").notNull(),
		transferId: text("transfer_id").notNull(),
		/** The merchant's available account the transfer moved. */
		account: text("account").notNull(),
		/** Its net amount on that account, decimal string, signed. */
		amount: text("amount").notNull(),
		currency: text("currency").notNull(),
	},
	(t) => [
		primaryKey({ columns: [t.payoutId, t.transferId, t.account] }),
		uniqueIndex("payout_items_transfer_idx").on(t.transferId, t.account),
	],
);
