import { describe, expect, it } from "vitest";
import { validateTransfer } from "../../src/domain/ledger";
import {
	canPayoutTransition,
	isFinalStatus,
	PAYOUT_STATUSES,
	type PayoutRecord,
	type PayoutToken,
	parsePayoutAmount,
	parsePayoutCurrency,
	payoutEventFor,
	payoutFeeEstimate,
	toApiPayout,
} from "../../src/domain/payout";
import {
	payoutFeeCharged,
	payoutFeeReserveTransfer,
	payoutFeeReturnTransfer,
	payoutNetworkFeeTransfer,
	payoutPaidTransfer,
	payoutReleaseTransfers,
	payoutReserveTransfer,
	payoutReversalTransfer,
} from "../../src/domain/payout-ledger";

const USDC = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v";
const TOKENS: PayoutToken[] = [
	{ symbol: "SOL", mint: null, decimals: 9, program: null },
	{
		symbol: "USDC",
		mint: USDC,
		decimals: 6,
		program: "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA",
	},
];

function payout(patch: Partial<PayoutRecord> = {}): PayoutRecord {
	return {
		id: "po_01JD4X7K3M9ZQ8W6V5T4S3R2P1N0M9",
		merchant_id: "mch_1",
		livemode: false,
		amount: "2500000",
		currency: USDC,
		destination_id: "pd_1",
		method: "solana",
		status: "pending",
		automatic: false,
		fee: null,
		fee_currency: null,
		failure_code: null,
		failure_message: null,
		solana_signature: null,
		stripe_transfer_id: null,
		fee_reserved: null,
		creates_token_account: false,
		amount_reversed: "0",
		version: 1,
		created: 1,
		updated: 1,
		...patch,
	};
}

describe("payout statuses", () => {
	it("allows pending → in_transit → paid | failed and pending → canceled | failed, nothing else", () => {
		const allowed = PAYOUT_STATUSES.flatMap((from) =>
			PAYOUT_STATUSES.filter((to) => canPayoutTransition(from, to)).map((to) => `${from}>${to}`),
		);
		expect(allowed.sort()).toEqual(
			[
				"in_transit>failed",
				"in_transit>paid",
				"pending>canceled",
				"pending>failed",
				"pending>in_transit",
			].sort(),
		);
		expect(PAYOUT_STATUSES.filter(isFinalStatus)).toEqual(["paid", "failed", "canceled"]);
	});

	it("names the outcome event of each final status, none for in_transit", () => {
		expect(PAYOUT_STATUSES.map(payoutEventFor)).toEqual([
			null,
			null,
			"payout.paid",
			"payout.failed",
			"payout.canceled",
		]);
	});
});

describe("parsePayoutCurrency", () => {
	it("takes token symbols in any case, mints, and lowercase fiat codes", () => {
		expect(parsePayoutCurrency("sol", TOKENS)).toMatchObject({ kind: "token", currency: "sol" });
		expect(parsePayoutCurrency("USDC", TOKENS)).toMatchObject({ kind: "token", currency: USDC });
		expect(parsePayoutCurrency(USDC, TOKENS)).toMatchObject({ kind: "token", currency: USDC });
		expect(parsePayoutCurrency("usd", TOKENS)).toEqual({ kind: "fiat", currency: "usd" });
	});

	it("refuses unknown currencies, non-strings and inherited names", () => {
		for (const bad of ["xyz", "USD", "", "constructor", 5, null, "a".repeat(65)]) {
			expect(() => parsePayoutCurrency(bad, TOKENS)).toThrow(/currency/i);
		}
	});
});

describe("parsePayoutAmount", () => {
	const usdc = parsePayoutCurrency("usdc", TOKENS);
	const usd = parsePayoutCurrency("usd", TOKENS);

	it("takes digit strings and safe integers", () => {
		expect(parsePayoutAmount("2500000", usdc)).toBe(2_500_000n);
		expect(parsePayoutAmount(1500, usd)).toBe(1500n);
		expect(parsePayoutAmount("1500", usd)).toBe(1500n);
		expect(parsePayoutAmount("9223372036854775807", usdc)).toBe(9_223_372_036_854_775_807n);
	});

	it("refuses zero, negatives, floats, decimals, exponents, leading zeros and huge values", () => {
		const bad: unknown[] = [
			0,
			"0",
			-5,
			"-5",
			1.5,
			"1.5",
			"1e6",
			"0012",
			" 12",
			Number.MAX_SAFE_INTEGER + 2,
			Number.NaN,
			"9223372036854775808",
			"1".repeat(41),
			null,
			undefined,
			{},
		];
		for (const value of bad) expect(() => parsePayoutAmount(value, usdc), String(value)).toThrow();
		expect(() => parsePayoutAmount(1_000_000_000_000, usd)).toThrow(/at most/);
	});
});

describe("payout ledger transfers", () => {
	it("reserve, paid, reversal and fee transfers are balanced, in the payout's mode, with ids from the payout", () => {
		const p = payout();
		const transfers = [
			payoutReserveTransfer(p, 10),
			payoutPaidTransfer(p, 10),
			payoutReversalTransfer(p, 10),
			payoutNetworkFeeTransfer(p, 2_044_280n, 10),
		];
		for (const t of transfers) expect(() => validateTransfer(t as never)).not.toThrow();
		expect(transfers.map((t) => t?.id)).toEqual([
			`${p.id}:reserve`,
			`${p.id}:paid`,
			`${p.id}:reversal`,
			`${p.id}:network_fee`,
		]);
		expect(transfers[0]?.postings).toEqual([
			{ account: `test:merchant:mch_1:${USDC}:available`, currency: USDC, amount: -2_500_000n },
			{ account: `test:payouts:in_transit:${USDC}`, currency: USDC, amount: 2_500_000n },
		]);
		expect(transfers[1]?.postings[1]?.account).toBe(`test:settlement:solana:${USDC}`);
		expect(transfers[2]?.postings[1]?.account).toBe(`test:merchant:mch_1:${USDC}:available`);
		expect(transfers[3]?.postings).toEqual([
			{ account: "test:merchant:mch_1:sol:available", currency: "sol", amount: -2_044_280n },
			{ account: "test:settlement:solana:sol", currency: "sol", amount: 2_044_280n },
		]);
		expect(payoutNetworkFeeTransfer(p, 0n, 10)).toBeNull();
	});

	it("charges a reserved fee from the reserve, at most the reserve (the rest is the gateway's), and returns what is left", () => {
		const p = payout({ fee_reserved: "5000" });
		const reserve = payoutFeeReserveTransfer(p, 10);
		expect(reserve?.postings).toEqual([
			{ account: "test:merchant:mch_1:sol:available", currency: "sol", amount: -5000n },
			{ account: "test:payouts:in_transit:sol", currency: "sol", amount: 5000n },
		]);
		// Cost within the reserve: charged from it; nothing returned.
		expect(payoutFeeCharged(p, 5000n)).toBe(5000n);
		expect(payoutFeeReturnTransfer(p, 5000n, 10)).toBeNull();
		expect(payoutNetworkFeeTransfer(p, 5000n, 10)?.postings).toEqual([
			{ account: "test:payouts:in_transit:sol", currency: "sol", amount: -5000n },
			{ account: "test:settlement:solana:sol", currency: "sol", amount: 5000n },
		]);
		// A cost beyond the reserve (rent it never agreed to): the merchant pays the reserve only.
		expect(payoutFeeCharged(p, 2_044_280n)).toBe(5000n);
		const beyond = payoutNetworkFeeTransfer(p, 2_044_280n, 10);
		expect(beyond?.postings).toEqual([
			{ account: "test:gateway:fees:sol", currency: "sol", amount: -2_039_280n },
			{ account: "test:payouts:in_transit:sol", currency: "sol", amount: -5000n },
			{ account: "test:settlement:solana:sol", currency: "sol", amount: 2_044_280n },
		]);
		// Nothing sent: the whole reserve comes back.
		const released = payoutReleaseTransfers(p, 10);
		expect(released[1]?.postings).toEqual([
			{ account: "test:payouts:in_transit:sol", currency: "sol", amount: -5000n },
			{ account: "test:merchant:mch_1:sol:available", currency: "sol", amount: 5000n },
		]);
		for (const t of [reserve, beyond, ...released])
			expect(() => validateTransfer(t as never)).not.toThrow();
		// No reserve (Stripe, or a payout from before reserves): nothing reserved or returned.
		expect(payoutFeeReserveTransfer(payout(), 10)).toBeNull();
		expect(payoutFeeReturnTransfer(payout(), 0n, 10)).toBeNull();
	});

	it("pays a Stripe payout into the Stripe settlement account, in live mode when live", () => {
		const p = payout({ method: "stripe", currency: "usd", amount: "1500", livemode: true });
		expect(payoutPaidTransfer(p, 1).postings[1]?.account).toBe("live:settlement:stripe:usd");
	});
});

describe("payout API shape and fees", () => {
	it("shows token amounts as strings and fiat as integers", () => {
		expect(toApiPayout(payout({ fee: "5000", fee_currency: "sol" }))).toMatchObject({
			object: "payout",
			amount: "2500000",
			fee: "5000",
		});
		expect(
			toApiPayout(
				payout({
					method: "stripe",
					currency: "usd",
					amount: "1500",
					fee: "0",
					fee_currency: "usd",
				}),
			),
		).toMatchObject({ amount: 1500, fee: 0 });
	});

	it("estimates the fee with the token account rent only when the account is missing", () => {
		const base = { signatureFee: 5000n, tokenAccountRent: 2_039_280n };
		expect(payoutFeeEstimate({ ...base, tokenAccountExists: true })).toBe(5000n);
		expect(payoutFeeEstimate({ ...base, tokenAccountExists: false })).toBe(2_044_280n);
	});
});
