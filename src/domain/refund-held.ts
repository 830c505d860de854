/**
 * Refunds, pure part: what a payment holds for refund and whose it is — held crypto (late,
 * excess, or a payment closed unpaid), a held card charge, each sender's share — and how a
 * refund's tokens are shared so partial refunds add up exactly. Planning a refund
 * (src/domain/refund-plan.ts) draws on these.
 */
import { type HeldFundsSummary, type PaymentRecord, paidWith } from "./payment";
import type { RefundFunds, RefundRecord } from "./refund";

/** Crypto the payment holds for refund, and the wallets it came from. */
export interface HeldFunds {
	tokens: bigint;
	payers: string[];
}

/** Receipts as the refund rules need them (solana-watcher's rows, reduced). */
export interface ReceiptSummary {
	amount: bigint;
	payer: string;
	disposition: "counted" | "late" | "rejected";
}

type HeldInput = Pick<PaymentRecord, "status" | "solana" | "paid_with" | "card">;

/** Whether the counted crypto receipts are all held: the card paid the price instead. */
function cardPaid(p: HeldInput): boolean {
	return paidWith(p) === "card";
}

/**
 * What sits in the payment's holding account: late receipts always; counted ones beyond the
 * quote once the payment succeeded (the excess), or all of them once it closed unpaid or the
 * card paid its price. Funds a still-open payment has counted are on their way to paying it.
 */
export function heldFunds(p: HeldInput, receipts: ReceiptSummary[]): HeldFunds {
	if (!p.solana) return { tokens: 0n, payers: [] };
	const counted = receipts.filter((r) => r.disposition === "counted");
	const late = receipts.filter((r) => r.disposition === "late");
	const sum = (rs: ReceiptSummary[]) => rs.reduce((s, r) => s + r.amount, 0n);
	const open = p.status === "requires_payment" || p.status === "processing";
	let tokens = sum(late);
	const from = [...late];
	if (cardPaid(p)) {
		tokens += sum(counted);
		from.push(...counted);
	} else if (p.status === "succeeded") {
		const excess = sum(counted) - settledTokens(p.solana.amount, sum(counted));
		if (excess > 0n) {
			tokens += excess;
			from.push(...counted);
		}
	} else if (!open) {
		tokens += sum(counted);
		from.push(...counted);
	}
	return { tokens, payers: [...new Set(from.map((r) => r.payer))] };
}

/**
 * Who the held funds belong to: late receipts to their own payers, an excess or the counted
 * funds of a payment that closed unpaid to the wallets that paid, by what each paid.
 */
export function heldByPayer(
	p: HeldInput,
	receipts: ReceiptSummary[],
): { payer: string; amount: bigint }[] {
	if (!p.solana) return [];
	const shares = new Map<string, bigint>();
	const add = (payer: string, amount: bigint) =>
		amount > 0n && shares.set(payer, (shares.get(payer) ?? 0n) + amount);
	const counted = receipts.filter((r) => r.disposition === "counted");
	for (const r of receipts) if (r.disposition === "late") add(r.payer, r.amount);
	const paid = new Map<string, bigint>();
	for (const r of counted) paid.set(r.payer, (paid.get(r.payer) ?? 0n) + r.amount);
	const paidBy = [...paid].map(([payer, amount]) => ({ payer, amount }));
	const total = counted.reduce((s, r) => s + r.amount, 0n);
	const open = p.status === "requires_payment" || p.status === "processing";
	if (cardPaid(p)) {
		for (const x of paidBy) add(x.payer, x.amount);
	} else if (p.status === "succeeded") {
		const excess = total - settledTokens(p.solana.amount, total);
		for (const x of splitByPayer(excess, paidBy)) add(x.recipient, x.amount);
	} else if (!open) {
		for (const x of paidBy) add(x.payer, x.amount);
	}
	return [...shares]
		.map(([payer, amount]) => ({ payer, amount }))
		.sort((a, b) => (b.amount > a.amount ? 1 : b.amount < a.amount ? -1 : 0));
}

/** Of what was counted, the part that paid the quote (fee included); the rest is excess. */
export function settledTokens(quoted: string, counted: bigint): bigint {
	const expected = BigInt(quoted);
	return counted < expected ? counted : expected;
}

/** Refunds that hold part of the payment: the pending ones (reserved) and the succeeded ones. */
export function holding(refunds: RefundRecord[], funds: RefundFunds): RefundRecord[] {
	return refunds.filter(
		(r) => r.funds === funds && (r.status === "pending" || r.status === "succeeded"),
	);
}

/** The card amount already spoken for: what the ledger has seen refunded plus refunds in flight. */
export function cardRefundsInFlight(refunds: RefundRecord[]): number {
	return refunds
		.filter((r) => r.processor === "stripe" && r.status === "pending")
		.reduce((s, r) => s + (r.amount ?? 0), 0);
}

/**
 * What each sender of held crypto is still owed: its share of the held funds less what the held
 * refunds so far (pending or sent) took for it, largest first, nothing at zero.
 */
export function owedBySender(
	heldBy: { payer: string; amount: bigint }[],
	refunds: RefundRecord[],
): { payer: string; amount: bigint }[] {
	const owed = new Map(heldBy.map((w) => [w.payer, w.amount]));
	for (const r of holding(refunds, "held")) {
		if (r.processor !== "solana" || !r.solana) continue;
		const legs = r.solana.splits ?? [
			{ recipient: r.solana.sender ?? r.solana.recipient, amount: r.solana.amount },
		];
		for (const leg of legs) {
			const before = owed.get(leg.recipient);
			if (before !== undefined) owed.set(leg.recipient, before - BigInt(leg.amount));
		}
	}
	return [...owed]
		.map(([payer, amount]) => ({ payer, amount }))
		.filter((w) => w.amount > 0n)
		.sort((a, b) => (b.amount > a.amount ? 1 : b.amount < a.amount ? -1 : 0));
}

/** A card charge pays the price while the card paid it and the payment succeeded; else held. */
export function cardFunds(p: PaymentRecord): RefundFunds {
	return p.status === "succeeded" && paidWith(p) === "card" ? "received" : "held";
}

/** Minor units of a card charge not yet refunded nor reserved by a pending refund. */
export function cardLeft(p: PaymentRecord, refunds: RefundRecord[]): number {
	const card = p.card;
	if (card?.intent_status !== "succeeded") return 0;
	return card.amount_received - card.amount_refunded - cardRefundsInFlight(refunds);
}

/** Held crypto base units not yet refunded nor reserved by a pending refund. */
export function cryptoHeldLeft(refunds: RefundRecord[], held: HeldFunds): bigint {
	const reserved = holding(refunds, "held")
		.filter((r) => r.processor === "solana")
		.reduce((s, r) => s + BigInt(r.solana?.amount ?? "0"), 0n);
	return held.tokens - reserved;
}

/**
 * What the payment holds for refund, per method, for its API object: a held card charge and
 * what of it went back; held crypto (late, excess, extra) and the held refunds that succeeded.
 */
export function heldFundsSummary(
	p: PaymentRecord,
	held: HeldFunds,
	refunds: RefundRecord[],
): HeldFundsSummary {
	const card = p.card;
	const cardHeld = card && card.intent_status === "succeeded" && cardFunds(p) === "held";
	const refundedTokens = refunds
		.filter((r) => r.funds === "held" && r.processor === "solana" && r.status === "succeeded")
		.reduce((s, r) => s + BigInt(r.solana?.amount ?? "0"), 0n);
	return {
		card: cardHeld ? { amount: card.amount_received, refunded: card.amount_refunded } : null,
		solana:
			p.solana && (held.tokens > 0n || refundedTokens > 0n)
				? {
						token: p.solana.token,
						amount: held.tokens.toString(),
						refunded: refundedTokens.toString(),
					}
				: null,
	};
}

/**
 * `tokens` shared by what each payer paid, rounded down, the rest to the largest payer: the
 * shares add up to exactly `tokens`.
 */
export function splitByPayer(
	tokens: bigint,
	paidBy: { payer: string; amount: bigint }[],
): { recipient: string; amount: bigint }[] {
	const total = paidBy.reduce((s, w) => s + w.amount, 0n);
	if (total <= 0n) return [];
	const shares = paidBy.map((w) => ({ recipient: w.payer, amount: (tokens * w.amount) / total }));
	const rest = tokens - shares.reduce((s, x) => s + x.amount, 0n);
	const largest = shares.reduce((a, b) => (b.amount > a.amount ? b : a));
	largest.amount += rest;
	return shares.filter((x) => x.amount > 0n);
}

/**
 * Tokens for refunding `amount` of the price: the payer's share of what they paid, cumulative so
 * that several partial refunds add up to exactly what was paid (no unit lost or gained to
 * rounding), and never past it.
 */
export function tokenShare(input: {
	paid: bigint;
	received: number;
	refundedBefore: number;
	amount: number;
	tokensBefore: bigint;
}): bigint {
	const { paid, received } = input;
	if (received <= 0) return 0n;
	const upTo = (fiat: number) => (paid * BigInt(fiat)) / BigInt(received);
	const share = upTo(input.refundedBefore + input.amount) - upTo(input.refundedBefore);
	const left = paid - input.tokensBefore;
	// biome-ignore lint/complexity/useMathMinMax: bigints, which Math.min does not take.
	return share < left ? share : left;
}
