/**
 * Itemisation of automatic payouts: every ledger transfer that moved a merchant's available
 * balance of a currency belongs to exactly one payout, so each payment, refund and conversion
 * reconciles to the payout that paid it (Stripe's balance transactions of a payout).
 */
import {
	isMerchantPayout,
	itemStatements,
	itemsThrough,
	ownDebitStatement,
	type PayoutItemRow,
	payoutItemsPage,
	type UnitemisedTransfer,
	unitemisedTransfers,
} from "../db/payout-items";
import { createdRunStatement, type ScheduleRunKey } from "../db/payout-schedules";
import { accounts } from "../domain/ledger";
import { itemisedPrefix } from "../domain/payout-schedule";
import { ApiError, notFound } from "../lib/errors";

/**
 * Transfers one automatic payout itemises at most: with the payout's own statements this stays
 * well inside one D1 batch. More waiting transfers are paid out on the next run.
 */
export const ITEMS_PER_PAYOUT = 500;

export interface ItemisationPlan {
	account: string;
	currency: string;
	items: UnitemisedTransfer[];
	/** The payout's amount: what the items sum to. */
	amount: bigint;
	/** Position of the newest item (the next run starts after it). */
	through: number;
}

/**
 * The transfers the next automatic payout of this balance includes, oldest first, and so its
 * amount: all of them (the whole balance) when they fit in one payout, else the oldest that do.
 */
export async function planItemisation(
	db: D1Database,
	q: { merchantId: string; livemode: boolean; currency: string; available: bigint },
	limit: number = ITEMS_PER_PAYOUT,
): Promise<ItemisationPlan> {
	const account = accounts.merchantAvailable(q.merchantId, q.livemode, q.currency);
	const after = await itemsThrough(db, q);
	const waiting = await unitemisedTransfers(db, account, after, limit);
	const { count, amount } = itemisedPrefix(waiting, q.available);
	const items = waiting.slice(0, count);
	return {
		account,
		currency: q.currency,
		items,
		amount,
		through: items[items.length - 1]?.position ?? after,
	};
}

/**
 * What goes into the payout's reservation batch: the items, the payout's own debit, and the day's
 * record (whose primary key makes a second payout for the same day fail as a whole).
 */
export function itemisationStatements(
	db: D1Database,
	plan: ItemisationPlan,
	payoutId: string,
	run: ScheduleRunKey,
	now: number,
): D1PreparedStatement[] {
	return [
		...itemStatements(db, payoutId, plan.account, plan.currency, plan.items),
		ownDebitStatement(db, payoutId, plan.account),
		createdRunStatement(db, run, payoutId, plan.through, now),
	];
}

export interface PayoutItemJson {
	object: "payout_item";
	/** The ledger transfer's id. */
	id: string;
	/** payment | refund | fee | conversion | adjustment | payout */
	type: string;
	/** Signed: what it added to (or took from) the available balance, minor or base units. */
	amount: string;
	currency: string;
	/** The payment, refund, conversion or payout the transfer belongs to. */
	source: string;
	created: number;
}

export function payoutItemJson(row: PayoutItemRow): PayoutItemJson {
	return {
		object: "payout_item",
		id: row.transfer_id,
		type: row.kind,
		amount: row.amount,
		currency: row.currency,
		source: row.reference,
		created: row.created,
	};
}

/** A page of a payout's items; another merchant's payout is a 404 like an unknown one. */
export async function listPayoutItems(
	db: D1Database,
	auth: { merchantId: string; livemode: boolean },
	payoutId: string,
	query: { limit: number; starting_after?: string | undefined; ending_before?: string | undefined },
): Promise<{ data: PayoutItemJson[]; has_more: boolean }> {
	if (query.starting_after !== undefined && query.ending_before !== undefined)
		throw new ApiError(
			"parameter_invalid",
			"Pass only one of starting_after and ending_before.",
			"ending_before",
		);
	if (!(await isMerchantPayout(db, payoutId, auth.merchantId, auth.livemode)))
		throw notFound("payout", payoutId);
	const page = await payoutItemsPage(db, payoutId, {
		limit: query.limit,
		startingAfter: query.starting_after,
		endingBefore: query.ending_before,
	});
	if (!page) {
		const param = query.starting_after !== undefined ? "starting_after" : "ending_before";
		throw new ApiError(
			"parameter_invalid",
			`'${query.starting_after ?? query.ending_before}' is not a transfer of this payout.`,
			param,
		);
	}
	return { data: page.data.map(payoutItemJson), has_more: page.has_more };
}
