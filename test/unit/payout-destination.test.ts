import { describe, expect, it } from "vitest";
import { assertEnv, payoutCoolingOffSeconds } from "../../src/config";
import {
	judgeDestination,
	type PayoutDestinationRow,
	toApiDestination,
	usableAfterFor,
} from "../../src/domain/payout-destination";
import type { Env } from "../../src/env";

const NOW = 1_800_000_000;

function row(overrides: Partial<PayoutDestinationRow> = {}): PayoutDestinationRow {
	return {
		id: "pd_1",
		merchant_id: "mch_1",
		livemode: 1,
		type: "solana_wallet",
		address: "11111111111111111111111111111111",
		stripe_account_id: null,
		status: "active",
		is_default: 1,
		usable_after: NOW - 1,
		created: NOW - 100,
		updated: NOW - 100,
		removed: null,
		...overrides,
	};
}

describe("judgeDestination", () => {
	it("accepts an active destination of the payout's type whose cooling-off has passed", () => {
		expect(judgeDestination(row(), "solana_wallet", NOW)).toEqual({ ok: true, destination: row() });
		expect(judgeDestination(row({ usable_after: NOW }), "solana_wallet", NOW).ok).toBe(true);
	});

	it("says cooling_off with the time it becomes usable", () => {
		const judged = judgeDestination(row({ usable_after: NOW + 1 }), "solana_wallet", NOW);
		expect(judged).toMatchObject({ ok: false, reason: "cooling_off", usable_after: NOW + 1 });
	});

	it("refuses a removed, an onboarding and a destination of the other type", () => {
		expect(judgeDestination(row({ status: "removed" }), "solana_wallet", NOW)).toMatchObject({
			ok: false,
			reason: "removed",
		});
		expect(
			judgeDestination(
				row({ type: "stripe_account", status: "onboarding" }),
				"stripe_account",
				NOW,
			),
		).toMatchObject({ ok: false, reason: "onboarding" });
		expect(judgeDestination(row(), "stripe_account", NOW)).toMatchObject({
			ok: false,
			reason: "wrong_type",
		});
	});
});

describe("usableAfterFor", () => {
	it("adds the cooling-off period in live mode only", () => {
		expect(usableAfterFor(true, NOW, 86_400)).toBe(NOW + 86_400);
		expect(usableAfterFor(false, NOW, 86_400)).toBe(NOW);
	});
});

describe("toApiDestination", () => {
	it("shows booleans and the stripe account under API names", () => {
		const api = toApiDestination(row({ is_default: 0, livemode: 0 }));
		expect(api).toMatchObject({ object: "payout_destination", default: false, livemode: false });
		expect(api.stripe_account).toBeNull();
	});
});

describe("PAYOUT_DESTINATION_COOLING_OFF_SECONDS", () => {
	const base = {
		SESSION_SECRET: "s".repeat(32),
		ENVIRONMENT: "test",
		PUBLIC_BASE_URL: "http://127.0.0.1:8787",
		SOLANA_RPC_URLS: "http://127.0.0.1:8899",
		SOLANA_SETTLEMENT_WALLET: "9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM",
		DB: {},
		PAYMENTS: {},
	} as unknown as Env;

	it("defaults to a day and reads whole seconds", () => {
		expect(payoutCoolingOffSeconds({})).toBe(86_400);
		expect(payoutCoolingOffSeconds({ PAYOUT_DESTINATION_COOLING_OFF_SECONDS: "0" })).toBe(0);
		expect(payoutCoolingOffSeconds({ PAYOUT_DESTINATION_COOLING_OFF_SECONDS: "3600" })).toBe(3600);
	});

	it("refuses anything but whole seconds at start-up", () => {
		expect(() =>
			assertEnv({ ...base, PAYOUT_DESTINATION_COOLING_OFF_SECONDS: "3600" }),
		).not.toThrow();
		for (const bad of ["", "-1", "1.5", "1e5", "a day"]) {
			expect(
				() => assertEnv({ ...base, PAYOUT_DESTINATION_COOLING_OFF_SECONDS: bad }),
				bad,
			).toThrow(/PAYOUT_DESTINATION_COOLING_OFF_SECONDS/);
		}
	});
});
