import { accounts, type Transfer } from "../src/domain/ledger";
import type { PaymentRecord, SolanaPaymentDetails } from "../src/domain/payment";
import { type MatchResult, matchPayment, type ParsedTransaction } from "../src/domain/solana-match";
import {
	type Commitment,
	decideSettlement,
	type Receipt,
	type SettlementDecision,
} from "../src/domain/solana-settlement";
import type { SolanaRpc } from "../src/processors/solana/rpc";

/**
 * The on-chain side of a PaymentObject: finds transactions that reference the payment, judges
 * them, and remembers every one it has judged in the object's storage so each is fetched once.
 */
export type ReceiptRow = {
	signature: string;
	amount: string;
	payer: string;
	slot: number;
	block_time: number | null;
	commitment: Commitment;
	/** counted: pays this payment; late: arrived too late, held for refund; rejected: not a payment. */
	disposition: "counted" | "late" | "rejected";
	reason: string | null;
};

export const RECEIPTS_SCHEMA = `
	CREATE TABLE IF NOT EXISTS receipts (
		signature TEXT PRIMARY KEY, amount TEXT NOT NULL, payer TEXT NOT NULL, slot INTEGER NOT NULL,
		block_time INTEGER, commitment TEXT NOT NULL, disposition TEXT NOT NULL, reason TEXT,
		found_at INTEGER NOT NULL);
`;

interface SignatureInfo {
	signature: string;
	slot: number;
	err: unknown;
	blockTime: number | null;
	confirmationStatus: string | null;
}

/** The ledger's name for a token: its mint, or "sol" for native SOL. */
export function tokenCurrency(solana: SolanaPaymentDetails): string {
	return solana.mint ?? "sol";
}

export function readReceipts(sql: SqlStorage): ReceiptRow[] {
	return sql.exec<ReceiptRow>("SELECT * FROM receipts ORDER BY slot, signature").toArray();
}

export function toSettlementReceipts(rows: ReceiptRow[]): Receipt[] {
	return rows
		.filter((r) => r.disposition !== "rejected")
		.map((r) => ({
			signature: r.signature,
			amount: BigInt(r.amount),
			commitment: r.commitment,
			late: r.disposition === "late",
		}));
}

export interface ScanResult {
	found: ReceiptRow[];
	promoted: string[];
}

/**
 * One look at the chain: new signatures on the reference (at `confirmed`), each judged once, and
 * counted receipts still short of the required commitment re-checked. `claim` records that a
 * signature settles this payment and answers false when another payment already holds it.
 */
export async function scanChain(input: {
	sql: SqlStorage;
	rpc: SolanaRpc;
	payment: PaymentRecord;
	solana: SolanaPaymentDetails;
	now: number;
	claim: (signature: string) => Promise<boolean>;
}): Promise<ScanResult> {
	const { sql, rpc, payment, solana } = input;
	const known = new Set(readReceipts(sql).map((r) => r.signature));
	const infos = await rpc.call<SignatureInfo[]>("getSignaturesForAddress", [
		solana.reference,
		{ commitment: "confirmed", limit: 100 },
	]);
	const fresh = infos.filter((i) => !known.has(i.signature)).reverse();
	const found: ReceiptRow[] = [];
	for (const info of fresh) {
		const tx = await rpc.call<ParsedTransaction | null>("getTransaction", [
			info.signature,
			{ encoding: "jsonParsed", commitment: "confirmed", maxSupportedTransactionVersion: 0 },
		]);
		if (!tx) continue; // Not yet visible at this commitment on this node: next look.
		const match = matchPayment(tx, {
			recipient: solana.recipient,
			mint: solana.mint,
			references: [solana.reference],
			memo: solana.memo,
		});
		const row = await judge(match, info, tx, payment, solana, input.claim);
		sql.exec(
			`INSERT OR IGNORE INTO receipts (signature, amount, payer, slot, block_time, commitment, disposition, reason, found_at)
			 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			row.signature,
			row.amount,
			row.payer,
			row.slot,
			row.block_time,
			row.commitment,
			row.disposition,
			row.reason,
			input.now,
		);
		found.push(row);
	}

	const promoted: string[] = [];
	const waiting = readReceipts(sql).filter(
		(r) =>
			r.disposition !== "rejected" &&
			r.commitment !== "finalized" &&
			solana.required_commitment === "finalized",
	);
	if (waiting.length > 0) {
		const statuses = await rpc.call<{ value: ({ confirmationStatus: string | null } | null)[] }>(
			"getSignatureStatuses",
			[waiting.map((r) => r.signature), { searchTransactionHistory: true }],
		);
		waiting.forEach((r, i) => {
			if (statuses.value[i]?.confirmationStatus === "finalized") {
				sql.exec("UPDATE receipts SET commitment = 'finalized' WHERE signature = ?", r.signature);
				promoted.push(r.signature);
			}
		});
	}
	return { found, promoted };
}

async function judge(
	match: MatchResult,
	info: SignatureInfo,
	tx: ParsedTransaction,
	payment: PaymentRecord,
	solana: SolanaPaymentDetails,
	claim: (signature: string) => Promise<boolean>,
): Promise<ReceiptRow> {
	const base = {
		signature: info.signature,
		slot: tx.slot,
		block_time: tx.blockTime,
		commitment: (info.confirmationStatus === "finalized" ? "finalized" : "confirmed") as Commitment,
	};
	if (!match.ok) {
		return { ...base, amount: "0", payer: "", disposition: "rejected", reason: match.reason };
	}
	if (!(await claim(match.signature))) {
		return {
			...base,
			amount: "0",
			payer: match.payer,
			disposition: "rejected",
			reason: "signature_already_used",
		};
	}
	// Funds that arrive after the payment stopped accepting them, or after the quote's rate ran
	// out, are kept apart for refund: never counted at a stale rate, never lost.
	const closed = payment.status !== "requires_payment" && payment.status !== "processing";
	const afterQuote = tx.blockTime !== null && tx.blockTime > solana.quote.expires_at;
	return {
		...base,
		amount: match.amount.toString(),
		payer: match.payer,
		disposition: closed || afterQuote ? "late" : "counted",
		reason: closed ? `payment_${payment.status}` : afterQuote ? "quote_expired" : null,
	};
}

/** Funds seen on chain move from the settlement wallet's account into the payment's holding account. */
export function receiptTransfer(
	payment: PaymentRecord,
	solana: SolanaPaymentDetails,
	row: ReceiptRow,
	created: number,
): Transfer {
	const currency = tokenCurrency(solana);
	return {
		id: `${row.signature}:received`,
		kind: "payment",
		reference: payment.id,
		livemode: payment.livemode,
		created,
		postings: [
			{
				account: accounts.settlement(payment.livemode, "solana", currency),
				currency,
				amount: -BigInt(row.amount),
			},
			{
				account: accounts.paymentHolding(payment.id, payment.livemode, currency),
				currency,
				amount: BigInt(row.amount),
			},
		],
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
 * What the receipts mean for the payment: the settlement decision, the payment's crypto details
 * and fiat `amount_received` brought up to date, and the ledger transfers of newly found funds.
 */
export function planSettlement(input: {
	payment: PaymentRecord;
	solana: SolanaPaymentDetails;
	rows: ReceiptRow[];
	found: ReceiptRow[];
	toleranceBps: number;
	now: number;
}): {
	decision: SettlementDecision;
	details: SolanaPaymentDetails;
	fiatReceived: number;
	transfers: Transfer[];
} {
	const { payment, solana } = input;
	const transfers = input.found
		.filter((r) => r.disposition !== "rejected")
		.map((r) => receiptTransfer(payment, solana, r, input.now));
	const expected = BigInt(solana.amount);
	const decision = decideSettlement(toSettlementReceipts(input.rows), {
		expected,
		underpaymentToleranceBps: input.toleranceBps,
		requiredCommitment: solana.required_commitment,
	});
	const last = input.rows.filter((r) => r.disposition === "counted").at(-1);
	const details: SolanaPaymentDetails = {
		...solana,
		amount_received: decision.received.toString(),
		amount_excess: decision.status === "succeeded" ? decision.excess.toString() : "0",
		signature: last?.signature ?? solana.signature,
		payer: last?.payer ?? solana.payer,
	};
	// Partly paid: the share of the price the tokens cover, rounded down.
	const fiatReceived =
		decision.status === "requires_payment"
			? Number((BigInt(payment.amount) * decision.received) / expected)
			: payment.amount;
	return { decision, details, fiatReceived, transfers };
}
