import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { TransferKind } from "../../src/domain/ledger";
import {
	balancesAt,
	computeSettlement,
	isReconciled,
	type MovementSum,
	type SettlementLine,
} from "../../src/domain/settlement";

const m = (kind: TransferKind, currency: string, credits: bigint, debits = 0n): MovementSum => ({
	kind,
	currency,
	credits,
	debits,
});

describe("settlement statement", () => {
	it("shows a crypto payment at its gross, the gateway's fee apart, and reconciles", () => {
		// Paid 1,000,000 lamports: 990,000 to the merchant, 10,000 to the gateway.
		const [line] = computeSettlement({
			opening: new Map([["sol", 5_000n]]),
			movements: [m("payment", "sol", 990_000n)],
			gatewayFees: [{ kind: "payment", currency: "sol", amount: 10_000n }],
			ledgerClosing: new Map([["sol", 995_000n]]),
		});
		expect(line).toEqual({
			currency: "sol",
			opening_balance: 5_000n,
			payments: 1_000_000n,
			refunds: 0n,
			fees: -10_000n,
			conversions_in: 0n,
			conversions_out: 0n,
			adjustments: 0n,
			payouts: 0n,
			payouts_returned: 0n,
			closing_balance: 995_000n,
			ledger_balance: 995_000n,
			difference: 0n,
			payouts_paid: 0n,
			payouts_in_transit: 0n,
		});
	});

	it("books card funds moving from pending to available as no movement at all", () => {
		const [line] = computeSettlement({
			opening: new Map([["usd", 9_680n]]),
			movements: [m("payment", "usd", 9_680n, -9_680n)],
			gatewayFees: [],
			ledgerClosing: new Map([["usd", 9_680n]]),
		});
		expect(line?.payments).toBe(0n);
		expect(line?.closing_balance).toBe(9_680n);
		expect(line?.difference).toBe(0n);
	});

	it("splits a card payment, Stripe's fee, a refund and a dispute into their columns", () => {
		const [line] = computeSettlement({
			opening: new Map(),
			movements: [
				m("payment", "usd", 10_000n),
				m("fee", "usd", 0n, -320n),
				m("refund", "usd", 0n, -4_000n),
				m("adjustment", "usd", 0n, -1_000n),
			],
			gatewayFees: [],
			ledgerClosing: new Map([["usd", 4_680n]]),
		});
		expect(line).toMatchObject({
			payments: 10_000n,
			fees: -320n,
			refunds: -4_000n,
			adjustments: -1_000n,
			closing_balance: 4_680n,
			difference: 0n,
		});
	});

	it("shows a conversion out of SOL and into dollars, the spread as a fee", () => {
		const lines = computeSettlement({
			opening: new Map([["sol", 1_000_000n]]),
			movements: [m("conversion", "sol", 0n, -1_000_000n), m("conversion", "usd", 2_490n)],
			gatewayFees: [{ kind: "conversion", currency: "usd", amount: 10n }],
			ledgerClosing: new Map([
				["sol", 0n],
				["usd", 2_490n],
			]),
		});
		expect(lines.map((l) => l.currency)).toEqual(["sol", "usd"]);
		expect(lines[0]).toMatchObject({ conversions_out: -1_000_000n, closing_balance: 0n });
		expect(lines[1]).toMatchObject({
			conversions_in: 2_500n,
			fees: -10n,
			closing_balance: 2_490n,
			difference: 0n,
		});
		expect(isReconciled(lines)).toBe(true);
	});

	it("reports the difference when the ledger disagrees with opening + movements", () => {
		const lines = computeSettlement({
			opening: new Map([["usd", 100n]]),
			movements: [m("payment", "usd", 50n)],
			gatewayFees: [],
			ledgerClosing: new Map([["usd", 175n]]),
		});
		expect(lines[0]?.closing_balance).toBe(150n);
		expect(lines[0]?.difference).toBe(-25n);
		expect(isReconciled(lines)).toBe(false);
	});

	it("leaves out currencies with nothing to show", () => {
		expect(
			computeSettlement({
				opening: new Map([["eur", 0n]]),
				movements: [],
				gatewayFees: [],
				ledgerClosing: new Map([["eur", 0n]]),
			}),
		).toEqual([]);
	});

	it("derives an earlier balance from today's minus what was posted since", () => {
		expect(
			balancesAt(
				new Map([
					["usd", 1_000n],
					["sol", 5n],
				]),
				new Map([
					["usd", 300n],
					["eur", 7n],
				]),
			),
		).toEqual(
			new Map([
				["usd", 700n],
				["sol", 5n],
				["eur", -7n],
			]),
		);
	});

	it("always reconciles when the ledger balance is the opening plus the period's postings", () => {
		const kinds: TransferKind[] = ["payment", "refund", "fee", "conversion", "adjustment"];
		const amount = fc.bigInt({ min: -1_000_000_000n, max: 1_000_000_000n });
		fc.assert(
			fc.property(
				amount,
				fc.array(
					fc.record({
						kind: fc.constantFrom(...kinds),
						credits: fc.bigInt({ min: 0n, max: 1_000_000_000n }),
						debits: fc.bigInt({ min: -1_000_000_000n, max: 0n }),
						fee: fc.bigInt({ min: 0n, max: 1_000_000n }),
					}),
					{ maxLength: 12 },
				),
				(opening, moves) => {
					// One movement per kind (as the query groups them), the gateway's fee beside it.
					const byKind = new Map(moves.map((x) => [x.kind, x]));
					const movements = [...byKind.values()].map((x) => m(x.kind, "usd", x.credits, x.debits));
					const gatewayFees = [...byKind.values()].map((x) => ({
						kind: x.kind,
						currency: "usd",
						amount: x.fee,
					}));
					const posted = movements.reduce((s, x) => s + x.credits + x.debits, 0n);
					const lines = computeSettlement({
						opening: new Map([["usd", opening]]),
						movements,
						gatewayFees,
						ledgerClosing: new Map([["usd", opening + posted]]),
					});
					return isReconciled(lines);
				},
			),
		);
	});

	it("takes payouts out of the balance when created and back when they fail, and still reconciles", () => {
		// Opening 10,000: payouts of 6,000 and 3,000 were created; the 3,000 one failed and came
		// back; of the 6,000 one, 6,000 reached the bank; a third payout of 500 is still on its way.
		const [line] = computeSettlement({
			opening: new Map([["usd", 10_000n]]),
			movements: [m("payout", "usd", 3_000n, -9_500n)],
			gatewayFees: [],
			ledgerClosing: new Map([["usd", 3_500n]]),
			payoutStatus: [{ currency: "usd", paid: 6_000n, inTransit: 500n }],
		});
		expect(line).toMatchObject({
			payouts: -9_500n,
			payouts_returned: 3_000n,
			closing_balance: 3_500n,
			difference: 0n,
			payouts_paid: 6_000n,
			payouts_in_transit: 500n,
		});
		expect(isReconciled([line as SettlementLine])).toBe(true);
	});

	it("shows a currency whose only news is a payout paid out of an earlier period's balance", () => {
		const lines = computeSettlement({
			opening: new Map(),
			movements: [],
			gatewayFees: [],
			ledgerClosing: new Map(),
			payoutStatus: [{ currency: "sol", paid: 1_000n, inTransit: 0n }],
		});
		expect(lines).toEqual([expect.objectContaining({ currency: "sol", payouts_paid: 1_000n })]);
	});
});
