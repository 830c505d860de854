/**
 * What a payment's crypto receipts add up to, and what that means for its status. Pure: the
 * PaymentObject records receipts as it finds them and asks this module what to do.
 */
export type Commitment = "confirmed" | "finalized";

export interface Receipt {
	signature: string;
	amount: bigint;
	commitment: Commitment;
	/** Found after the payment had expired (or was canceled): kept, refundable, never counted. */
	late: boolean;
}

export interface SettlementPolicy {
	/** Quoted amount in base units, fee included. */
	expected: bigint;
	/** Shortfall accepted as paid in full, in basis points of `expected`. */
	underpaymentToleranceBps: number;
	/** Commitment that must be reached before the payment succeeds. */
	requiredCommitment: Commitment;
}

export type SettlementDecision =
	| { status: "requires_payment"; received: bigint; outstanding: bigint }
	| { status: "processing"; received: bigint }
	| { status: "succeeded"; received: bigint; excess: bigint };

export function decideSettlement(
	receipts: Receipt[],
	policy: SettlementPolicy,
): SettlementDecision {
	const counted = receipts.filter((r) => !r.late);
	const received = counted.reduce((sum, r) => sum + r.amount, 0n);
	const tolerance = (policy.expected * BigInt(policy.underpaymentToleranceBps)) / 10_000n;
	if (received + tolerance < policy.expected) {
		return { status: "requires_payment", received, outstanding: policy.expected - received };
	}
	const settled = counted.every(
		(r) => r.commitment === "finalized" || policy.requiredCommitment === "confirmed",
	);
	if (!settled) return { status: "processing", received };
	return {
		status: "succeeded",
		received,
		excess: received > policy.expected ? received - policy.expected : 0n,
	};
}

/** Amounts above the threshold (in the price currency's minor units) wait for `finalized`. */
export function requiredCommitment(priceAmount: number, finalizedAbove: number): Commitment {
	return priceAmount > finalizedAbove ? "finalized" : "confirmed";
}

/**
 * How long until the next look for the payment on chain. Most payers pay within a minute of
 * opening the checkout or asking their wallet for the transaction, so the looks are fast then
 * and sparse otherwise: a fully watched, never-paid payment costs about 340 calls in 15
 * minutes, a tenth of polling every 250 ms.
 */
export function nextPollDelayMs(state: {
	now: number;
	/** Until when a wallet that just asked for the transaction is likely to send it. */
	hotUntil: number;
	/** Until when a payer who just opened the checkout is likely to scan and pay. */
	freshUntil: number;
	/** Until when the checkout was seen open. */
	watchedUntil: number;
	awaitingFinality: boolean;
}): number {
	if (state.awaitingFinality) return 2_000;
	if (state.now < state.hotUntil) return 400;
	if (state.now < state.freshUntil) return 1_500;
	if (state.now < state.watchedUntil) return 5_000;
	return 15_000;
}
