import { describe, expect, it } from "vitest";
import { destinationTypeFor } from "../../src/domain/payout";
import {
	decideBalance,
	isPayoutDue,
	itemisedPrefix,
	WEEKDAYS,
	weekdayOf,
} from "../../src/domain/payout-schedule";

const MINT = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v";
const always = () => true;

describe("payout schedule: when a merchant is due", () => {
	it("knows the UTC weekday of a day", () => {
		expect(weekdayOf("2026-12-07")).toBe("monday");
		expect(weekdayOf("2026-12-06")).toBe("sunday");
		expect(weekdayOf("2024-02-29")).toBe("thursday");
		expect(() => weekdayOf("2026-12-7")).toThrow();
	});

	it("never pays out a manual schedule or none", () => {
		expect(isPayoutDue(undefined, "2026-12-07")).toBe(false);
		expect(isPayoutDue({ interval: "manual" }, "2026-12-07")).toBe(false);
	});

	it("pays out a daily schedule every day", () => {
		for (let d = 1; d <= 14; d++)
			expect(isPayoutDue({ interval: "daily" }, `2026-12-${String(d).padStart(2, "0")}`)).toBe(
				true,
			);
	});

	it("pays out a weekly schedule only on its weekday, Monday when none is given", () => {
		const week = Array.from({ length: 7 }, (_, i) => `2026-12-${String(7 + i).padStart(2, "0")}`);
		for (const anchor of WEEKDAYS) {
			const due = week.filter((d) => isPayoutDue({ interval: "weekly", weekly_anchor: anchor }, d));
			expect(due).toHaveLength(1);
			expect(weekdayOf(due[0] as string)).toBe(anchor);
		}
		expect(week.filter((d) => isPayoutDue({ interval: "weekly" }, d))).toEqual(["2026-12-07"]);
	});
});

describe("payout schedule: which balances qualify", () => {
	it("sends fiat through Stripe Connect and tokens to a wallet", () => {
		expect(destinationTypeFor("usd")).toBe("stripe_account");
		expect(destinationTypeFor("jpy")).toBe("stripe_account");
		expect(destinationTypeFor("sol")).toBe("solana_wallet");
		expect(destinationTypeFor(MINT)).toBe("solana_wallet");
	});

	it("skips a balance that is zero or negative", () => {
		for (const available of [0n, -5n])
			expect(
				decideBalance({
					currency: "usd",
					available,
					minimum: undefined,
					destinationUsable: always,
				}),
			).toEqual({ action: "skip", currency: "usd", reason: "not_positive" });
	});

	it("skips a balance below the minimum and pays one at the minimum", () => {
		const base = { currency: "sol", minimum: 1_000_000n, destinationUsable: always };
		expect(decideBalance({ ...base, available: 999_999n })).toMatchObject({
			action: "skip",
			reason: "below_minimum",
		});
		expect(decideBalance({ ...base, available: 1_000_000n })).toEqual({
			action: "pay",
			currency: "sol",
			destinationType: "solana_wallet",
		});
	});

	it("skips a balance with no usable destination of its own kind", () => {
		const walletOnly = (t: string) => t === "solana_wallet";
		expect(
			decideBalance({
				currency: "usd",
				available: 500n,
				minimum: undefined,
				destinationUsable: walletOnly,
			}),
		).toEqual({ action: "skip", currency: "usd", reason: "no_destination" });
		expect(
			decideBalance({
				currency: MINT,
				available: 500n,
				minimum: undefined,
				destinationUsable: walletOnly,
			}),
		).toMatchObject({ action: "pay", destinationType: "solana_wallet" });
	});
});

describe("payout schedule: the itemised amount", () => {
	const items = (...amounts: bigint[]) => amounts.map((amount) => ({ amount }));

	it("takes every transfer when all fit: their sum is the balance", () => {
		expect(itemisedPrefix(items(100n, 250n, -50n), 300n)).toEqual({ count: 3, amount: 300n });
	});

	it("never takes more than is available: old credits ahead of a newer debit", () => {
		// The oldest two sum to 350 but only 300 is available (a later debit of 50 is not in the batch).
		expect(itemisedPrefix(items(100n, 250n), 300n)).toEqual({ count: 1, amount: 100n });
	});

	it("takes nothing when no run of the oldest is positive", () => {
		expect(itemisedPrefix(items(-100n, 50n), 500n)).toEqual({ count: 0, amount: 0n });
		expect(itemisedPrefix([], 500n)).toEqual({ count: 0, amount: 0n });
	});

	it("the items taken always sum to the amount", () => {
		const list = items(7n, -3n, 11n, 5n, -20n, 40n);
		for (let available = 0n; available < 60n; available++) {
			const { count, amount } = itemisedPrefix(list, available);
			expect(list.slice(0, count).reduce((s, i) => s + i.amount, 0n)).toBe(amount);
			expect(amount <= available).toBe(true);
		}
	});
});
