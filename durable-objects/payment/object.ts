import { DurableObject } from "cloudflare:workers";
import type { CardDispute, StripeIntentSnapshot } from "../../src/domain/card-details";
import { checkoutView } from "../../src/domain/checkout";
import {
	type NewPaymentInput,
	newPaymentRecord,
	type PaymentRecord,
	type SolanaPaymentDetails,
	type TransitionResult,
} from "../../src/domain/payment";
import { canTransition, isTerminal } from "../../src/domain/payment-state";
import type { RefundRecord, RefundResult } from "../../src/domain/refund";
import type { RefundDraw, RefundFailure, RefundOutcome } from "../../src/domain/refund-booking";
import type { RefundRequest } from "../../src/domain/refund-plan";
import {
	type InflowInput,
	type InflowResult,
	tokenCurrency,
} from "../../src/domain/solana-receipts";
import type { Env } from "../../src/env";
import { watchSettlementAccount } from "../../src/services/solana-quote";
import { CardSide } from "./card";
import { ChainSide } from "./chain";
import { ChainPolling } from "./chain-polling";
import { PaymentCore } from "./core";
import { RefundSide } from "./refunds";
import { approveReview, rejectReview } from "./review";

/** Open status sockets per payment: a payer has a tab or two, never hundreds. */
const MAX_STATUS_SOCKETS = 16;

/**
 * What a PaymentObject is built from. The fields are private so they stay off the RPC stub's
 * type; tests reach them inside the object through `runInDurableObject`.
 */
export interface PaymentParts {
	core: PaymentCore;
	card: CardSide;
	chain: ChainSide;
	polling: ChainPolling;
	refunds: RefundSide;
}

/**
 * One object per payment: the source of truth for its state. Each change is committed to the
 * object's SQLite storage together with an outbox row in one transaction; the outbox is then
 * flushed to D1 (projection, event log, ledger). A failed flush is retried by the alarm, which
 * also drives expiry: due times live in the `jobs` table and the alarm is set to the earliest.
 * This class is the RPC surface; the work is done by the core (core.ts) and the card, chain and
 * refund sides built on it.
 */
export class PaymentObject extends DurableObject<Env> {
	private readonly core: PaymentCore;
	private readonly card: CardSide;
	private readonly chain: ChainSide;
	private readonly polling: ChainPolling;
	private readonly refunds: RefundSide;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.core = new PaymentCore(ctx, () => this.env);
		this.card = new CardSide(this.core);
		this.chain = new ChainSide(this.core);
		this.polling = new ChainPolling(this.core, this.chain);
		this.refunds = new RefundSide(this.core);
		// Keep-alives are answered by the runtime without waking a hibernated object.
		ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
	}

	/**
	 * The checkout's live status: a WebSocket (hibernation API, so an idle page costs nothing)
	 * that receives the payer's view of the payment now and after every committed change.
	 */
	override async fetch(request: Request): Promise<Response> {
		if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
			return new Response("Expected a WebSocket upgrade", { status: 426 });
		}
		const payment = this.core.read();
		if (!payment) return new Response("No such payment", { status: 404 });
		if (this.ctx.getWebSockets().length >= MAX_STATUS_SOCKETS) {
			return new Response("Too many open status connections", { status: 429 });
		}
		const { 0: client, 1: server } = new WebSocketPair();
		this.ctx.acceptWebSocket(server);
		server.send(JSON.stringify(checkoutView(payment)));
		await this.touch("watched");
		return new Response(null, { status: 101, webSocket: client });
	}

	override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
		// "status" asks for the current view again (after the page was in the background).
		if (message === "status") {
			const payment = this.core.read();
			if (payment) ws.send(JSON.stringify(checkoutView(payment)));
		}
	}

	override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
		try {
			ws.close(code === 1005 ? 1000 : code, "closing");
		} catch {
			// Already closed by the runtime's automatic reply.
		}
	}

	/** Creates the payment; calling it again returns the stored payment unchanged. */
	async create(input: NewPaymentInput): Promise<PaymentRecord> {
		const existing = this.core.read();
		if (existing) return existing;
		const record = newPaymentRecord(input);
		this.core.commit(record, null, "payment.created", []);
		this.core.jobs.schedule("expire", record.expires_at * 1000);
		this.chain.scheduleFinalLooks(record);
		await this.core.flush();
		return record;
	}

	async get(): Promise<PaymentRecord | null> {
		return this.core.read();
	}

	async cancel(reason: string | null): Promise<TransitionResult> {
		return this.core.transition("canceled", (p, now) => ({
			...p,
			canceled_at: now,
			cancellation_reason: reason ?? "requested_by_merchant",
		}));
	}

	/**
	 * The merchant approves a payment under review: it succeeds and its funds are settled as a
	 * normal success would have settled them. Refused once any of its held funds went back.
	 */
	async approveReview(): Promise<TransitionResult> {
		return approveReview(this.core, this.refunds);
	}

	/** The merchant rejects a payment under review: it fails and its funds stay held for refund. */
	async rejectReview(): Promise<TransitionResult> {
		return rejectReview(this.core);
	}

	async history(): Promise<{ version: number; from: string | null; to: string; at: number }[]> {
		return this.core.history();
	}

	/**
	 * The payer is on the checkout page ("watched") or a wallet just asked for the transaction
	 * ("hot"): make sure the settlement watcher is looking once a slot.
	 */
	async touch(_kind: "watched" | "hot"): Promise<void> {
		const payment = this.core.read();
		if (!payment?.solana || isTerminal(payment.status)) return;
		await watchSettlementAccount(this.env, payment.solana, payment.expires_at).catch(() => {
			// The watcher's own alarm and the minute cron still scan; this only keeps it brisk.
		});
	}

	/** Replaces the crypto quote of an unpaid payment; a partly paid one keeps what it received. */
	async updateSolana(solana: SolanaPaymentDetails): Promise<TransitionResult> {
		return this.chain.updateSolana(solana);
	}

	/** The checkout's report of the signature its wallet returned (checked on chain first). */
	async signatureHint(signature: string): Promise<PaymentRecord | null> {
		return this.chain.signatureHint(signature);
	}

	/** Whether an inflow in `currency` ("sol" or a mint) can be this payment's. */
	async acceptsCurrency(currency: string): Promise<boolean> {
		const solana = this.core.read()?.solana;
		return !!solana && tokenCurrency(solana) === currency;
	}

	/** An inflow a settlement watcher found for this payment: judged and booked once. */
	async recordInflow(inflow: InflowInput): Promise<InflowResult> {
		return this.chain.recordInflow(inflow);
	}

	/**
	 * Reconciles the card side with a fresh snapshot of its Stripe PaymentIntent: a webhook, the
	 * checkout, a capture or a cancel all end here, so duplicates and reordering change nothing.
	 */
	async syncCard(intent: StripeIntentSnapshot): Promise<TransitionResult> {
		return this.card.syncCard(intent);
	}

	/** A dispute (chargeback) on the card payment: recorded once, the disputed amount withdrawn. */
	async recordDispute(dispute: CardDispute): Promise<TransitionResult> {
		return this.card.recordDispute(dispute);
	}

	/** A new refund, planned and reserved in one step; the same id again returns the stored one. */
	async createRefund(request: RefundRequest): Promise<RefundResult> {
		return this.refunds.create(request);
	}

	/**
	 * What the refund `request` would debit from the merchant's available balance, planned as
	 * createRefund would plan it but not saved (null: none, or the plan is refused, which
	 * createRefund then reports).
	 */
	async previewRefundDraw(request: RefundRequest): Promise<RefundDraw | null> {
		return this.refunds.previewDraw(request);
	}

	/** What a pending refund will debit from the merchant's available balance when it succeeds. */
	async refundDraw(id: string): Promise<RefundDraw | null> {
		return this.refunds.draw(id);
	}

	async getRefund(id: string): Promise<RefundRecord | null> {
		return this.refunds.get(id);
	}

	async listRefunds(): Promise<RefundRecord[]> {
		return this.refunds.list();
	}

	/** Stripe has the refund but has not finished it: its id, to look it up next time. */
	async noteStripeRefund(
		id: string,
		card: { stripe_refund: string; stripe_status: string },
	): Promise<RefundResult> {
		return this.refunds.noteStripe(id, card);
	}

	/** The refund's money has gone back: booked once (amounts, ledger, events) in one commit. */
	async completeRefund(id: string, outcome: RefundOutcome): Promise<RefundResult> {
		return this.refunds.complete(id, outcome);
	}

	/** The refund could not be made: its reserved amount is free again. */
	async failRefund(id: string, failure: RefundFailure): Promise<RefundResult> {
		return this.refunds.fail(id, failure);
	}

	override async alarm(): Promise<void> {
		const { jobs } = this.core;
		const now = Date.now();
		for (const name of jobs.due(now)) {
			if (name === "expire") {
				jobs.unschedule("expire");
				const payment = this.core.read();
				if (payment && canTransition(payment.status, "expired")) {
					await this.core.transition("expired", (p) => p);
					// An open card intent (an authorisation, or a form the payer may still submit) is
					// canceled at Stripe so nothing can be charged for an expired payment.
					if (payment.card && !["succeeded", "canceled"].includes(payment.card.intent_status)) {
						jobs.schedule("card_release", now);
					}
				}
			} else if (name === "flush") {
				await this.core.flush();
			} else if (name === "poll") {
				await this.polling.confirmReceipts();
			} else if (name === "card_available") {
				this.card.fundsAvailable();
			} else if (name === "card_release") {
				await this.card.release();
			} else if (name === "extra_refund") {
				await this.refunds.refundExtraFunds();
			} else if (name === "final_look") {
				await this.polling.finalLook();
			}
		}
		jobs.arm();
	}
}
