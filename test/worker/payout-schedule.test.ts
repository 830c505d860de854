import { describe, expect, it } from "vitest";
import { call, createMerchant, expectApiError, json } from "./helpers/api";
import { USDC_MINT } from "./helpers/solana";

interface PayoutSettings {
	payout_schedule: { interval: string; weekly_anchor: string | null };
	payout_minimums: Record<string, string>;
}

const settings = (key: string, body: unknown) => call("POST", "/v1/settings", { key, body });

describe("payout settings", () => {
	it("are manual with no minimums until changed", async () => {
		const m = await createMerchant();
		const got = await json<PayoutSettings>(await call("GET", "/v1/settings", { key: m.sk }));
		expect(got.payout_schedule).toEqual({ interval: "manual", weekly_anchor: null });
		expect(got.payout_minimums).toEqual({});
	});

	it("keep a weekly schedule's weekday, Monday when none is given", async () => {
		const m = await createMerchant();
		const weekly = await settings(m.sk, { payout_schedule: { interval: "weekly" } });
		expect(weekly.status).toBe(200);
		expect((await json<PayoutSettings>(weekly)).payout_schedule).toEqual({
			interval: "weekly",
			weekly_anchor: "monday",
		});
		const friday = await settings(m.sk, {
			payout_schedule: { interval: "weekly", weekly_anchor: "friday" },
		});
		expect((await json<PayoutSettings>(friday)).payout_schedule.weekly_anchor).toBe("friday");
		const daily = await settings(m.sk, { payout_schedule: { interval: "daily" } });
		expect((await json<PayoutSettings>(daily)).payout_schedule).toEqual({
			interval: "daily",
			weekly_anchor: null,
		});
		// Other settings are left as they were.
		const again = await json<PayoutSettings & { extra_funds: string }>(
			await call("GET", "/v1/settings", { key: m.sk }),
		);
		expect(again.payout_schedule.interval).toBe("daily");
		expect(again.extra_funds).toBe("refund");
	});

	it("refuse an unknown interval or weekday, and a weekday on a daily schedule", async () => {
		const m = await createMerchant();
		await expectApiError(
			await settings(m.sk, { payout_schedule: { interval: "hourly" } }),
			"parameter_invalid",
			"payout_schedule[interval]",
		);
		await expectApiError(
			await settings(m.sk, { payout_schedule: { interval: "weekly", weekly_anchor: "funday" } }),
			"parameter_invalid",
			"payout_schedule[weekly_anchor]",
		);
		await expectApiError(
			await settings(m.sk, { payout_schedule: { interval: "daily", weekly_anchor: "monday" } }),
			"parameter_invalid",
			"payout_schedule[weekly_anchor]",
		);
		const got = await json<PayoutSettings>(await call("GET", "/v1/settings", { key: m.sk }));
		expect(got.payout_schedule.interval).toBe("manual");
	});

	it("key minimums by ledger currency, amounts as decimal strings", async () => {
		const m = await createMerchant();
		const res = await settings(m.sk, {
			payout_minimums: { usd: 5000, SOL: "100000000", usdc: "1000000" },
		});
		expect(res.status).toBe(200);
		expect((await json<PayoutSettings>(res)).payout_minimums).toEqual({
			usd: "5000",
			sol: "100000000",
			[USDC_MINT]: "1000000",
		});
		// A token named by its mint is the same currency.
		const byMint = await settings(m.sk, {
			payout_minimums: { [USDC_MINT]: "18446744073709551615" },
		});
		expect((await json<PayoutSettings>(byMint)).payout_minimums).toEqual({
			[USDC_MINT]: "18446744073709551615",
		});
		const cleared = await settings(m.sk, { payout_minimums: null });
		expect((await json<PayoutSettings>(cleared)).payout_minimums).toEqual({});
	});

	it("refuse a minimum in an unknown currency, negative, fractional, too large or named twice", async () => {
		const m = await createMerchant();
		await settings(m.sk, { payout_minimums: { usd: "100" } });
		const cases: [Record<string, unknown>, string][] = [
			[{ doge: "1" }, "payout_minimums[doge]"],
			[{ USD: "1" }, "payout_minimums[USD]"],
			[{ usd: "-5" }, "payout_minimums[usd]"],
			[{ usd: -5 }, "payout_minimums[usd]"],
			[{ usd: "1.5" }, "payout_minimums[usd]"],
			[{ usd: "1e3" }, "payout_minimums[usd]"],
			[{ sol: "18446744073709551616" }, "payout_minimums[sol]"],
			[{ sol: "1", SOL: "2" }, "payout_minimums[SOL]"],
		];
		for (const [body, param] of cases)
			await expectApiError(
				await settings(m.sk, { payout_minimums: body }),
				"parameter_invalid",
				param,
			);
		await expectApiError(
			await settings(m.sk, { payout_minimums: { usd: 1.5 } }),
			"parameter_invalid",
			"payout_minimums[usd]",
		);
		// Nothing refused was stored.
		const got = await json<PayoutSettings>(await call("GET", "/v1/settings", { key: m.sk }));
		expect(got.payout_minimums).toEqual({ usd: "100" });
	});
});
