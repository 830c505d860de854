import {
	automaticRefundMinimum,
	extraFundsMethod,
	MAX_AUTOMATIC_CRYPTO_REFUNDS,
} from "../../src/domain/extra-funds";
import { newId } from "../../src/domain/ids";
import type { PaymentRecord } from "../../src/domain/payment";
import type { RefundRecord, RefundResult } from "../../src/domain/refund";
import {
	bookCardRefundsSeen,
	bookRefundFailed,
	bookRefundSucceeded,
	type RefundBooking,
	type RefundDraw,
	type RefundFailure,
	type RefundOutcome,
	refundAvailableDraw,
} from "../../src/domain/refund-booking";
import { cardRefundsInFlight } from "../../src/domain/refund-held";
import { planRefund, type RefundRequest } from "../../src/domain/refund-plan";
import { paidByPayer } from "../../src/domain/solana-receipts";
import { log } from "../../src/lib/log";
import { extraFundsAction } from "../../src/services/merchants";
import type { PaymentCore } from "./core";
import { readReceipts } from "./receipts";
import {
	paymentHeldByPayer,
	paymentHeldFunds,
	readRefund,
	readRefunds,
	saveRefund,
} from "./refund-store";

/**
 * The refund side of a payment: refunds planned against every refund before them and reserved
 * in the same synchronous step, their progress and outcome booked once, and the automatic refund
 * of funds by the method that did not pay the price.
 */
export class RefundSide {
	constructor(private readonly core: PaymentCore) {}

	/**
	 * A new refund of this payment, planned against every refund before it and reserved in the
	 * same synchronous step: two refunds racing for the last amount cannot both get it. Calling
	 * it again with the same id returns the stored refund.
	 */
	async create(request: RefundRequest): Promise<RefundResult> {
		const sql = this.core.sql;
		const payment = this.core.read();
		if (!payment) return { ok: false, code: "resource_missing", message: "No such payment" };
		const existing = readRefund(sql, request.id);
		if (existing) return { ok: true, refund: existing };
		const plan = this.plan(payment, request);
		if (!plan.ok) {
			const { ok: _ok, ...refusal } = plan;
			return { ok: false, ...refusal };
		}
		this.core.writeOutbox(() => saveRefund(sql, plan.refund, "refund.created", true));
		await this.core.flush();
		return { ok: true, refund: plan.refund };
	}

	private plan(payment: PaymentRecord, request: RefundRequest) {
		const sql = this.core.sql;
		return planRefund(
			payment,
			readRefunds(sql),
			paymentHeldFunds(sql, payment),
			request,
			paidByPayer(readReceipts(sql)),
			paymentHeldByPayer(sql, payment),
		);
	}

	/** What `request` would debit from the merchant's available balance (see PaymentObject). */
	previewDraw(request: RefundRequest): RefundDraw | null {
		const payment = this.core.read();
		const plan = payment ? this.plan(payment, request) : null;
		if (!payment || !plan?.ok) return null;
		return refundAvailableDraw(payment, plan.refund, this.core.cardMeta.get("availableDone") === 1);
	}

	/** What a pending refund will debit from the merchant's available balance when it succeeds. */
	draw(id: string): RefundDraw | null {
		const payment = this.core.read();
		const refund = readRefund(this.core.sql, id);
		if (!payment || refund?.status !== "pending") return null;
		return refundAvailableDraw(payment, refund, this.core.cardMeta.get("availableDone") === 1);
	}

	get(id: string): RefundRecord | null {
		return readRefund(this.core.sql, id);
	}

	list(): RefundRecord[] {
		return readRefunds(this.core.sql);
	}

	/** Crypto under review that went back (pending or done); an extra card charge is not it. */
	heldCryptoReturned(): boolean {
		return this.list().some(
			(r) =>
				r.funds === "held" &&
				r.processor === "solana" &&
				(r.status === "pending" || r.status === "succeeded"),
		);
	}

	/** Stripe has the refund but has not finished it: its id, to look it up next time. */
	async noteStripe(
		id: string,
		card: { stripe_refund: string; stripe_status: string },
	): Promise<RefundResult> {
		const refund = readRefund(this.core.sql, id);
		if (!refund) return { ok: false, code: "resource_missing", message: `No such refund: ${id}` };
		if (refund.status !== "pending" || refund.card?.stripe_refund === card.stripe_refund) {
			return { ok: true, refund };
		}
		const now = Math.floor(Date.now() / 1000);
		const next: RefundRecord = {
			...refund,
			card: { charge: refund.card?.charge ?? null, ...card },
			updated: now,
			version: refund.version + 1,
		};
		this.core.writeOutbox(() => saveRefund(this.core.sql, next, "refund.updated"));
		await this.core.flush();
		return { ok: true, refund: next };
	}

	/** The refund's money has gone back: booked once (amounts, ledger, events) in one commit. */
	complete(id: string, outcome: RefundOutcome): Promise<RefundResult> {
		return this.finish(id, "refund.succeeded", (p, r, now) =>
			bookRefundSucceeded(p, r, outcome, this.core.cardMeta.get("availableDone") === 1, now),
		);
	}

	/** The refund could not be made: its reserved amount is free again. */
	fail(id: string, failure: RefundFailure): Promise<RefundResult> {
		return this.finish(id, "refund.failed", (p, r, now) => bookRefundFailed(p, r, failure, now));
	}

	private async finish(
		id: string,
		eventType: string,
		book: (p: PaymentRecord, r: RefundRecord, now: number) => RefundBooking,
	): Promise<RefundResult> {
		const { core } = this;
		const refund = readRefund(core.sql, id);
		const payment = core.read();
		if (!refund || !payment) {
			return { ok: false, code: "resource_missing", message: `No such refund: ${id}` };
		}
		// Finishing twice (a duplicate message, a retried report) changes nothing.
		if (refund.status !== "pending") return { ok: true, refund };
		const now = Math.floor(Date.now() / 1000);
		const booking = book(payment, refund, now);
		const save = () => saveRefund(core.sql, booking.refund, eventType);
		if (booking.payment) {
			const type =
				booking.refund.status === "succeeded" ? "payment.refunded" : "payment.refund_failed";
			core.commit(booking.payment, payment.status, type, booking.transfers, save);
		} else {
			core.writeOutbox(save);
		}
		// Stripe refunds seen while this one was in flight, and not ours, are booked now.
		const seen = bookCardRefundsSeen(
			core.read() as PaymentRecord,
			core.cardMeta.get("refundedSeen"),
			cardRefundsInFlight(readRefunds(core.sql)),
			now,
		);
		if (seen) core.commit(seen.payment, payment.status, "payment.refunded", seen.transfers);
		await core.flush();
		return { ok: true, refund: booking.refund };
	}

	/**
	 * Funds by the method that did not pay the price (a card charged after crypto paid, crypto
	 * sent after the card paid) go back to their payer by that method, unless the merchant holds
	 * them for a decision (`extra_funds: "hold"`). Planned like any refund, so a second run finds
	 * nothing left; settings that cannot be read are retried by alarm.
	 */
	async refundExtraFunds(): Promise<void> {
		const { jobs } = this.core;
		jobs.unschedule("extra_refund");
		const payment = this.core.read();
		const method = payment ? extraFundsMethod(payment) : null;
		if (!payment || !method) return;
		let action: "refund" | "hold";
		try {
			action = await extraFundsAction(this.core.env().DB, payment.merchant_id);
		} catch (err) {
			log("warn", "merchant settings unavailable; extra funds refund retried", {
				payment: payment.id,
				error: err instanceof Error ? err.message : String(err),
			});
			jobs.schedule("extra_refund", Date.now() + 30_000);
			return;
		}
		if (action === "hold") return;
		const automatic = this.list().filter(
			(r) => r.processor === "solana" && r.metadata.automatic === "extra_funds",
		).length;
		if (method === "solana" && automatic >= MAX_AUTOMATIC_CRYPTO_REFUNDS) {
			log("info", "extra crypto held for the merchant: automatic refunds used up", {
				payment: payment.id,
			});
			return;
		}
		const now = Date.now();
		const result = await this.create({
			id: newId("refund", now),
			method,
			funds: "held",
			reason: "duplicate",
			metadata: { automatic: "extra_funds" },
			now: Math.floor(now / 1000),
			// Dust is held: each on-chain refund costs the merchant a fee.
			...(method === "solana" ? { heldMinimum: automaticRefundMinimum(payment) } : {}),
		});
		if (!result.ok) {
			log("info", "extra funds not refunded automatically", {
				payment: payment.id,
				reason: result.message,
			});
			return;
		}
		// More senders than one refund transaction reaches: the next refund takes the rest.
		if (method === "solana") jobs.schedule("extra_refund", Date.now());
	}
}
