/**
 * Payouts, pure part: statuses and the transitions between them, what a payout request's amount
 * and currency mean, and the API shape. Ledger postings are in payout-ledger.ts.
 */
import { isSupportedCurrency, MAX_MINOR_UNITS } from "./money";
import type { PayoutDestinationType } from "./payout-destination";
import { tokenCurrency } from "./solana-receipts";

const I64_MAX = 9_223_372_036_854_775_807n;

export const PAYOUT_STATUSES = ["pending", "in_transit", "paid", "failed", "canceled"] as const;
export type PayoutStatus = (typeof PAYOUT_STATUSES)[number];

export const PAYOUT_METHODS = ["solana", "stripe"] as const;
export type PayoutMethod = (typeof PAYOUT_METHODS)[number];

/**
 * pending (reserved, not yet sent: cancelable) → in_transit (the send has begun) → paid | failed;
 * pending → canceled | failed (refused before anything was sent). Everything else is illegal.
 */
const TRANSITIONS: Record<PayoutStatus, readonly PayoutStatus[]> = {
	pending: ["in_transit", "canceled", "failed"],
	in_transit: ["paid", "failed"],
	paid: [],
	failed: [],
	canceled: [],
};

export function canPayoutTransition(from: PayoutStatus, to: PayoutStatus): boolean {
	return TRANSITIONS[from].includes(to);
}

export function isFinalStatus(status: PayoutStatus): boolean {
	return TRANSITIONS[status].length === 0;
}

/** The event a move into `status` emits beside `payout.updated` (none for in_transit). */
const OUTCOME_EVENTS: Partial<Record<PayoutStatus, string>> = {
	paid: "payout.paid",
	failed: "payout.failed",
	canceled: "payout.canceled",
};

export function payoutEventFor(status: PayoutStatus): string | null {
	return OUTCOME_EVENTS[status] ?? null;
}

/** A payout as stored (D1 `payouts`), in domain terms. Amounts are decimal strings. */
export interface PayoutRecord {
	id: string;
	merchant_id: string;
	livemode: boolean;
	amount: string;
	/** The ledger currency: a fiat code (`usd`), `sol`, or a token's mint. */
	currency: string;
	destination_id: string;
	method: PayoutMethod;
	status: PayoutStatus;
	automatic: boolean;
	fee: string | null;
	fee_currency: string | null;
	failure_code: string | null;
	failure_message: string | null;
	solana_signature: string | null;
	stripe_transfer_id: string | null;
	/**
	 * Lamports of the merchant's SOL reserved at creation for an on-chain payout's network fee
	 * (`{po}:fee_reserve`); the fee charged never exceeds it. Null for Stripe payouts.
	 */
	fee_reserved: string | null;
	/**
	 * The recipient had no token account when the payout was accepted, so its rent is in the
	 * reserve and the transaction may create it; otherwise it never does.
	 */
	creates_token_account: boolean;
	/** What Stripe reversed of the paid Connect transfer (fiat minor units); "0" when nothing. */
	amount_reversed: string;
	version: number;
	created: number;
	updated: number;
}

/** A token the gateway knows: what a payout's `currency` may name besides a fiat code. */
export interface PayoutToken {
	symbol: string;
	/** Null for SOL. */
	mint: string | null;
	decimals: number;
	/** The SPL program owning the mint; null for SOL. */
	program: string | null;
}

export type PayoutCurrency =
	| { kind: "fiat"; currency: string }
	| { kind: "token"; currency: string; token: PayoutToken };

export class PayoutInputError extends Error {
	constructor(
		message: string,
		readonly param: string,
	) {
		super(message);
		this.name = "PayoutInputError";
	}
}

/**
 * A request's `currency`: a token symbol (any case: `sol`, `USDC`), a token's mint, or a
 * lowercase ISO 4217 code. Tokens are paid out on chain, fiat through Stripe Connect.
 */
export function parsePayoutCurrency(
	input: unknown,
	tokens: readonly PayoutToken[],
): PayoutCurrency {
	if (typeof input !== "string" || input.length === 0 || input.length > 64) {
		throw new PayoutInputError(
			"currency must be a currency code, token symbol or mint",
			"currency",
		);
	}
	const token = tokens.find(
		(t) => t.symbol.toLowerCase() === input.toLowerCase() || (t.mint !== null && t.mint === input),
	);
	if (token) return { kind: "token", currency: tokenCurrency(token), token };
	if (isSupportedCurrency(input)) return { kind: "fiat", currency: input };
	const shown = input.length > 32 ? `${input.slice(0, 32)}…` : input;
	throw new PayoutInputError(
		`Unknown currency '${shown}': use a lowercase currency code (usd) or one of the tokens ${tokens.map((t) => t.symbol.toLowerCase()).join(", ")}.`,
		"currency",
	);
}

const UNSIGNED_INTEGER = /^[1-9][0-9]*$/;

/**
 * A request's `amount`: token base units or fiat minor units, as a decimal string of an integer
 * or a JSON integer (exact only up to 2^53, so a larger number is refused rather than rounded).
 * Positive, within a u64 for tokens and MAX_MINOR_UNITS for fiat.
 */
export function parsePayoutAmount(input: unknown, currency: PayoutCurrency): bigint {
	const unit = currency.kind === "token" ? "base units" : "minor units";
	let value: bigint;
	if (typeof input === "number") {
		if (!Number.isSafeInteger(input)) {
			throw new PayoutInputError(
				`amount must be an integer number of ${unit}; send large amounts as a decimal string`,
				"amount",
			);
		}
		value = BigInt(input);
	} else if (typeof input === "string") {
		if (input.length > 40 || !/^-?[0-9]+$/.test(input)) {
			throw new PayoutInputError(
				`amount must be a whole number of ${unit}, as a string of digits`,
				"amount",
			);
		}
		if (input !== "0" && !input.startsWith("-") && !UNSIGNED_INTEGER.test(input)) {
			throw new PayoutInputError("amount must not have leading zeros", "amount");
		}
		value = BigInt(input);
	} else {
		throw new PayoutInputError(`amount is required, in ${unit}`, "amount");
	}
	if (value <= 0n) throw new PayoutInputError("amount must be greater than zero", "amount");
	// Ledger postings are signed 64-bit: no token amount past that can ever be available.
	const max = currency.kind === "token" ? I64_MAX : BigInt(MAX_MINOR_UNITS);
	if (value > max) throw new PayoutInputError(`amount must be at most ${max}`, "amount");
	return value;
}

/**
 * The destination type a payout in this ledger currency needs: fiat leaves through Stripe
 * Connect; tokens (`sol` or a mint) go to a wallet on chain.
 */
export function destinationTypeFor(currency: string): PayoutDestinationType {
	return isSupportedCurrency(currency) ? "stripe_account" : "solana_wallet";
}

/** The payout as the API returns it: token amounts as strings, fiat as integers. */
export interface PayoutJson {
	id: string;
	object: "payout";
	livemode: boolean;
	amount: number | string;
	currency: string;
	destination: string;
	method: PayoutMethod;
	status: PayoutStatus;
	automatic: boolean;
	fee: number | string | null;
	fee_currency: string | null;
	failure_code: string | null;
	failure_message: string | null;
	solana_signature: string | null;
	stripe_transfer: string | null;
	/** What Stripe reversed of the paid transfer, back in the merchant's available. */
	amount_reversed: number | string;
	created: number;
	updated: number;
}

function wireAmount(amount: string, method: PayoutMethod): number | string {
	return method === "solana" ? amount : Number(amount);
}

export function toApiPayout(p: PayoutRecord): PayoutJson {
	return {
		id: p.id,
		object: "payout",
		livemode: p.livemode,
		amount: wireAmount(p.amount, p.method),
		currency: p.currency,
		destination: p.destination_id,
		method: p.method,
		status: p.status,
		automatic: p.automatic,
		// The network fee is lamports (a string like every token amount); Stripe charges none.
		fee: p.fee === null ? null : p.fee_currency === "sol" ? p.fee : Number(p.fee),
		fee_currency: p.fee_currency,
		failure_code: p.failure_code,
		failure_message: p.failure_message,
		solana_signature: p.solana_signature,
		stripe_transfer: p.stripe_transfer_id,
		amount_reversed: wireAmount(p.amount_reversed ?? "0", p.method),
		created: p.created,
		updated: p.updated,
	};
}

/**
 * Lamports a token payout's transaction can cost the settlement wallet at most: the signature
 * fee, and the rent of the recipient's token account when it has to be created. Charged to the
 * merchant's SOL balance, like a crypto refund's network fee.
 */
export function payoutFeeEstimate(input: {
	signatureFee: bigint;
	tokenAccountRent: bigint;
	tokenAccountExists: boolean;
}): bigint {
	return input.signatureFee + (input.tokenAccountExists ? 0n : input.tokenAccountRent);
}

/** Describes an amount in its currency for messages: `1500 usd`, `2500000 base units of USDC`. */
export function describeAmount(amount: bigint, currency: PayoutCurrency): string {
	return currency.kind === "token"
		? `${amount} base units of ${currency.token.symbol}`
		: `${amount} ${currency.currency} minor units`;
}
