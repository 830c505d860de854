/**
 * Automatic payouts, pure part: when a merchant's schedule makes it due, and which of its
 * available balances are paid out. A merchant's schedule and minimums live in its settings; the
 * daily cron asks these rules for each merchant and currency.
 */
import { destinationTypeFor } from "./payout";
import type { PayoutDestinationType } from "./payout-destination";

export const PAYOUT_INTERVALS = ["manual", "daily", "weekly"] as const;
export type PayoutInterval = (typeof PAYOUT_INTERVALS)[number];

/** Indexed like `Date.prototype.getUTCDay()`: 0 is Sunday. */
export const WEEKDAYS = [
	"sunday",
	"monday",
	"tuesday",
	"wednesday",
	"thursday",
	"friday",
	"saturday",
] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface PayoutSchedule {
	interval: PayoutInterval;
	/** The weekday a weekly schedule pays out on (UTC); Monday when not given, as Stripe does. */
	weekly_anchor?: Weekday;
}

export const DEFAULT_WEEKLY_ANCHOR: Weekday = "monday";

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The UTC weekday of a `YYYY-MM-DD` day. */
export function weekdayOf(date: string): Weekday {
	const m = DATE.exec(date);
	if (!m) throw new Error(`Not a YYYY-MM-DD date: ${date}`);
	const day = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))).getUTCDay();
	return WEEKDAYS[day] as Weekday;
}

/** Whether a merchant with this schedule (absent: manual) gets automatic payouts on a UTC day. */
export function isPayoutDue(schedule: PayoutSchedule | undefined, date: string): boolean {
	if (!schedule) return false;
	switch (schedule.interval) {
		case "manual":
			return false;
		case "daily":
			return true;
		case "weekly":
			return weekdayOf(date) === (schedule.weekly_anchor ?? DEFAULT_WEEKLY_ANCHOR);
	}
}

/** Why a balance is not paid out today. */
export type PayoutSkipReason =
	| "not_positive"
	| "below_minimum"
	/** No destination of the right kind can receive it (none, onboarding, cooling off, removed). */
	| "no_destination";

export type BalanceDecision =
	| { action: "pay"; currency: string; destinationType: PayoutDestinationType }
	| { action: "skip"; currency: string; reason: PayoutSkipReason };

/**
 * Whether one available balance is paid out: it must be above zero, at least the merchant's
 * minimum for that currency (decimal string of minor or base units; none means any positive
 * amount), and a destination of the currency's kind must be usable.
 */
export function decideBalance(input: {
	currency: string;
	available: bigint;
	minimum: bigint | undefined;
	destinationUsable: (type: PayoutDestinationType) => boolean;
}): BalanceDecision {
	const { currency, available } = input;
	if (available <= 0n) return { action: "skip", currency, reason: "not_positive" };
	if (input.minimum !== undefined && available < input.minimum)
		return { action: "skip", currency, reason: "below_minimum" };
	const destinationType = destinationTypeFor(currency);
	if (!input.destinationUsable(destinationType))
		return { action: "skip", currency, reason: "no_destination" };
	return { action: "pay", currency, destinationType };
}

/**
 * Which unitemised balance transfers (oldest first, at most what one batch holds) an automatic
 * payout includes, and so its amount: their sum, so the items always add up to the payout. When
 * all of them fit, the sum is the whole available balance. When some are left for the next day,
 * the longest run of the oldest whose sum is positive and covered by the balance is taken (old
 * credits ahead of a newer debit could otherwise add up to more than is available).
 */
export function itemisedPrefix(
	items: { amount: bigint }[],
	available: bigint,
): { count: number; amount: bigint } {
	let sum = 0n;
	let best = { count: 0, amount: 0n };
	items.forEach((item, i) => {
		sum += item.amount;
		if (sum > 0n && sum <= available) best = { count: i + 1, amount: sum };
	});
	return best;
}
