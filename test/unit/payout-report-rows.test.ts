import { describe, expect, it } from "vitest";
import { type PayoutFields, payoutRows, transactionCells } from "../../src/domain/report-rows";

const payout = (patch: Partial<PayoutFields> = {}): PayoutFields => ({
	id: "po_1",
	status: "pending",
	method: "solana",
	amount: "2500000",
	currency: "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v",
	fee: null,
	fee_currency: null,
	automatic: 1,
	solana_signature: null,
	stripe_transfer_id: null,
	created: 1_000,
	updated: 1_000,
	...patch,
});

describe("payout rows of the transactions report", () => {
	it("a pending payout is one row: what it took from the balance", () => {
		expect(payoutRows(payout())).toEqual([
			expect.objectContaining({
				type: "payout",
				id: "po_1",
				amount: -2_500_000n,
				net: -2_500_000n,
				payment: null,
				description: "automatic payout",
			}),
		]);
	});

	it("a paid on-chain payout adds its network fee in its own currency", () => {
		const rows = payoutRows(
			payout({
				status: "paid",
				fee: "2044280",
				fee_currency: "sol",
				solana_signature: "sig",
				updated: 1_060,
			}),
		);
		expect(
			rows.map((r) => [r.type, r.amount, r.currency, r.created, r.processor_reference]),
		).toEqual([
			["payout", -2_500_000n, payout().currency, 1_000, "sig"],
			["payout_fee", -2_044_280n, "sol", 1_060, "sig"],
		]);
		const digits = (c: string) => (c === "sol" ? 9 : 6);
		expect(transactionCells(rows[1] as (typeof rows)[number], digits).slice(5, 8)).toEqual([
			-2_044_280n,
			"-0.002044280",
			"sol",
		]);
	});

	it("a failed or canceled payout gives the amount back in a row of its own, when it happened", () => {
		for (const status of ["failed", "canceled"]) {
			const rows = payoutRows(
				payout({ status, method: "stripe", currency: "usd", amount: "700", updated: 2_000 }),
			);
			expect(rows.map((r) => [r.type, r.amount, r.created])).toEqual([
				["payout", -700n, 1_000],
				["payout_return", 700n, 2_000],
			]);
			expect(rows.reduce((s, r) => s + r.net, 0n)).toBe(0n);
		}
	});
});
