import { describe, expect, it } from "vitest";
import {
	decideSettlement,
	type Receipt,
	requiredCommitment,
} from "../../src/domain/solana-settlement";

const receipt = (
	amount: bigint,
	commitment: Receipt["commitment"] = "confirmed",
	late = false,
): Receipt => ({
	signature: `sig${amount}`,
	amount,
	commitment,
	late,
});
const policy = {
	expected: 1_000n,
	underpaymentToleranceBps: 0,
	requiredCommitment: "confirmed" as const,
};

describe("settlement decision", () => {
	it("waits for payment while nothing arrived", () => {
		expect(decideSettlement([], policy)).toEqual({
			status: "requires_payment",
			received: 0n,
			outstanding: 1_000n,
		});
	});

	it("succeeds on the exact amount at the required commitment", () => {
		expect(decideSettlement([receipt(1_000n)], policy)).toEqual({
			status: "succeeded",
			received: 1_000n,
			excess: 0n,
		});
	});

	it("stays processing until finalized when the policy requires it", () => {
		const strict = { ...policy, requiredCommitment: "finalized" as const };
		expect(decideSettlement([receipt(1_000n)], strict)).toEqual({
			status: "processing",
			received: 1_000n,
		});
		expect(decideSettlement([receipt(1_000n, "finalized")], strict)).toMatchObject({
			status: "succeeded",
		});
	});

	it("keeps an underpaid payment open and adds top-ups", () => {
		expect(decideSettlement([receipt(400n)], policy)).toEqual({
			status: "requires_payment",
			received: 400n,
			outstanding: 600n,
		});
		expect(decideSettlement([receipt(400n), receipt(600n)], policy)).toMatchObject({
			status: "succeeded",
		});
	});

	it("accepts a shortfall within the tolerance", () => {
		const lenient = { ...policy, underpaymentToleranceBps: 50 };
		expect(decideSettlement([receipt(995n)], lenient)).toMatchObject({
			status: "succeeded",
			received: 995n,
		});
		expect(decideSettlement([receipt(994n)], lenient)).toMatchObject({
			status: "requires_payment",
		});
	});

	it("records the excess of an overpayment", () => {
		expect(decideSettlement([receipt(1_250n)], policy)).toEqual({
			status: "succeeded",
			received: 1_250n,
			excess: 250n,
		});
	});

	it("never counts a late payment toward the amount", () => {
		expect(decideSettlement([receipt(1_000n, "finalized", true)], policy)).toMatchObject({
			status: "requires_payment",
			received: 0n,
		});
	});

	it("requires finalized above the threshold only", () => {
		expect(requiredCommitment(10_000, 10_000)).toBe("confirmed");
		expect(requiredCommitment(10_001, 10_000)).toBe("finalized");
	});
});
