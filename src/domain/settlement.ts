import type { TransferKind } from "./ledger";

/**
 * Settlement statements, pure part. A merchant's balance in a currency is the sum of its
 * `available` and `pending` accounts; a period's movements are that balance's postings grouped by
 * the kind of transfer they belong to. The gateway's fee taken inside a transfer that credits the
 * merchant (a crypto payment's fee, a conversion's spread) is shown as a fee, and the movement it
 * came out of at its gross, so the statement reads like a bank's: payments in full, fees apart.
 * Payouts take money out of the balance when created (`payouts`, negative) and give it back when
 * they fail or are canceled (`payouts_returned`); what reached the merchant's destination in the
 * period (`payouts_paid`) and what was still on its way at the end (`payouts_in_transit`) are
 * shown beside the balance, not in it.
 */

/** The merchant's postings in one currency and transfer kind over the period, summed by sign. */
export interface MovementSum {
	kind: TransferKind;
	currency: string;
	credits: bigint;
	/** Zero or negative. */
	debits: bigint;
}

/** The gateway's fee postings in transfers that also moved the merchant's money, per kind. */
export interface GatewayFeeSum {
	kind: TransferKind;
	currency: string;
	amount: bigint;
}

/** A merchant's payouts in one currency: paid in the period, and in transit at its end. */
export interface PayoutStatusSum {
	currency: string;
	paid: bigint;
	inTransit: bigint;
}

export interface SettlementLine {
	currency: string;
	opening_balance: bigint;
	payments: bigint;
	refunds: bigint;
	fees: bigint;
	conversions_in: bigint;
	conversions_out: bigint;
	adjustments: bigint;
	/** Taken from the balance by payouts created in the period (zero or negative). */
	payouts: bigint;
	/** Given back to the balance by payouts that failed or were canceled in the period. */
	payouts_returned: bigint;
	closing_balance: bigint;
	/** The ledger's balance at the end of the period, computed apart from the movements. */
	ledger_balance: bigint;
	/** closing_balance − ledger_balance: zero when the statement reconciles. */
	difference: bigint;
	/** Paid out to the merchant's destinations in the period (outside the balance). */
	payouts_paid: bigint;
	/** Taken from the balance, neither paid nor returned at the period's end. */
	payouts_in_transit: bigint;
}

export const SETTLEMENT_AMOUNTS = [
	"opening_balance",
	"payments",
	"refunds",
	"fees",
	"conversions_in",
	"conversions_out",
	"adjustments",
	"payouts",
	"payouts_returned",
	"closing_balance",
	"ledger_balance",
	"difference",
	"payouts_paid",
	"payouts_in_transit",
] as const;

function emptyLine(currency: string): SettlementLine {
	return {
		currency,
		opening_balance: 0n,
		payments: 0n,
		refunds: 0n,
		fees: 0n,
		conversions_in: 0n,
		conversions_out: 0n,
		adjustments: 0n,
		payouts: 0n,
		payouts_returned: 0n,
		closing_balance: 0n,
		ledger_balance: 0n,
		difference: 0n,
		payouts_paid: 0n,
		payouts_in_transit: 0n,
	};
}

/**
 * One line per currency that had a balance or a movement: opening + payments + refunds + fees +
 * conversions in and out + adjustments + payouts and their returns = closing, compared with the
 * ledger's own balance at the end of the period. Lines are sorted by currency.
 */
export function computeSettlement(input: {
	opening: ReadonlyMap<string, bigint>;
	movements: readonly MovementSum[];
	gatewayFees: readonly GatewayFeeSum[];
	ledgerClosing: ReadonlyMap<string, bigint>;
	payoutStatus?: readonly PayoutStatusSum[];
}): SettlementLine[] {
	const lines = new Map<string, SettlementLine>();
	const line = (currency: string) => {
		let l = lines.get(currency);
		if (!l) {
			l = emptyLine(currency);
			lines.set(currency, l);
		}
		return l;
	};
	for (const [currency, amount] of input.opening) line(currency).opening_balance = amount;
	for (const [currency, amount] of input.ledgerClosing) line(currency).ledger_balance = amount;
	const feeOf = new Map(input.gatewayFees.map((f) => [`${f.kind}\u0000${f.currency}`, f.amount]));
	for (const m of input.movements) {
		const l = line(m.currency);
		const fee = feeOf.get(`${m.kind}\u0000${m.currency}`) ?? 0n;
		const net = m.credits + m.debits;
		switch (m.kind) {
			case "payment":
				// Moving card funds from pending to available nets to zero here, as it should.
				l.payments += net + fee;
				l.fees -= fee;
				break;
			case "refund":
				l.refunds += net + fee;
				l.fees -= fee;
				break;
			case "fee":
				l.fees += net;
				break;
			case "conversion":
				l.conversions_in += m.credits + fee;
				l.conversions_out += m.debits;
				l.fees -= fee;
				break;
			case "adjustment":
				l.adjustments += net + fee;
				l.fees -= fee;
				break;
			case "payout":
				// A reservation leaves the balance; a failed or canceled payout's reversal comes back.
				l.payouts += m.debits;
				l.payouts_returned += m.credits;
				break;
		}
	}
	for (const p of input.payoutStatus ?? []) {
		const l = line(p.currency);
		l.payouts_paid += p.paid;
		l.payouts_in_transit += p.inTransit;
	}
	for (const l of lines.values()) {
		l.closing_balance =
			l.opening_balance +
			l.payments +
			l.refunds +
			l.fees +
			l.conversions_in +
			l.conversions_out +
			l.adjustments +
			l.payouts +
			l.payouts_returned;
		l.difference = l.closing_balance - l.ledger_balance;
	}
	return [...lines.values()]
		.filter((l) => SETTLEMENT_AMOUNTS.some((k) => l[k] !== 0n))
		.sort((a, b) => (a.currency < b.currency ? -1 : a.currency > b.currency ? 1 : 0));
}

/** True when every line's closing balance equals the ledger's. */
export function isReconciled(lines: readonly SettlementLine[]): boolean {
	return lines.every((l) => l.difference === 0n);
}

/**
 * A balance at an earlier time without summing all history: today's balance minus what was
 * posted since. `since` holds the sums of postings at or after that time, per currency.
 */
export function balancesAt(
	current: ReadonlyMap<string, bigint>,
	since: ReadonlyMap<string, bigint>,
): Map<string, bigint> {
	const out = new Map<string, bigint>();
	for (const [currency, amount] of current) out.set(currency, amount);
	for (const [currency, amount] of since) out.set(currency, (out.get(currency) ?? 0n) - amount);
	return out;
}
