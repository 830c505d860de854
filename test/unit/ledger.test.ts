import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
	accounts,
	paymentReceivedTransfer,
	transferFingerprint,
	transferFromJson,
	transferToJson,
	validateTransfer,
} from "../../src/domain/ledger";

describe("ledger (pure)", () => {
	it("names accounts with the mode first so test and live money never meet", () => {
		expect(accounts.merchantAvailable("mch_1", false, "usd")).toBe(
			"test:merchant:mch_1:usd:available",
		);
		expect(accounts.merchantPending("mch_1", true, "usd")).toBe("live:merchant:mch_1:usd:pending");
		expect(accounts.gatewayFees(true, "usd")).toBe("live:gateway:fees:usd");
		expect(accounts.settlement(false, "solana", "usd")).toBe("test:settlement:solana:usd");
	});

	it("builds a balanced payment transfer to available or pending", () => {
		const base = {
			paymentId: "pay_1",
			merchantId: "mch_1",
			livemode: false,
			currency: "usd",
			amount: 2500n,
			processor: "stripe",
			created: 1,
		};
		const available = paymentReceivedTransfer({ ...base, balance: "available" });
		expect(available).toEqual({
			id: "pay_1:received",
			kind: "payment",
			reference: "pay_1",
			livemode: false,
			created: 1,
			postings: [
				{ account: "test:settlement:stripe:usd", currency: "usd", amount: -2500n },
				{ account: "test:merchant:mch_1:usd:available", currency: "usd", amount: 2500n },
			],
		});
		expect(() => validateTransfer(available)).not.toThrow();
		const pending = paymentReceivedTransfer({ ...base, balance: "pending" });
		expect(pending.postings[1]?.account).toBe("test:merchant:mch_1:usd:pending");
	});

	it("round-trips transfers through JSON without losing bigint precision", () => {
		fc.assert(
			fc.property(fc.bigInt({ min: 1n, max: 2n ** 63n - 1n }), (amount) => {
				const t = paymentReceivedTransfer({
					paymentId: "pay_1",
					merchantId: "mch_1",
					livemode: true,
					currency: "lamports",
					amount,
					processor: "solana",
					balance: "available",
					created: 0,
				});
				const back = transferFromJson(JSON.parse(JSON.stringify(transferToJson(t))));
				expect(back).toEqual(t);
				expect(transferFingerprint(back)).toBe(transferFingerprint(t));
			}),
		);
	});

	it("fingerprints differ when any posting differs", () => {
		const t = paymentReceivedTransfer({
			paymentId: "pay_1",
			merchantId: "mch_1",
			livemode: false,
			currency: "usd",
			amount: 1n,
			processor: "solana",
			balance: "available",
			created: 0,
		});
		const other = { ...t, postings: t.postings.map((p) => ({ ...p, amount: p.amount * 2n })) };
		expect(transferFingerprint(other)).not.toBe(transferFingerprint(t));
	});

	it("rejects postings beyond the signed 64-bit range", () => {
		const huge = 2n ** 63n;
		expect(() =>
			validateTransfer({
				id: "t",
				kind: "adjustment",
				reference: "r",
				livemode: false,
				created: 0,
				postings: [
					{ account: "test:a", currency: "x", amount: huge },
					{ account: "test:b", currency: "x", amount: -huge },
				],
			}),
		).toThrow("64-bit");
	});
});
