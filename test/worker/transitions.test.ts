import { describe, expect, it } from "vitest";
import type { TransitionResult } from "../../src/domain/payment";
import { PAYMENT_STATUSES, type PaymentStatus, TRANSITIONS } from "../../src/domain/payment-state";
import { createMerchant, createPayment } from "./helpers/api";
import {
	eventTypes,
	fireDueJobs,
	markSucceeded,
	paymentObject,
	projectedRow,
	transitionPayment,
} from "./helpers/objects";

type Stub = ReturnType<typeof paymentObject>;

/** Drives a payment's object into `status` through legal transitions only. */
async function reach(status: PaymentStatus): Promise<{ id: string; stub: Stub }> {
	const m = await createMerchant();
	const p = await createPayment(m.sk);
	const stub = paymentObject(p.id);
	const paths: Record<PaymentStatus, PaymentStatus[]> = {
		requires_payment: [],
		processing: ["processing"],
		requires_capture: ["requires_capture"],
		requires_review: ["processing", "requires_review"],
		succeeded: ["processing", "succeeded"],
		failed: ["failed"],
		canceled: ["canceled"],
		expired: ["expired"],
	};
	for (const step of paths[status]) await attempt(p.id, stub, step);
	expect((await stub.get())?.status).toBe(status);
	return { id: p.id, stub };
}

/** Asks the object for `to` by the same entry point the gateway uses for it. */
async function attempt(
	id: string,
	stub: Stub,
	to: PaymentStatus,
): Promise<TransitionResult | "alarm"> {
	switch (to) {
		case "processing":
		case "requires_capture":
		case "requires_review":
			return transitionPayment(id, to);
		case "succeeded":
			return markSucceeded(id, {
				amountReceived: 2500,
				processor: "solana",
				balance: "available",
			});
		case "failed":
			return transitionPayment(id, "failed", {
				code: "transaction_failed",
				message: "The transaction failed",
			});
		case "requires_payment":
			return transitionPayment(id, "requires_payment", {
				code: "card_declined",
				message: "Declined",
			});
		case "canceled":
			return stub.cancel(null);
		case "expired":
			// Expiry has no caller: it happens when the expiry alarm comes due.
			await fireDueJobs(id, ["expire"]);
			return "alarm";
	}
}

const pairs = PAYMENT_STATUSES.flatMap((from) => PAYMENT_STATUSES.map((to) => [from, to] as const));

describe("payment state machine", () => {
	it.each(pairs.filter(([from, to]) => TRANSITIONS[from].includes(to)))(
		"allows %s → %s, bumps the version, records the event and projects it",
		async (from, to) => {
			const { id, stub } = await reach(from);
			const before = await stub.get();
			const result = await attempt(id, stub, to);
			if (result !== "alarm") expect(result.ok).toBe(true);
			const after = await stub.get();
			expect(after?.status).toBe(to);
			expect(after?.version).toBe((before?.version ?? 0) + 1);
			expect((await eventTypes(id)).at(-1)).toBe(`payment.${to}`);
			expect(await projectedRow(id)).toMatchObject({ status: to, version: after?.version });
			expect((await stub.history()).at(-1)).toMatchObject({ from, to, version: after?.version });
		},
	);

	it.each(pairs.filter(([from, to]) => !TRANSITIONS[from].includes(to)))(
		"refuses %s → %s and changes nothing",
		async (from, to) => {
			const { id, stub } = await reach(from);
			const before = await stub.get();
			const eventsBefore = await eventTypes(id);
			const result = await attempt(id, stub, to);
			if (result !== "alarm") {
				expect(result).toEqual({
					ok: false,
					error: "illegal_transition",
					status: from,
					message: `This payment's status is '${from}'; it cannot become '${to}'.`,
				});
			}
			expect(await stub.get()).toEqual(before);
			expect(await eventTypes(id)).toEqual(eventsBefore);
		},
	);

	it("records amount_received and succeeded_at on success", async () => {
		const { id } = await reach("processing");
		const result = await markSucceeded(id, {
			amountReceived: 2600,
			processor: "solana",
			balance: "available",
		});
		expect(result.ok && result.payment.amount_received).toBe(2600);
		expect(result.ok && result.payment.succeeded_at).toBeTypeOf("number");
	});

	it("records the failure on failed and on a retryable failed attempt", async () => {
		const { id } = await reach("processing");
		const retry = await transitionPayment(id, "requires_payment", {
			code: "card_declined",
			message: "Declined",
		});
		expect(retry.ok && [retry.payment.status, retry.payment.failure_code]).toEqual([
			"requires_payment",
			"card_declined",
		]);
		const failed = await transitionPayment(id, "failed", {
			code: "transaction_failed",
			message: "Reverted",
		});
		expect(failed.ok && failed.payment.failure_message).toBe("Reverted");
	});

	it("reports an unknown payment as not_found", async () => {
		const result = await paymentObject("pay_0000000000ZZZZZZZZZZZZZZZZZZZZ").cancel(null);
		expect(result).toMatchObject({ ok: false, error: "not_found" });
	});
});
