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
