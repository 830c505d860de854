import { describe, expect, it } from "vitest";
import {
	assertTransition,
	canTransition,
	eventTypeFor,
	IllegalTransitionError,
	isTerminal,
	PAYMENT_STATUSES,
	TERMINAL_STATUSES,
	TRANSITIONS,
} from "../../src/domain/payment-state";

describe("payment state machine table", () => {
	it("has exactly the documented legal transitions", () => {
		const legal = PAYMENT_STATUSES.flatMap((from) =>
			PAYMENT_STATUSES.filter((to) => canTransition(from, to)).map((to) => `${from}→${to}`),
		);
		expect(legal).toEqual([
			"requires_payment→processing",
			"requires_payment→requires_capture",
			"requires_payment→requires_review",
			"requires_payment→succeeded",
			"requires_payment→expired",
			"requires_payment→canceled",
			"requires_payment→failed",
			"processing→requires_payment",
			"processing→requires_capture",
			"processing→requires_review",
			"processing→succeeded",
			"processing→failed",
			"requires_capture→succeeded",
			"requires_capture→expired",
			"requires_capture→canceled",
			"requires_capture→failed",
			"requires_review→succeeded",
			"requires_review→failed",
		]);
	});

	it("makes succeeded, expired, canceled and failed terminal", () => {
		expect([...TERMINAL_STATUSES].sort()).toEqual(["canceled", "expired", "failed", "succeeded"]);
		for (const s of TERMINAL_STATUSES) expect(isTerminal(s)).toBe(true);
		expect(isTerminal("requires_payment")).toBe(false);
		expect(isTerminal("processing")).toBe(false);
	});

	it("never allows a status to transition to itself", () => {
		for (const s of PAYMENT_STATUSES) expect(TRANSITIONS[s]).not.toContain(s);
	});

	it("throws IllegalTransitionError naming both statuses", () => {
		expect(() => assertTransition("succeeded", "canceled")).toThrow(IllegalTransitionError);
		expect(() => assertTransition("succeeded", "canceled")).toThrow(
			"A payment in status 'succeeded' cannot become 'canceled'",
		);
		expect(() => assertTransition("requires_payment", "processing")).not.toThrow();
	});

	it("names events after the new status", () => {
		expect(eventTypeFor("succeeded")).toBe("payment.succeeded");
	});
});
