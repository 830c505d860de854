/**
 * A payout in the ledger (all in the payout's mode). Ids derive from the payout id, so every
 * posting is recorded once however often its step runs:
 * - `{po}:reserve`     available → payouts:in_transit (at creation: the amount is no longer available)
 * - `{po}:paid`        payouts:in_transit → settlement:{solana|stripe} (the money left through it)
 * - `{po}:reversal`    payouts:in_transit → available (failed or canceled: the reservation undone)
 * - `{po}:fee_reserve` the merchant's SOL available → payouts:in_transit:sol (at creation, an
 *   on-chain payout's fee estimate, so racing payouts cannot spend the same lamports on fees)
 * - `{po}:network_fee` payouts:in_transit:sol → settlement:solana:sol (lamports the transaction
 *   cost the settlement wallet: fee and token-account rent; also when it failed). The merchant is
 *   charged at most its reserve; anything beyond (never expected) is the gateway's, from its fees.
 *   A payout from before reserves existed (`fee_reserved` null) is charged from available.
 * - `{po}:stripe_reversal:{trr}` settlement:stripe → available (Stripe reversed part of a paid
 *   Connect transfer: the money is back in the platform's balance, so back in the merchant's)
 * - `{po}:fee_return`  payouts:in_transit:sol → the merchant's SOL available (the reserve less
 *   what was charged)
 */
import { accounts, type Transfer } from "./ledger";
import type { PayoutMethod } from "./payout";

interface PayoutRef {
	id: string;
	merchant_id: string;
	livemode: boolean;
	amount: string;
	currency: string;
	method: PayoutMethod;
	/** Lamports reserved for the network fee at creation; null when none was (Stripe, older). */
	fee_reserved?: string | null;
}

function reservedFee(p: PayoutRef): bigint | null {
	return p.fee_reserved === null || p.fee_reserved === undefined ? null : BigInt(p.fee_reserved);
}

function move(
	p: PayoutRef,
	suffix: string,
	kind: Transfer["kind"],
	from: string,
	to: string,
	currency: string,
	amount: bigint,
	now: number,
): Transfer {
	return {
		id: `${p.id}:${suffix}`,
		kind,
		reference: p.id,
		livemode: p.livemode,
		created: now,
		postings: [
			{ account: from, currency, amount: -amount },
			{ account: to, currency, amount },
		],
	};
}

export function payoutReserveTransfer(p: PayoutRef, now: number): Transfer {
	return move(
		p,
		"reserve",
		"payout",
		accounts.merchantAvailable(p.merchant_id, p.livemode, p.currency),
		accounts.payoutsInTransit(p.livemode, p.currency),
		p.currency,
		BigInt(p.amount),
		now,
	);
}

export function payoutPaidTransfer(p: PayoutRef, now: number): Transfer {
	return move(
		p,
		"paid",
		"payout",
		accounts.payoutsInTransit(p.livemode, p.currency),
		accounts.settlement(p.livemode, p.method, p.currency),
		p.currency,
		BigInt(p.amount),
		now,
	);
}

export function payoutReversalTransfer(p: PayoutRef, now: number): Transfer {
	return move(
		p,
		"reversal",
		"payout",
		accounts.payoutsInTransit(p.livemode, p.currency),
		accounts.merchantAvailable(p.merchant_id, p.livemode, p.currency),
		p.currency,
		BigInt(p.amount),
		now,
	);
}

/** The fee estimate set aside at creation; null when nothing is reserved. */
export function payoutFeeReserveTransfer(p: PayoutRef, now: number): Transfer | null {
	const reserved = reservedFee(p);
	if (reserved === null || reserved <= 0n) return null;
	return move(
		p,
		"fee_reserve",
		"fee",
		accounts.merchantAvailable(p.merchant_id, p.livemode, "sol"),
		accounts.payoutsInTransit(p.livemode, "sol"),
		"sol",
		reserved,
		now,
	);
}

/** What the merchant pays of `lamports` the transactions cost: never more than its reserve. */
export function payoutFeeCharged(p: PayoutRef, lamports: bigint): bigint {
	const cost = lamports > 0n ? lamports : 0n;
	const reserved = reservedFee(p);
	return reserved === null || cost <= reserved ? cost : reserved;
}

/** The reserve not charged, back to the merchant's SOL available; null when nothing is left. */
export function payoutFeeReturnTransfer(
	p: PayoutRef,
	lamports: bigint,
	now: number,
): Transfer | null {
	const reserved = reservedFee(p);
	if (reserved === null) return null;
	const rest = reserved - payoutFeeCharged(p, lamports);
	if (rest <= 0n) return null;
	return move(
		p,
		"fee_return",
		"fee",
		accounts.payoutsInTransit(p.livemode, "sol"),
		accounts.merchantAvailable(p.merchant_id, p.livemode, "sol"),
		"sol",
		rest,
		now,
	);
}

/** Null when the transactions cost nothing (nothing was ever broadcast that landed). */
export function payoutNetworkFeeTransfer(
	p: PayoutRef,
	lamports: bigint,
	now: number,
): Transfer | null {
	if (lamports <= 0n) return null;
	if (reservedFee(p) !== null) {
		const charged = payoutFeeCharged(p, lamports);
		const beyond = lamports - charged;
		const postings: Transfer["postings"] = [
			{
				account: accounts.settlement(p.livemode, "solana", "sol"),
				currency: "sol",
				amount: lamports,
			},
		];
		if (charged > 0n)
			postings.unshift({
				account: accounts.payoutsInTransit(p.livemode, "sol"),
				currency: "sol",
				amount: -charged,
			});
		if (beyond > 0n)
			postings.unshift({
				account: accounts.gatewayFees(p.livemode, "sol"),
				currency: "sol",
				amount: -beyond,
			});
		return {
			id: `${p.id}:network_fee`,
			kind: "fee",
			reference: p.id,
			livemode: p.livemode,
			created: now,
			postings,
		};
	}
	return move(
		p,
		"network_fee",
		"fee",
		accounts.merchantAvailable(p.merchant_id, p.livemode, "sol"),
		accounts.settlement(p.livemode, "solana", "sol"),
		"sol",
		lamports,
		now,
	);
}

/** A payout that sent nothing undone: its amount and its whole fee reserve back to available. */
export function payoutReleaseTransfers(p: PayoutRef, now: number): (Transfer | null)[] {
	return [payoutReversalTransfer(p, now), payoutFeeReturnTransfer(p, 0n, now)];
}

/** Stripe reversed `amount` of the payout's paid transfer (reversal `reversalId`). */
export function payoutStripeReversalTransfer(
	p: PayoutRef,
	reversalId: string,
	amount: bigint,
	now: number,
): Transfer {
	return move(
		p,
		`stripe_reversal:${reversalId}`,
		"payout",
		accounts.settlement(p.livemode, "stripe", p.currency),
		accounts.merchantAvailable(p.merchant_id, p.livemode, p.currency),
		p.currency,
		amount,
		now,
	);
}
