import type { PayoutSchedule } from "./payout-schedule";

/** A merchant's payment policy; absent fields fall back to the gateway's configuration. */
export interface MerchantSettings {
	/** Tokens the merchant accepts, by symbol or mint ("SOL", "USDC", …). */
	accepted_tokens?: string[];
	/** Crypto payments above this many minor units of their currency wait for `finalized`. */
	solana_finalized_above?: number;
	/**
	 * What received crypto is converted into: a lowercase ISO 4217 code ("usd") or a token symbol
	 * ("USDC"). Absent: kept as received, no conversion.
	 */
	settlement_currency?: string;
	/** locked: the quote's rate at payment time (default); current: the rate at conversion time. */
	conversion_rate_policy?: "locked" | "current";
	/** payer_currency: cross-border cards are charged in the payer's currency (default: price's). */
	card_presentment?: "price_currency" | "payer_currency";
	/**
	 * Funds by the method that did not pay a payment's price (a card charged after crypto paid,
	 * crypto sent after the card paid): refunded to their payer at once (default), or held.
	 */
	extra_funds?: "refund" | "hold";
	/** When the available balance is paid out on its own (absent: manual, only on request). */
	payout_schedule?: PayoutSchedule;
	/**
	 * The least an automatic payout sends, per ledger currency (a fiat code, `sol` or a mint):
	 * decimal strings of minor or base units. A smaller balance waits for a later day.
	 */
	payout_minimums?: Record<string, string>;
}
