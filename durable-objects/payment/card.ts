import { createServices } from "../../src/context";
import { cardAvailableTransfer, disputeTransfer, reconcileCard } from "../../src/domain/card";
import type { CardDispute, StripeIntentSnapshot } from "../../src/domain/card-details";
import { type PaymentRecord, paidWith, type TransitionResult } from "../../src/domain/payment";
import { cardRefundsInFlight } from "../../src/domain/refund-held";
import { log } from "../../src/lib/log";
import { isStripeError, retrieveIntent, snapshotOf } from "../../src/processors/stripe/client";
import { assessPaymentArrival } from "../../src/services/risk";
import type { PaymentCore } from "./core";
import { readReceipts } from "./receipts";
import { readRefunds } from "./refund-store";

/** Intent statuses after which nothing more can be charged. */
const CLOSED_INTENT = new Set(["succeeded", "canceled"]);

/**
 * The card side of a payment: reconciling its Stripe PaymentIntent from fresh snapshots, the
 * risk look when the card's funds arrive, disputes, Stripe's payout of captured funds, and
 * releasing an intent the payment no longer takes (it expired, or crypto paid the price).
 */
export class CardSide {
	constructor(private readonly core: PaymentCore) {}

	/**
	 * Reconciles the card side with a fresh snapshot of its Stripe PaymentIntent: a webhook, the
	 * checkout, a capture or a cancel all end here, so duplicates and reordering change nothing.
	 */
	async syncCard(intent: StripeIntentSnapshot): Promise<TransitionResult> {
		let current = this.core.read();
		if (!current) return { ok: false, error: "not_found", message: "No such payment" };
		if (current.card && current.card.payment_intent !== intent.id) {
			return {
				ok: false,
				error: "illegal_transition",
				status: current.status,
				message: `This payment is paid through ${current.card.payment_intent}, not ${intent.id}.`,
			};
		}
		const risk = await this.assessCard(current, intent);
		current = this.core.read() as PaymentRecord;
		const now = Math.floor(Date.now() / 1000);
		const sql = this.core.sql;
		// Refunds made through our API and still in flight are booked when they finish, so the part
		// of Stripe's total they account for is not booked again here (nor twice, once they have).
		const seen = intent.charge?.amount_refunded ?? 0;
		if (seen > this.core.cardMeta.get("refundedSeen")) this.core.cardMeta.set("refundedSeen", seen);
		const change = reconcileCard(current, intent, now, cardRefundsInFlight(readRefunds(sql)));
		const patch = (p: PaymentRecord, at: number): PaymentRecord => ({
			...p,
			...change.patch,
			risk: risk ?? p.risk ?? null,
			card: change.card,
			succeeded_at: change.to === "succeeded" ? at : p.succeeded_at,
			canceled_at: change.to === "canceled" ? at : p.canceled_at,
			cancellation_reason:
				change.to === "canceled"
					? (intent.cancellation_reason ?? "requested_by_merchant")
					: p.cancellation_reason,
		});
		let result: TransitionResult = { ok: true, payment: current };
		if (change.to) {
			result = await this.core.transition(change.to, patch, () => change.transfers);
		} else if (change.event || change.transfers.length > 0) {
			const next = { ...patch(current, now), updated: now, version: current.version + 1 };
			const stored = this.core.commit(
				next,
				current.status,
				change.event ?? "payment.card_updated",
				change.transfers,
			);
			await this.core.flush();
			result = { ok: true, payment: stored };
		}
		const after = this.core.read();
		if (!after) return result;
		if (change.event === "payment.extra_funds_received") this.core.scheduleExtraRefund();
		if (
			result.ok &&
			paidWith(after) === "card" &&
			(change.to === "succeeded" || change.to === "requires_capture") &&
			readReceipts(sql).some((r) => r.disposition === "counted")
		) {
			// The card paid the price after crypto had paid part of it: that crypto is now extra.
			const next = { ...after, updated: now, version: after.version + 1 };
			this.core.commit(next, after.status, "payment.extra_funds_received", []);
			await this.core.flush();
			this.core.scheduleExtraRefund();
		}
		if (
			after.status === "succeeded" &&
			paidWith(after) === "card" &&
			after.card?.intent_status === "succeeded" &&
			!this.core.cardMeta.get("availableDone")
		) {
			// Stripe pays captured funds out later: move them to available when it says they are.
			const at = (after.card.available_on ?? now) * 1000;
			this.core.jobs.scheduleNoLaterThan("card_available", Math.max(at, Date.now()));
		}
		if (after.card && !CLOSED_INTENT.has(after.card.intent_status) && !this.takesCard(after)) {
			// Crypto paid (or the payment closed) while this intent was open: nothing may be charged.
			this.core.jobs.scheduleNoLaterThan("card_release", Date.now());
		}
		return result;
	}

	/** Whether the payment still takes a card: open, and crypto has not paid its price. */
	private takesCard(p: PaymentRecord): boolean {
		const paid = paidWith(p);
		if (paid === "solana") return false;
		if (paid === "card") return p.status === "requires_capture" || p.status === "succeeded";
		return p.status === "requires_payment" || p.status === "processing";
	}

	/**
	 * The card's funds are arriving (authorised or captured) and its fingerprint is known: the
	 * risk rules look again. A block fails the payment first, so the charge is then booked as
	 * funds that arrived after it closed (held in its holding account, refundable) and an open
	 * authorisation is released. Returns the assessment to record when the payment goes on.
	 */
	private async assessCard(
		payment: PaymentRecord,
		intent: StripeIntentSnapshot,
	): Promise<PaymentRecord["risk"] | null> {
		const fingerprint = intent.charge?.fingerprint;
		const arriving = intent.status === "succeeded" || intent.status === "requires_capture";
		const open = payment.status === "requires_payment" || payment.status === "processing";
		if (!fingerprint || !arriving || !open) return null;
		const risk = await assessPaymentArrival(this.core.env(), payment, {
			wallet: null,
			card_fingerprint: fingerprint,
		});
		if (risk.decision !== "block") return risk;
		const failed = await this.core.transition("failed", (p) => ({
			...p,
			risk,
			failure_code: "risk_blocked",
			failure_message: `Blocked by the risk rules when the card was charged: ${risk.reasons.map((r) => r.detail).join("; ")}. The funds are held for refund.`,
		}));
		if (failed.ok && intent.status === "requires_capture")
			this.core.jobs.schedule("card_release", Date.now());
		return null;
	}

	/** A dispute (chargeback) on the card payment: recorded once, the disputed amount withdrawn. */
	async recordDispute(dispute: CardDispute): Promise<TransitionResult> {
		const current = this.core.read();
		if (!current?.card) return { ok: false, error: "not_found", message: "No card payment here" };
		if (current.card.disputes.some((d) => d.id === dispute.id))
			return { ok: true, payment: current };
		const now = Math.floor(Date.now() / 1000);
		const next: PaymentRecord = {
			...current,
			card: { ...current.card, disputes: [...current.card.disputes, dispute] },
			updated: now,
			version: current.version + 1,
		};
		this.core.commit(next, current.status, "payment.dispute_created", [
			disputeTransfer(current, current.card, dispute, now),
		]);
		await this.core.flush();
		return { ok: true, payment: next };
	}

	/** Stripe has paid out the captured price: its net moves from pending to available, once. */
	fundsAvailable(): void {
		this.core.jobs.unschedule("card_available");
		const payment = this.core.read();
		if (!payment?.card || this.core.cardMeta.get("availableDone")) return;
		const now = Math.floor(Date.now() / 1000);
		const transfer = cardAvailableTransfer(payment, payment.card, now);
		this.core.cardMeta.set("availableDone", 1);
		if (!transfer) return;
		const next = { ...payment, updated: now, version: payment.version + 1 };
		this.core.commit(next, payment.status, "payment.funds_available", [transfer]);
		void this.core.flush();
	}

	/**
	 * Cancels an open card intent the payment no longer takes (it expired, or crypto paid its
	 * price), retried by alarm until Stripe confirms. An intent Stripe will not cancel has moved
	 * on (a charge captured in the race): its fresh snapshot is booked, as an extra if it paid.
	 */
	async release(): Promise<void> {
		this.core.jobs.unschedule("card_release");
		const payment = this.core.read();
		const intent = payment?.card?.payment_intent;
		if (!payment || !intent || CLOSED_INTENT.has(payment.card?.intent_status ?? "")) return;
		const env = this.core.env();
		try {
			try {
				const canceled = await createServices(env)
					.stripe()
					.paymentIntents.cancel(
						intent,
						{ cancellation_reason: "abandoned", expand: ["latest_charge.balance_transaction"] },
						{ idempotencyKey: `${payment.id}:release` },
					);
				await this.syncCard(snapshotOf(canceled));
			} catch (err) {
				if (!(isStripeError(err) && err.statusCode === 400)) throw err;
				log("info", "card intent not cancelable; booking its current state", {
					payment: payment.id,
					error: err.message,
				});
				await this.syncCard(snapshotOf(await retrieveIntent(env, intent)));
				const now = this.core.read()?.card?.intent_status ?? "canceled";
				if (!CLOSED_INTENT.has(now)) throw new Error(`intent still ${now} after a refused cancel`);
			}
			this.core.cardMeta.set("releaseAttempts", 0);
		} catch (err) {
			const attempts = this.core.cardMeta.get("releaseAttempts") + 1;
			this.core.cardMeta.set("releaseAttempts", attempts);
			const delay = Math.min(5000 * 2 ** attempts, 15 * 60_000);
			log("warn", "card release failed; retrying", {
				payment: payment.id,
				attempts,
				retry_in_ms: delay,
				error: err instanceof Error ? err.message : String(err),
			});
			this.core.jobs.schedule("card_release", Date.now() + delay);
		}
	}
}
