import type Stripe from "stripe";
import { createBalanceTransaction, refreshBalanceTransaction } from "./charges.js";
import { transfersActive } from "./connect-accounts.js";
import type { RequestContext, StripeEmulator } from "./emulator.js";
import { docUrl, invalidRequest, StripeApiError } from "./errors.js";
import { formatAmount } from "./money.js";

// Connect transfers from the platform's balance to connected accounts, and their reversals.
//
// The platform's balance is its balance transactions: card funds (net of fees) are `pending`
// until `available_on` (two days, or at once with `pm_card_bypassPending` or a `_test` top-up);
// debits (refunds, disputes, transfers) come out of `available` at once, as Stripe takes them.
// A transfer needs that much `available`, else Stripe's `balance_insufficient`. A connected
// account's balance is a counter per currency that transfers add to and reversals take from.

export interface BalanceAmounts {
	available: Map<string, number>;
	pending: Map<string, number>;
}

function add(map: Map<string, number>, currency: string, amount: number): void {
	map.set(currency, (map.get(currency) ?? 0) + amount);
}

export function platformBalance(em: StripeEmulator): BalanceAmounts {
	const available = new Map<string, number>([["usd", 0]]);
	const pending = new Map<string, number>([["usd", 0]]);
	for (const txn of em.store.balanceTransactions.values()) {
		refreshBalanceTransaction(em.store, txn);
		if (txn.status === "available" || txn.net < 0) add(available, txn.currency, txn.net);
		else add(pending, txn.currency, txn.net);
	}
	for (const currency of available.keys()) if (!pending.has(currency)) pending.set(currency, 0);
	for (const currency of pending.keys()) if (!available.has(currency)) available.set(currency, 0);
	return { available, pending };
}

export function connectedBalance(em: StripeEmulator, account: string): BalanceAmounts {
	const available = new Map(em.store.connectedBalances.get(account) ?? []);
	const pending = new Map([...available.keys()].map((currency) => [currency, 0]));
	return { available, pending };
}

export function balanceJson(amounts: BalanceAmounts): Stripe.Balance {
	const entries = (map: Map<string, number>) =>
		[...map].map(([currency, amount]) => ({ amount, currency, source_types: { card: amount } }));
	return {
		object: "balance",
		available: entries(amounts.available),
		connect_reserved: [...amounts.available.keys()].map((currency) => ({ amount: 0, currency })),
		livemode: false,
		pending: entries(amounts.pending),
	};
}

/** An available balance transaction: Connect movements and top-ups are not held. */
function availableTransaction(
	em: StripeEmulator,
	init: Parameters<typeof createBalanceTransaction>[1],
): Stripe.BalanceTransaction {
	const txn = createBalanceTransaction(em.store, init);
	txn.available_on = txn.created;
	txn.status = "available";
	return txn;
}

/** Adds funds to the platform's available balance, as a test-mode top-up does. */
export function topUp(
	em: StripeEmulator,
	amount: number,
	currency: string,
): Stripe.BalanceTransaction {
	return availableTransaction(em, {
		amount,
		currency,
		type: "topup",
		reportingCategory: "topup",
		source: em.store.newId("tu"),
		fee: 0,
		description: "Sandbox top-up",
	});
}

export interface NewTransfer {
	amount: number;
	currency: string;
	destination: string;
	transferGroup: string | null;
	description: string | null;
	metadata: Record<string, string>;
}

const INSUFFICIENT_FUNDS =
	"You have insufficient available funds in your Stripe account. Try adding funds directly to your available balance by creating Charges using the 4000000000000077 test card. See: https://stripe.com/docs/testing#available-balance";

function capabilitiesError(): StripeApiError {
	return invalidRequest(
		"Your destination account needs to have at least one of the following capabilities enabled: transfers, crypto_transfers, legacy_payments",
		{ code: "insufficient_capabilities_for_transfer", param: "destination" },
	);
}

export function createTransfer(
	em: StripeEmulator,
	init: NewTransfer,
	ctx: RequestContext,
): Stripe.Transfer {
	const account = em.store.accounts.get(init.destination);
	if (!account) {
		throw new StripeApiError(400, {
			type: "invalid_request_error",
			message: `No such destination: '${init.destination}'`,
			code: "resource_missing",
			doc_url: docUrl("resource_missing"),
			param: "destination",
		});
	}
	// The `_test` knob: the account lost its transfers capability just before this transfer.
	if (em.store.failNextTransfer.delete(account.id)) throw capabilitiesError();
	if (!transfersActive(account)) throw capabilitiesError();
	const available = platformBalance(em).available.get(init.currency) ?? 0;
	if (init.amount > available) {
		throw invalidRequest(INSUFFICIENT_FUNDS, { code: "balance_insufficient" });
	}
	const id = em.store.newId("tr");
	const txn = availableTransaction(em, {
		amount: -init.amount,
		currency: init.currency,
		type: "transfer",
		reportingCategory: "transfer",
		source: id,
		fee: 0,
		description: init.description,
	});
	const transfer: Stripe.Transfer = {
		id,
		object: "transfer",
		amount: init.amount,
		amount_reversed: 0,
		balance_transaction: txn.id,
		created: em.store.seconds(),
		currency: init.currency,
		description: init.description,
		destination: account.id,
		destination_payment: em.store.newId("py"),
		livemode: false,
		metadata: init.metadata,
		reversals: {
			object: "list",
			data: [],
			has_more: false,
			url: `/v1/transfers/${id}/reversals`,
		},
		reversed: false,
		source_transaction: null,
		source_type: "card",
		transfer_group: init.transferGroup,
	};
	(transfer.reversals as { total_count?: number }).total_count = 0;
	em.store.transfers.set(id, transfer);
	const balances = em.store.connectedBalances.get(account.id) ?? new Map<string, number>();
	add(balances, init.currency, init.amount);
	em.store.connectedBalances.set(account.id, balances);
	em.emit("transfer.created", transfer, ctx);
	return transfer;
}

export interface NewReversal {
	amount?: number;
	description: string | null;
	metadata: Record<string, string>;
}

/** Gives back all or part of what is left of a transfer: platform up, destination down. */
export function reverseTransfer(
	em: StripeEmulator,
	transfer: Stripe.Transfer,
	init: NewReversal,
	ctx: RequestContext | null,
): Stripe.TransferReversal {
	const remaining = transfer.amount - transfer.amount_reversed;
	if (remaining <= 0) {
		throw invalidRequest(`Transfer ${transfer.id} has already been fully reversed.`, {
			code: "transfer_already_reversed",
		});
	}
	const amount = init.amount ?? remaining;
	if (amount > remaining) {
		throw invalidRequest(
			`Reversal amount (${formatAmount(amount, transfer.currency)}) is greater than the amount left on transfer ${transfer.id} (${formatAmount(remaining, transfer.currency)}).`,
			{ param: "amount" },
		);
	}
	const destination = transfer.destination as string;
	const balances = em.store.connectedBalances.get(destination) ?? new Map<string, number>();
	// Stripe reverses a plain transfer only while the destination can cover it.
	if ((balances.get(transfer.currency) ?? 0) < amount) {
		throw invalidRequest(
			`Insufficient funds in the destination account ${destination} to reverse ${formatAmount(amount, transfer.currency)}.`,
			{ code: "balance_insufficient" },
		);
	}
	const id = em.store.newId("trr");
	const txn = availableTransaction(em, {
		amount,
		currency: transfer.currency,
		type: "transfer_refund",
		reportingCategory: "transfer_reversal",
		source: id,
		fee: 0,
		description: init.description,
	});
	const reversal: Stripe.TransferReversal = {
		id,
		object: "transfer_reversal",
		amount,
		balance_transaction: txn.id,
		created: em.store.seconds(),
		currency: transfer.currency,
		destination_payment_refund: em.store.newId("pyr"),
		metadata: init.metadata,
		source_refund: null,
		transfer: transfer.id,
	};
	em.store.transferReversals.set(id, reversal);
	add(balances, transfer.currency, -amount);
	const previous = { amount_reversed: transfer.amount_reversed, reversed: transfer.reversed };
	transfer.amount_reversed += amount;
	transfer.reversed = transfer.amount_reversed >= transfer.amount;
	const reversals = transfer.reversals as Stripe.ApiList<Stripe.TransferReversal> & {
		total_count?: number;
	};
	reversals.data = [reversal, ...reversals.data].slice(0, 10);
	reversals.total_count = (reversals.total_count ?? 0) + 1;
	reversals.has_more = reversals.total_count > reversals.data.length;
	em.emit("transfer.reversed", transfer, ctx, previous);
	return reversal;
}

export function reversalsOf(em: StripeEmulator, transferId: string): Stripe.TransferReversal[] {
	return [...em.store.transferReversals.values()].filter((r) => r.transfer === transferId);
}
