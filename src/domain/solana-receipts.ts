/**
 * A payment's crypto receipts: how one inflow is judged, what the receipts add up to, and the
 * ledger transfers that book them. Pure: the PaymentObject stores receipts and commits what this
 * module decides, in one storage transaction.
 */
import { accounts, type Transfer } from "./ledger";
import type { PaymentRecord, SolanaPaymentDetails } from "./payment";
import type { PaymentStatus } from "./payment-state";
import { type Commitment, decideSettlement, type SettlementDecision } from "./solana-settlement";

/**
 * counted: pays the payment; late: arrived when the payment no longer took funds, held for
 * refund; dropped: counted at `confirmed`, then proven gone from the chain (reversed).
 */
export type ReceiptDisposition = "counted" | "late" | "dropped";

/** One inflow into a settlement account, as a SettlementWatcher hands it to the payment. */
export interface InflowInput {
	/** `{signature}:{currency}`. */
	id: string;
	signature: string;
	currency: string;
	/** The settlement account the funds reached. */
	account: string;
	/** The reference key the transaction named. */
	reference: string;
	/** Base units (decimal string). */
	amount: string;
	/** The wallet the funds came from (the largest part, when several sent them). */
	payer: string;
	/** Several wallets sent the funds in one transaction: each one's part (base units). */
	contributions?: { payer: string; amount: string }[];
	slot: number;
	block_time: number | null;
	commitment: Commitment;
}

/** An inflow as the payment judged and stored it. */
export interface ReceiptRow extends InflowInput {
	disposition: ReceiptDisposition;
	reason: string | null;
	found_at: number;
}

export type InflowResult =
	| { outcome: "booked"; disposition: ReceiptDisposition }
	| { outcome: "declined"; reason: "unknown_payment" | "wrong_mint" };

/** The ledger's name for a token: its mint, or "sol" for native SOL. */
export function tokenCurrency(token: { mint: string | null }): string {
	return token.mint ?? "sol";
}

export function isOpen(status: PaymentStatus): boolean {
	return status === "requires_payment" || status === "processing";
}

/** Whether an inflow is counted toward the price or held as late, and why. */
export function judgeInflow(payment: Pick<PaymentRecord, "status">): {
	disposition: "counted" | "late";
	reason: string | null;
} {
	if (isOpen(payment.status)) return { disposition: "counted", reason: null };
	return { disposition: "late", reason: `payment_${payment.status}` };
}

/** Whether the quote's rate no longer holds for funds that arrive at `at` (unix seconds). */
export function quoteExpired(solana: SolanaPaymentDetails, at: number): boolean {
	return at > solana.quote.expires_at;
}

export function countedReceipts(rows: ReceiptRow[]): ReceiptRow[] {
	return rows.filter((r) => r.disposition === "counted");
}

/** Funds seen on chain move from the settlement account into the payment's holding account. */
export function receiptTransfer(
	payment: PaymentRecord,
	row: ReceiptRow,
	created: number,
): Transfer {
	return {
		id: `${row.id}:received`,
		kind: "payment",
		reference: payment.id,
		livemode: payment.livemode,
		created,
		postings: [
			{
				account: accounts.settlement(payment.livemode, "solana", row.currency),
				currency: row.currency,
				amount: -BigInt(row.amount),
			},
			{
				account: accounts.paymentHolding(payment.id, payment.livemode, row.currency),
				currency: row.currency,
				amount: BigInt(row.amount),
			},
		],
	};
}

/** A counted receipt whose transaction left the chain: its funds never were the payment's. */
export function droppedTransfer(
	payment: PaymentRecord,
	row: ReceiptRow,
	created: number,
): Transfer {
	const booked = receiptTransfer(payment, row, created);
	return {
		...booked,
		id: `${row.id}:dropped`,
		kind: "adjustment",
		postings: booked.postings.map((p) => ({ ...p, amount: -p.amount })),
	};
}

/**
 * On success the quoted amount leaves the holding account: the price to the merchant, the fee to
 * the gateway. An overpayment's excess stays held, refundable.
 */
export function settlementTransfer(
	payment: PaymentRecord,
	solana: SolanaPaymentDetails,
	received: bigint,
	created: number,
): Transfer {
	const currency = tokenCurrency(solana);
	const expected = BigInt(solana.amount);
	const settled = received < expected ? received : expected;
	const fee = BigInt(solana.quote.fee) < settled ? BigInt(solana.quote.fee) : settled;
	const postings = [
		{
			account: accounts.paymentHolding(payment.id, payment.livemode, currency),
			currency,
			amount: -settled,
		},
	];
	if (settled > fee) {
		postings.push({
			account: accounts.merchantAvailable(payment.merchant_id, payment.livemode, currency),
			currency,
			amount: settled - fee,
		});
	}
	if (fee > 0n)
		postings.push({
			account: accounts.gatewayFees(payment.livemode, currency),
			currency,
			amount: fee,
		});
	return {
		id: `${payment.id}:settled`,
		kind: "payment",
		reference: payment.id,
		livemode: payment.livemode,
		created,
		postings,
	};
}

/**
 * What the counted receipts mean for the payment: the settlement decision, and the payment's
 * crypto details and fiat `amount_received` brought up to date.
 */
export function planSettlement(input: {
	payment: PaymentRecord;
	solana: SolanaPaymentDetails;
	rows: ReceiptRow[];
	toleranceBps: number;
}): { decision: SettlementDecision; details: SolanaPaymentDetails; fiatReceived: number } {
	const { payment, solana } = input;
	const counted = countedReceipts(input.rows);
	const expected = BigInt(solana.amount);
	const decision = decideSettlement(
		counted.map((r) => ({
			signature: r.signature,
			amount: BigInt(r.amount),
			commitment: r.commitment,
			late: false,
		})),
		{
			expected,
			underpaymentToleranceBps: input.toleranceBps,
			requiredCommitment: solana.required_commitment,
		},
	);
	// The payer of record is whoever paid the most; a refund goes back per receipt (refund rules).
	const byPayer = new Map<string, bigint>();
	for (const r of counted) byPayer.set(r.payer, (byPayer.get(r.payer) ?? 0n) + BigInt(r.amount));
	let payer: string | null = solana.payer;
	let most = -1n;
	for (const [wallet, amount] of byPayer) {
		if (amount > most) {
			most = amount;
			payer = wallet;
		}
	}
	const last = counted.at(-1);
	const details: SolanaPaymentDetails = {
		...solana,
		amount_received: decision.received.toString(),
		amount_excess: decision.status === "succeeded" ? decision.excess.toString() : "0",
		signature: last?.signature ?? solana.signature,
		payer,
	};
	// Partly paid: the share of the price the tokens cover, rounded down.
	const fiatReceived =
		decision.status === "requires_payment"
			? Number((BigInt(payment.amount) * decision.received) / expected)
			: payment.amount;
	return { decision, details, fiatReceived };
}

/**
 * A quote for the rest of a partly paid payment, merged with what was paid: the tokens already
 * counted keep the rate they were paid at, the remainder is priced at the new quote's rate. The
 * merged amount is what the payment now expects in total; a wallet is asked for the difference.
 */
export function mergeRequote(
	current: SolanaPaymentDetails,
	fresh: SolanaPaymentDetails,
	received: bigint,
): SolanaPaymentDetails {
	const previous = [...(current.previous_references ?? []), current.reference];
	if (received <= 0n) return { ...fresh, previous_references: previous };
	const expected = BigInt(current.amount);
	const feePaid = (BigInt(current.quote.fee) * received) / expected;
	return {
		...fresh,
		amount: (received + BigInt(fresh.amount)).toString(),
		amount_received: received.toString(),
		quote: {
			...fresh.quote,
			fee: (feePaid + BigInt(fresh.quote.fee)).toString(),
			amount_before_fee: (received - feePaid + BigInt(fresh.quote.amount_before_fee)).toString(),
		},
		signature: current.signature,
		payer: current.payer,
		previous_references: previous,
	};
}

/** Base units still owed: what a wallet is asked to send now. */
export function outstandingTokens(solana: SolanaPaymentDetails): bigint {
	const left = BigInt(solana.amount) - BigInt(solana.amount_received);
	return left > 0n ? left : 0n;
}

/** A receipt's parts by sender: its contributions, or the whole from its one payer. */
export function receiptParts(
	r: Pick<ReceiptRow, "payer" | "amount" | "contributions">,
): { payer: string; amount: bigint }[] {
	return r.contributions
		? r.contributions.map((c) => ({ payer: c.payer, amount: BigInt(c.amount) }))
		: [{ payer: r.payer, amount: BigInt(r.amount) }];
}

/** What each wallet's counted receipts paid, largest first (a refund's destinations). */
export function paidByPayer(rows: ReceiptRow[]): { payer: string; amount: bigint }[] {
	const byPayer = new Map<string, bigint>();
	for (const r of countedReceipts(rows)) {
		for (const part of receiptParts(r)) {
			byPayer.set(part.payer, (byPayer.get(part.payer) ?? 0n) + part.amount);
		}
	}
	return [...byPayer]
		.map(([payer, amount]) => ({ payer, amount }))
		.sort((a, b) => (b.amount > a.amount ? 1 : b.amount < a.amount ? -1 : 0));
}
