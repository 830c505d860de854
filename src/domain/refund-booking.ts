import { cardIsHeld, cardTransfers } from "./card";
import { accounts, type Transfer } from "./ledger";
import type { PaymentRecord } from "./payment";
import type { RefundRecord } from "./refund";
import { convertedRefundTransfer } from "./refund-conversion";

/**
 * Booking refunds, pure part: where a finished refund's money leaves from, its ledger transfers
 * (the fee policy of src/domain/refund.ts in postings), and the payment's and refund's next
 * versions, which the payment's Durable Object commits together.
 */

/** Where a refund's money leaves from, when it succeeds. */
export function refundSourceAccount(
	p: PaymentRecord,
	r: RefundRecord,
	cardFundsAvailable: boolean,
): { account: string; currency: string } {
	// A converted payment's price goes back from the settlement currency it was converted into.
	if (r.conversion) {
		const currency = r.conversion.settlement_currency;
		return { account: accounts.merchantAvailable(p.merchant_id, p.livemode, currency), currency };
	}
	if (r.processor === "stripe") {
		const account =
			r.funds === "held"
				? accounts.paymentHolding(p.id, p.livemode, p.currency)
				: cardFundsAvailable
					? accounts.merchantAvailable(p.merchant_id, p.livemode, p.currency)
					: accounts.merchantPending(p.merchant_id, p.livemode, p.currency);
		return { account, currency: p.currency };
	}
	const currency = r.solana?.mint ?? "sol";
	const account =
		r.funds === "held"
			? accounts.paymentHolding(p.id, p.livemode, currency)
			: accounts.merchantAvailable(p.merchant_id, p.livemode, currency);
	return { account, currency };
}

/**
 * A succeeded refund in the ledger: the amount from its source back to the processor's
 * settlement account (the money leaves through it), and for crypto the network fee from the
 * merchant's SOL balance to the settlement wallet that paid it. Ids derive from the refund id.
 * `p` is the payment as it was before the refund.
 */
export function refundTransfers(
	p: PaymentRecord,
	r: RefundRecord,
	cardFundsAvailable: boolean,
	now: number,
): Transfer[] {
	const out: Transfer[] = [];
	const source = refundSourceAccount(p, r, cardFundsAvailable);
	const amount = r.solana ? BigInt(r.solana.amount) : BigInt(r.amount ?? 0);
	if (r.status === "succeeded" && r.conversion) {
		// FX clearing buys the tokens back; the merchant pays their worth and the spread.
		out.push(convertedRefundTransfer(p, r, r.conversion, now));
	} else if (r.status === "succeeded" && amount > 0n) {
		const currency = source.currency;
		const legs: [string, bigint][] = [[source.account, -amount]];
		if (r.processor === "stripe" && r.funds === "held" && p.card) {
			// A late card charge's holding account is short by Stripe's fee, which Stripe keeps: the
			// merchant pays that part, so the payer still gets everything back.
			const held = BigInt(p.card.amount_received - (p.card.fee ?? 0) - p.card.amount_refunded);
			const fromHolding = held <= 0n ? 0n : held < amount ? held : amount;
			legs.splice(0, 1, [source.account, -fromHolding]);
			legs.push([
				accounts.merchantAvailable(p.merchant_id, p.livemode, currency),
				fromHolding - amount,
			]);
		}
		out.push({
			id: `${r.id}:refund`,
			kind: "refund",
			reference: p.id,
			livemode: p.livemode,
			created: now,
			postings: [
				...legs
					.filter(([, value]) => value !== 0n)
					.map(([account, value]) => ({ account, currency, amount: value })),
				{ account: accounts.settlement(p.livemode, r.processor, currency), currency, amount },
			],
		});
	}
	const fee = networkFeeTransfer(p, r, now);
	if (fee) out.push(fee);
	return out;
}

/** The lamports a crypto refund's transactions cost, charged to the merchant (succeeded or not). */
export function networkFeeTransfer(
	p: PaymentRecord,
	r: RefundRecord,
	now: number,
): Transfer | null {
	const fee = BigInt(r.solana?.network_fee ?? "0");
	if (fee <= 0n) return null;
	return {
		id: `${r.id}:network_fee`,
		kind: "fee",
		reference: p.id,
		livemode: p.livemode,
		created: now,
		postings: [
			{
				account: accounts.merchantAvailable(p.merchant_id, p.livemode, "sol"),
				currency: "sol",
				amount: -fee,
			},
			{ account: accounts.settlement(p.livemode, "solana", "sol"), currency: "sol", amount: fee },
		],
	};
}

/**
 * The payment once a refund has succeeded: `amount_refunded` grows by the price refunded. For a
 * card it follows the card's total, which now counts this refund as seen by the ledger, so the
 * next Stripe snapshot (`charge.amount_refunded`) shows no new refund to book.
 */
export function paymentAfterRefund(
	p: PaymentRecord,
	r: RefundRecord,
): Pick<PaymentRecord, "amount_refunded" | "card"> {
	if (r.processor === "stripe" && p.card) {
		const total = p.card.amount_refunded + (r.amount ?? 0);
		// A held charge (extra or late) going back refunds none of the price.
		const price = r.funds === "received" ? total : p.amount_refunded;
		return { amount_refunded: price, card: { ...p.card, amount_refunded: total } };
	}
	const price = r.funds === "received" ? (r.amount ?? 0) : 0;
	return { amount_refunded: p.amount_refunded + price, card: p.card ?? null };
}

export interface RefundOutcome {
	card?: { stripe_refund: string; stripe_status: string };
	solana?: { signature: string; network_fee: string };
}

export interface RefundFailure {
	reason: string;
	status?: "failed" | "canceled";
	/** Lamports already spent on the refund's transactions (they are charged all the same). */
	network_fee?: string;
	card?: { stripe_refund: string | null; stripe_status: string | null };
}

/** A change to book in the payment's object: the new versions and the ledger transfers. */
export interface RefundBooking {
	refund: RefundRecord;
	/** The payment's next version, or null when it does not change. */
	payment: PaymentRecord | null;
	transfers: Transfer[];
}

function bump<T extends { updated: number; version: number }>(
	o: T,
	patch: Partial<T>,
	now: number,
): T {
	return { ...o, ...patch, updated: now, version: o.version + 1 };
}

/** A pending refund succeeded: the refund, the payment's amounts, and the transfers. */
export function bookRefundSucceeded(
	p: PaymentRecord,
	r: RefundRecord,
	outcome: RefundOutcome,
	cardFundsAvailable: boolean,
	now: number,
): RefundBooking {
	const refund = bump(
		r,
		{
			status: "succeeded",
			card: outcome.card && r.card ? { ...r.card, ...outcome.card } : r.card,
			solana: outcome.solana && r.solana ? { ...r.solana, ...outcome.solana } : r.solana,
		},
		now,
	);
	const payment = bump(p, paymentAfterRefund(p, refund), now);
	return { refund, payment, transfers: refundTransfers(p, refund, cardFundsAvailable, now) };
}

/** A pending refund failed: its reservation ends; a network fee already spent is still charged. */
export function bookRefundFailed(
	p: PaymentRecord,
	r: RefundRecord,
	failure: RefundFailure,
	now: number,
): RefundBooking {
	const refund = bump(
		r,
		{
			status: failure.status ?? "failed",
			failure_reason: failure.reason,
			card: failure.card && r.card ? { ...r.card, ...failure.card } : r.card,
			solana:
				failure.network_fee && r.solana
					? { ...r.solana, network_fee: failure.network_fee }
					: r.solana,
		},
		now,
	);
	const fee = networkFeeTransfer(p, refund, now);
	return { refund, payment: fee ? bump(p, {}, now) : null, transfers: fee ? [fee] : [] };
}

/**
 * Stripe's refunded total minus our refunds still in flight, beyond what the payment has booked:
 * refunds made elsewhere (Stripe's dashboard) that a snapshot showed while one of ours was in
 * flight, booked once ours has finished. Null when there is nothing new.
 */
export function bookCardRefundsSeen(
	p: PaymentRecord,
	stripeRefundedTotal: number,
	inFlight: number,
	now: number,
): { payment: PaymentRecord; transfers: Transfer[] } | null {
	const card = p.card;
	const total = stripeRefundedTotal - inFlight;
	if (!card || total <= card.amount_refunded) return null;
	const after = { ...card, amount_refunded: total };
	const held = cardIsHeld(p);
	return {
		payment: bump(p, { card: after, amount_refunded: held ? p.amount_refunded : total }, now),
		transfers: cardTransfers(p, card, after, held, now),
	};
}

/** What a refund will debit from its merchant's available balance when it succeeds. */
export interface RefundDraw {
	/** The merchant's available account of `currency`. */
	account: string;
	currency: string;
	/** Minor or base units the refund's ledger transfer takes from `account`. */
	amount: bigint;
	/** The refunded payment, whose own ledger postings bound how far the refund may go negative. */
	payment_id: string;
	/** The ledger transfer that posts the debit. */
	transfer_id: string;
	/** How `amount` is counted, for messages: "usd minor units", "base units of USDC". */
	unit: string;
}

/**
 * The available balance a pending refund will take when it succeeds, read from the transfer it
 * would book: null when it takes none (held funds from a payment's holding account, card funds
 * still pending, nothing to send). The crypto network fee is not counted: it is known only once
 * sent, is small, and may take the SOL balance below zero as it always has. How much of the draw
 * the balance must cover is decided against the ledger (src/db/balance-holds.ts).
 */
export function refundAvailableDraw(
	p: PaymentRecord,
	r: RefundRecord,
	cardFundsAvailable: boolean,
): RefundDraw | null {
	const transferId = `${r.id}:refund`;
	const transfer = refundTransfers(
		p,
		{ ...r, status: "succeeded" },
		cardFundsAvailable,
		r.created,
	).find((t) => t.id === transferId);
	const leg = transfer?.postings.find(
		(x) =>
			x.amount < 0n &&
			x.account === accounts.merchantAvailable(p.merchant_id, p.livemode, x.currency),
	);
	if (!leg) return null;
	return {
		account: leg.account,
		currency: leg.currency,
		amount: -leg.amount,
		payment_id: p.id,
		transfer_id: transferId,
		unit: drawUnit(r, leg.currency),
	};
}

function drawUnit(r: RefundRecord, currency: string): string {
	const token = r.conversion
		? r.conversion.settlement_token
		: r.processor === "solana"
			? (r.solana?.token ?? null)
			: null;
	return token ? `base units of ${token}` : `${currency} minor units`;
}
