/**
 * Double-entry ledger, pure part. A transfer is a set of postings whose amounts sum to zero in
 * every currency; its id is its idempotency key. Amounts are bigint minor or base units.
 */
export type Mode = "live" | "test";

export interface Posting {
	account: string;
	currency: string;
	amount: bigint;
}

export type TransferKind = "payment" | "refund" | "fee" | "conversion" | "adjustment" | "payout";

export interface Transfer {
	id: string;
	kind: TransferKind;
	/** The object the money movement belongs to, such as a payment id. */
	reference: string;
	livemode: boolean;
	/** Unix seconds. */
	created: number;
	postings: Posting[];
}

export class LedgerError extends Error {
	constructor(message: string) {
		super(message);
		this.name = "LedgerError";
	}
}

const I64_MAX = 9_223_372_036_854_775_807n;

export function modeOf(livemode: boolean): Mode {
	return livemode ? "live" : "test";
}

/**
 * Account names start with the mode so that test money and live money can never meet, then
 * follow ARCHITECTURE.md: merchant balances, gateway fees, settlement wallets, FX clearing.
 */
export const accounts = {
	merchantAvailable: (merchantId: string, livemode: boolean, currency: string) =>
		`${modeOf(livemode)}:merchant:${merchantId}:${currency}:available`,
	merchantPending: (merchantId: string, livemode: boolean, currency: string) =>
		`${modeOf(livemode)}:merchant:${merchantId}:${currency}:pending`,
	merchantPrefix: (merchantId: string, livemode: boolean) =>
		`${modeOf(livemode)}:merchant:${merchantId}:`,
	gatewayFees: (livemode: boolean, currency: string) =>
		`${modeOf(livemode)}:gateway:fees:${currency}`,
	settlement: (livemode: boolean, processor: string, currency: string) =>
		`${modeOf(livemode)}:settlement:${processor}:${currency}`,
	/** Funds received for one payment, before they settle to the merchant or go back as a refund. */
	paymentHolding: (paymentId: string, livemode: boolean, currency: string) =>
		`${modeOf(livemode)}:payment:${paymentId}:${currency}`,
	fxClearing: (livemode: boolean, currency: string) =>
		`${modeOf(livemode)}:fx:clearing:${currency}`,
	/**
	 * Chain funds the gateway holds for a token account of the settlement wallet other than its
	 * associated one (a payer sent to an account they chose); `settlement` covers the associated one.
	 */
	settlementAccount: (livemode: boolean, currency: string, tokenAccount: string) =>
		`${modeOf(livemode)}:settlement:solana:${currency}:${tokenAccount}`,
	/** Funds that reached a settlement account and belong to no payment: held for the sender. */
	unattributed: (livemode: boolean, currency: string) =>
		`${modeOf(livemode)}:unattributed:${currency}`,
	/**
	 * The gateway's own funds in a settlement account: what was there when watching began (the SOL
	 * that pays network fees) and what the operator adds. Owed to nobody.
	 */
	treasuryFloat: (livemode: boolean, currency: string) =>
		`${modeOf(livemode)}:gateway:float:${currency}`,
	/** Payouts reserved from merchants' available balances and not yet paid (or reversed). */
	payoutsInTransit: (livemode: boolean, currency: string) =>
		`${modeOf(livemode)}:payouts:in_transit:${currency}`,
};

/** Throws unless the transfer is well formed and balanced in every currency. */
export function validateTransfer(transfer: Transfer): void {
	if (!transfer.id) throw new LedgerError("A transfer needs an id");
	if (transfer.postings.length < 2) throw new LedgerError("A transfer needs at least two postings");
	const mode = modeOf(transfer.livemode);
	const sums = new Map<string, bigint>();
	for (const p of transfer.postings) {
		if (typeof p.amount !== "bigint") throw new LedgerError("Posting amounts must be bigint");
		if (p.amount === 0n) throw new LedgerError(`Zero posting to ${p.account}`);
		if (p.amount > I64_MAX || p.amount < -I64_MAX) {
			throw new LedgerError(`Posting to ${p.account} exceeds the 64-bit range`);
		}
		if (!p.account.startsWith(`${mode}:`)) {
			throw new LedgerError(`Account ${p.account} is not a ${mode} account`);
		}
		if (!/^[a-z0-9]+$/i.test(p.currency)) throw new LedgerError(`Bad currency ${p.currency}`);
		sums.set(p.currency, (sums.get(p.currency) ?? 0n) + p.amount);
	}
	for (const [currency, sum] of sums) {
		if (sum !== 0n)
			throw new LedgerError(`Transfer ${transfer.id} is unbalanced in ${currency} by ${sum}`);
	}
}

/** A canonical text of the transfer's content, used to detect a replayed id with other content. */
export function transferFingerprint(transfer: Transfer): string {
	return JSON.stringify([
		transfer.kind,
		transfer.reference,
		transfer.livemode,
		transfer.postings.map((p) => [p.account, p.currency, p.amount.toString()]),
	]);
}

/** Funds received for a payment move from the processor's settlement account to the merchant. */
export function paymentReceivedTransfer(input: {
	paymentId: string;
	merchantId: string;
	livemode: boolean;
	currency: string;
	amount: bigint;
	processor: string;
	/** Card funds stay pending until the processor reports them available. */
	balance: "available" | "pending";
	created: number;
}): Transfer {
	const merchantAccount =
		input.balance === "available"
			? accounts.merchantAvailable(input.merchantId, input.livemode, input.currency)
			: accounts.merchantPending(input.merchantId, input.livemode, input.currency);
	return {
		id: `${input.paymentId}:received`,
		kind: "payment",
		reference: input.paymentId,
		livemode: input.livemode,
		created: input.created,
		postings: [
			{
				account: accounts.settlement(input.livemode, input.processor, input.currency),
				currency: input.currency,
				amount: -input.amount,
			},
			{ account: merchantAccount, currency: input.currency, amount: input.amount },
		],
	};
}

/** JSON form for storage in an outbox row: bigints as decimal strings. */
export interface TransferJson extends Omit<Transfer, "postings"> {
	postings: { account: string; currency: string; amount: string }[];
}

export function transferToJson(t: Transfer): TransferJson {
	return { ...t, postings: t.postings.map((p) => ({ ...p, amount: p.amount.toString() })) };
}

export function transferFromJson(t: TransferJson): Transfer {
	return { ...t, postings: t.postings.map((p) => ({ ...p, amount: BigInt(p.amount) })) };
}
