/**
 * A payout in the ledger (all in the payout's mode). Ids derive from the payout id, so every
 * posting is recorded once however often its step runs:
 * - `{po}:reserve`     available → payouts:in_transit (at creation: the amount is no longer available)
 * - `{po}:paid`        payouts:in_transit → settlement:{solana|stripe} (the money left through it)
 * - `{po}:reversal`    payouts:in_transit → available (failed or canceled: the reservation undone)
 * - `{po}:network_fee` the merchant's SOL available → settlement:solana:sol (lamports the
 *   transaction cost the settlement wallet: fee and token-account rent; also when it failed)
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

/** Null when the transactions cost nothing (nothing was ever broadcast that landed). */
export function payoutNetworkFeeTransfer(
	p: PayoutRef,
	lamports: bigint,
	now: number,
): Transfer | null {
	if (lamports <= 0n) return null;
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
