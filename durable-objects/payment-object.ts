import { DurableObject } from "cloudflare:workers";
import type { OutboxEntry } from "../src/db/projection";
import type { CardDispute, StripeIntentSnapshot } from "../src/domain/card";
import { checkoutView } from "../src/domain/checkout";
import {
	automaticRefundMinimum,
	extraFundsMethod,
	MAX_AUTOMATIC_CRYPTO_REFUNDS,
} from "../src/domain/extra-funds";
import { paymentReceivedTransfer, type Transfer, transferToJson } from "../src/domain/ledger";
import {
	type NewPaymentInput,
	newPaymentRecord,
	type PaymentRecord,
	type SolanaPaymentDetails,
} from "../src/domain/payment";
import {
	canTransition,
	eventTypeFor,
	isTerminal,
	type PaymentStatus,
} from "../src/domain/payment-state";
import {
	cardRefundsInFlight,
	heldFundsSummary,
	planRefund,
	type RefundRecord,
	type RefundRequest,
} from "../src/domain/refund";
import {
	bookCardRefundsSeen,
	bookRefundFailed,
	bookRefundSucceeded,
	type RefundBooking,
	type RefundDraw,
	type RefundFailure,
	type RefundOutcome,
	refundAvailableDraw,
} from "../src/domain/refund-booking";
import {
	type InflowInput,
	type InflowResult,
	paidByPayer,
	type ReceiptRow,
	settlementTransfer,
	tokenCurrency,
} from "../src/domain/solana-receipts";
import type { Env } from "../src/env";
import { idTime, newId } from "../src/lib/ids";
import { log } from "../src/lib/log";
import { extraFundsAction } from "../src/services/merchants";
import { watchSettlementAccount } from "../src/services/solana-quote";
import { type DrainResult, drainOutbox, Jobs, OUTBOX_SCHEMA } from "./outbox";
import { CardSide } from "./payment-card";
import { migrateReceipts, RECEIPTS_SCHEMA, readReceipts } from "./payment-chain";
import {
	CryptoSide,
	type PaymentCore,
	type PaymentJob,
	type TransitionResult,
} from "./payment-crypto";
import {
	drainRefundOutbox,
	paymentHeldByPayer,
	paymentHeldFunds,
	REFUNDS_SCHEMA,
	type RefundResult,
	readRefund,
	readRefunds,
	saveRefund,
} from "./refunds";

export type { TransitionResult } from "./payment-crypto";

/** When the alarm flushes outbox rows that the flush after their commit did not (see writeOutbox). */
const OUTBOX_SAFETY_FLUSH_MS = 30_000;

/** Open status sockets per payment: a payer has a tab or two, never hundreds. */
const MAX_STATUS_SOCKETS = 16;

/**
 * One object per payment: the source of truth for its state. Each change is committed to the
 * object's SQLite storage together with an outbox row in one transaction; the outbox is then
 * flushed to D1 (projection, event log, ledger). A failed flush is retried by the alarm, which
 * also drives expiry: due times live in the `jobs` table and the alarm is set to the earliest.
 */
export class PaymentObject extends DurableObject<Env> {
	private readonly sql: SqlStorage;
	private readonly jobs: Jobs<PaymentJob>;
	private readonly crypto: CryptoSide;
	private readonly card: CardSide;
	private flushing: Promise<boolean> | null = null;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.sql = ctx.storage.sql;
		this.jobs = new Jobs<PaymentJob>(this.sql, ctx.storage);
		const core: PaymentCore = {
			sql: this.sql,
			ctx,
			jobs: this.jobs,
			env: () => this.env,
			read: () => this.read(),
			commit: (next, from, eventType, transfers, also) =>
				this.commit(next, from, eventType, transfers, also),
			transition: (to, patch, ledger) => this.transition(to, patch, ledger),
			flush: () => this.flush(),
			getMeta: (key) => this.getMeta(key),
			setMeta: (key, value) => this.setMeta(key, value),
			scheduleExtraRefund: () => this.jobs.scheduleNoLaterThan("extra_refund", Date.now()),
		};
		this.crypto = new CryptoSide(core);
		this.card = new CardSide(core);
		this.sql.exec(`
			CREATE TABLE IF NOT EXISTS payment (id INTEGER PRIMARY KEY CHECK (id = 1), record TEXT NOT NULL);
			CREATE TABLE IF NOT EXISTS transitions (
				version INTEGER PRIMARY KEY, from_status TEXT, to_status TEXT NOT NULL,
				event_id TEXT NOT NULL, at INTEGER NOT NULL);
			${OUTBOX_SCHEMA}
			${Jobs.SCHEMA}
			CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL);
			${RECEIPTS_SCHEMA}
			${REFUNDS_SCHEMA}
		`);
		migrateReceipts(this.sql);
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
		const payment = this.read();
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
			const payment = this.read();
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
		const existing = this.read();
		if (existing) return existing;
		const record = newPaymentRecord(input);
		this.commit(record, null, "payment.created", []);
		this.jobs.schedule("expire", record.expires_at * 1000);
		this.crypto.scheduleFinalLooks(record);
		await this.flush();
		return record;
	}

	async get(): Promise<PaymentRecord | null> {
		return this.read();
	}

	async cancel(reason: string | null): Promise<TransitionResult> {
		return this.transition("canceled", (p, now) => ({
			...p,
			canceled_at: now,
			cancellation_reason: reason ?? "requested_by_merchant",
		}));
	}

	async markProcessing(): Promise<TransitionResult> {
		return this.transition("processing", (p) => p);
	}

	/** Authorised, waiting for the merchant's capture (card payments reach it through syncCard). */
	async markRequiresCapture(): Promise<TransitionResult> {
		return this.transition("requires_capture", (p) => p);
	}

	/** Funds arrived and the risk rules asked for a review (the transition table's entry point). */
	async markRequiresReview(): Promise<TransitionResult> {
		return this.transition("requires_review", (p) => p);
	}

	/**
	 * The merchant approves a payment under review: it succeeds and its funds are settled as a
	 * normal success would have settled them. Refused once any of its held funds went back.
	 */
	async approveReview(): Promise<TransitionResult> {
		const current = this.read();
		if (!current) return { ok: false, error: "not_found", message: "No such payment" };
		if (current.status !== "requires_review") {
			return {
				ok: false,
				error: "illegal_transition",
				status: current.status,
				message: `This payment's status is '${current.status}'; only a payment under review can be approved.`,
			};
		}
		if (
			readRefunds(this.sql).some(
				// Crypto under review that went back; an extra card charge refunded meanwhile is not it.
				(r) =>
					r.funds === "held" &&
					r.processor === "solana" &&
					(r.status === "pending" || r.status === "succeeded"),
			)
		) {
			return {
				ok: false,
				error: "illegal_transition",
				status: current.status,
				message: "Funds of this payment were refunded during the review; it cannot be approved.",
			};
		}
		const nowS = Math.floor(Date.now() / 1000);
		return this.transition(
			"succeeded",
			(p, now) => ({ ...p, succeeded_at: now }),
			(p) =>
				p.solana ? [settlementTransfer(p, p.solana, BigInt(p.solana.amount_received), nowS)] : [],
		);
	}

	/** The merchant rejects a payment under review: it fails and its funds stay held for refund. */
	async rejectReview(): Promise<TransitionResult> {
		const current = this.read();
		if (current && current.status !== "requires_review") {
			return {
				ok: false,
				error: "illegal_transition",
				status: current.status,
				message: `This payment's status is '${current.status}'; only a payment under review can be rejected.`,
			};
		}
		return this.transition("failed", (p) => ({
			...p,
			failure_code: "risk_rejected",
			failure_message:
				"Rejected by the merchant after a risk review; the funds are held for refund.",
		}));
	}

	/** Funds arrived: records them and credits the merchant in the ledger, in one commit. */
	async markSucceeded(input: {
		amountReceived: number;
		processor: string;
		balance: "available" | "pending";
	}): Promise<TransitionResult> {
		return this.transition(
			"succeeded",
			(p, now) => ({ ...p, amount_received: input.amountReceived, succeeded_at: now }),
			(p) => [
				paymentReceivedTransfer({
					paymentId: p.id,
					merchantId: p.merchant_id,
					livemode: p.livemode,
					currency: p.currency,
					amount: BigInt(p.amount_received),
					processor: input.processor,
					balance: input.balance,
					created: p.updated,
				}),
			],
		);
	}

	async markFailed(failure: { code: string; message: string }): Promise<TransitionResult> {
		return this.transition("failed", (p) => ({
			...p,
			failure_code: failure.code,
			failure_message: failure.message,
		}));
	}

	/** A failed attempt: the payer may try again. */
	async markRequiresPayment(failure: { code: string; message: string }): Promise<TransitionResult> {
		return this.transition("requires_payment", (p) => ({
			...p,
			failure_code: failure.code,
			failure_message: failure.message,
		}));
	}

	/** Number of transitions not yet in D1; zero when the projection is current. */
	async pendingOutbox(): Promise<number> {
		return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM outbox").one().n;
	}

	async history(): Promise<{ version: number; from: string | null; to: string; at: number }[]> {
		return this.sql
			.exec<{ version: number; from_status: string | null; to_status: string; at: number }>(
				"SELECT version, from_status, to_status, at FROM transitions ORDER BY version",
			)
			.toArray()
			.map((r) => ({ version: r.version, from: r.from_status, to: r.to_status, at: r.at }));
	}

	/**
	 * The payer is on the checkout page ("watched") or a wallet just asked for the transaction
	 * ("hot"): make sure the settlement watcher is looking once a slot.
	 */
	async touch(_kind: "watched" | "hot"): Promise<void> {
		const payment = this.read();
		if (!payment?.solana || isTerminal(payment.status)) return;
		await watchSettlementAccount(this.env, payment.solana, payment.expires_at).catch(() => {
			// The watcher's own alarm and the minute cron still scan; this only keeps it brisk.
		});
	}

	/**
	 * Replaces the crypto quote of an unpaid payment; a partly paid one keeps what it received
	 * (CryptoSide.updateSolana).
	 */
	async updateSolana(solana: SolanaPaymentDetails): Promise<TransitionResult> {
		return this.crypto.updateSolana(solana);
	}

	/** The checkout's report of the signature its wallet returned (checked on chain first). */
	async signatureHint(signature: string): Promise<PaymentRecord | null> {
		return this.crypto.signatureHint(signature);
	}

	/** Whether an inflow in `currency` ("sol" or a mint) can be this payment's. */
	async acceptsCurrency(currency: string): Promise<boolean> {
		const solana = this.read()?.solana;
		return !!solana && tokenCurrency(solana) === currency;
	}

	/** An inflow a settlement watcher found for this payment: judged and booked once. */
	async recordInflow(inflow: InflowInput): Promise<InflowResult> {
		return this.crypto.recordInflow(inflow);
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

	/**
	 * A new refund of this payment, planned against every refund before it and reserved in the
	 * same synchronous step: two refunds racing for the last amount cannot both get it. Calling
	 * it again with the same id returns the stored refund.
	 */
	async createRefund(request: RefundRequest): Promise<RefundResult> {
		const payment = this.read();
		if (!payment) return { ok: false, code: "resource_missing", message: "No such payment" };
		const existing = readRefund(this.sql, request.id);
		if (existing) return { ok: true, refund: existing };
		const plan = this.planRefund(payment, request);
		if (!plan.ok) {
			const { ok: _ok, ...refusal } = plan;
			return { ok: false, ...refusal };
		}
		this.writeOutbox(() => saveRefund(this.sql, plan.refund, "refund.created", true));
		await this.flush();
		return { ok: true, refund: plan.refund };
	}

	private planRefund(payment: PaymentRecord, request: RefundRequest) {
		return planRefund(
			payment,
			readRefunds(this.sql),
			paymentHeldFunds(this.sql, payment),
			request,
			paidByPayer(readReceipts(this.sql)),
			paymentHeldByPayer(this.sql, payment),
		);
	}

	/**
	 * What the refund `request` would debit from the merchant's available balance, planned as
	 * createRefund would plan it but not saved (null: none, or the plan is refused, which
	 * createRefund then reports).
	 */
	async previewRefundDraw(request: RefundRequest): Promise<RefundDraw | null> {
		const payment = this.read();
		const plan = payment ? this.planRefund(payment, request) : null;
		if (!payment || !plan?.ok) return null;
		return refundAvailableDraw(payment, plan.refund, this.getMeta("card_available_done") === 1);
	}

	/** What a pending refund will debit from the merchant's available balance when it succeeds. */
	async refundDraw(id: string): Promise<RefundDraw | null> {
		const payment = this.read();
		const refund = readRefund(this.sql, id);
		if (!payment || refund?.status !== "pending") return null;
		return refundAvailableDraw(payment, refund, this.getMeta("card_available_done") === 1);
	}

	async getRefund(id: string): Promise<RefundRecord | null> {
		return readRefund(this.sql, id);
	}

	async listRefunds(): Promise<RefundRecord[]> {
		return readRefunds(this.sql);
	}

	/** Stripe has the refund but has not finished it: its id, to look it up next time. */
	async noteStripeRefund(
		id: string,
		card: { stripe_refund: string; stripe_status: string },
	): Promise<RefundResult> {
		const refund = readRefund(this.sql, id);
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
		this.writeOutbox(() => saveRefund(this.sql, next, "refund.updated"));
		await this.flush();
		return { ok: true, refund: next };
	}

	/** The refund's money has gone back: booked once (amounts, ledger, events) in one commit. */
	async completeRefund(id: string, outcome: RefundOutcome): Promise<RefundResult> {
		return this.finishRefund(id, "refund.succeeded", (p, r, now) =>
			bookRefundSucceeded(p, r, outcome, this.getMeta("card_available_done") === 1, now),
		);
	}

	/** The refund could not be made: its reserved amount is free again. */
	async failRefund(id: string, failure: RefundFailure): Promise<RefundResult> {
		return this.finishRefund(id, "refund.failed", (p, r, now) =>
			bookRefundFailed(p, r, failure, now),
		);
	}

	private async finishRefund(
		id: string,
		eventType: string,
		book: (p: PaymentRecord, r: RefundRecord, now: number) => RefundBooking,
	): Promise<RefundResult> {
		const refund = readRefund(this.sql, id);
		const payment = this.read();
		if (!refund || !payment) {
			return { ok: false, code: "resource_missing", message: `No such refund: ${id}` };
		}
		// Finishing twice (a duplicate message, a retried report) changes nothing.
		if (refund.status !== "pending") return { ok: true, refund };
		const now = Math.floor(Date.now() / 1000);
		const booking = book(payment, refund, now);
		const save = () => saveRefund(this.sql, booking.refund, eventType);
		if (booking.payment) {
			const type =
				booking.refund.status === "succeeded" ? "payment.refunded" : "payment.refund_failed";
			this.commit(booking.payment, payment.status, type, booking.transfers, save);
		} else {
			this.writeOutbox(save);
		}
		// Stripe refunds seen while this one was in flight, and not ours, are booked now.
		const seen = bookCardRefundsSeen(
			this.read() as PaymentRecord,
			this.getMeta("card_refunded_seen"),
			cardRefundsInFlight(readRefunds(this.sql)),
			now,
		);
		if (seen) this.commit(seen.payment, payment.status, "payment.refunded", seen.transfers);
		await this.flush();
		return { ok: true, refund: booking.refund };
	}

	/** Receipts seen on chain for this payment, for the API and for tests. */
	async receipts(): Promise<ReceiptRow[]> {
		return readReceipts(this.sql);
	}

	override async alarm(): Promise<void> {
		const now = Date.now();
		for (const name of this.jobs.due(now)) {
			if (name === "expire") {
				this.jobs.unschedule("expire");
				const payment = this.read();
				if (payment && canTransition(payment.status, "expired")) {
					await this.transition("expired", (p) => p);
					// An open card intent (an authorisation, or a form the payer may still submit) is
					// canceled at Stripe so nothing can be charged for an expired payment.
					if (payment.card && !["succeeded", "canceled"].includes(payment.card.intent_status)) {
						this.jobs.schedule("card_release", now);
					}
				}
			} else if (name === "flush") {
				await this.flush();
			} else if (name === "poll") {
				await this.crypto.confirmReceipts();
			} else if (name === "card_available") {
				this.card.fundsAvailable();
			} else if (name === "card_release") {
				await this.card.release();
			} else if (name === "extra_refund") {
				await this.refundExtraFunds();
			} else if (name === "final_look") {
				await this.crypto.finalLook();
			}
		}
		this.jobs.arm();
	}

	/**
	 * Funds by the method that did not pay the price (a card charged after crypto paid, crypto
	 * sent after the card paid) go back to their payer by that method, unless the merchant holds
	 * them for a decision (`extra_funds: "hold"`). Planned like any refund, so a second run finds
	 * nothing left; settings that cannot be read are retried by alarm.
	 */
	private async refundExtraFunds(): Promise<void> {
		this.jobs.unschedule("extra_refund");
		const payment = this.read();
		const method = payment ? extraFundsMethod(payment) : null;
		if (!payment || !method) return;
		let action: "refund" | "hold";
		try {
			action = await extraFundsAction(this.env.DB, payment.merchant_id);
		} catch (err) {
			log("warn", "merchant settings unavailable; extra funds refund retried", {
				payment: payment.id,
				error: err instanceof Error ? err.message : String(err),
			});
			this.jobs.schedule("extra_refund", Date.now() + 30_000);
			return;
		}
		if (action === "hold") return;
		const automatic = readRefunds(this.sql).filter(
			(r) => r.processor === "solana" && r.metadata.automatic === "extra_funds",
		).length;
		if (method === "solana" && automatic >= MAX_AUTOMATIC_CRYPTO_REFUNDS) {
			log("info", "extra crypto held for the merchant: automatic refunds used up", {
				payment: payment.id,
			});
			return;
		}
		const now = Date.now();
		const result = await this.createRefund({
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
		if (method === "solana") this.jobs.schedule("extra_refund", Date.now());
	}

	private getMeta(key: string): number {
		return this.sql.exec<{ v: number }>("SELECT v FROM meta WHERE k = ?", key).toArray()[0]?.v ?? 0;
	}

	private setMeta(key: string, value: number): void {
		this.sql.exec(
			"INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v",
			key,
			value,
		);
	}

	private async transition(
		to: PaymentStatus,
		patch: (p: PaymentRecord, now: number) => PaymentRecord,
		ledger?: (p: PaymentRecord) => Transfer[],
	): Promise<TransitionResult> {
		const current = this.read();
		if (!current) return { ok: false, error: "not_found", message: "No such payment" };
		if (!canTransition(current.status, to)) {
			return {
				ok: false,
				error: "illegal_transition",
				status: current.status,
				message: `This payment's status is '${current.status}'; it cannot become '${to}'.`,
			};
		}
		const now = Math.floor(Date.now() / 1000);
		const next: PaymentRecord = {
			...patch(current, now),
			status: to,
			updated: now,
			version: current.version + 1,
		};
		const stored = this.commit(next, current.status, eventTypeFor(to), ledger ? ledger(next) : []);
		await this.flush();
		return { ok: true, payment: stored };
	}

	/** Stores the new state, its history row and its outbox row in one storage transaction. */
	private commit(
		next: PaymentRecord,
		from: PaymentStatus | null,
		eventType: string,
		transfers: Transfer[],
		alsoInTransaction?: () => void,
	): PaymentRecord {
		// Event ids sort by time; within one payment they must also sort in commit order, so the
		// time part never repeats or goes back even when the clock has not moved between commits.
		const last = this.sql
			.exec<{ event_id: string }>("SELECT event_id FROM transitions ORDER BY version DESC LIMIT 1")
			.toArray()[0];
		const ms = Math.max(Date.now(), last ? idTime(last.event_id) + 1 : 0);
		const event = { id: newId("event", ms), type: eventType, created: Math.floor(ms / 1000) };
		let stored = next;
		this.writeOutbox(() => {
			alsoInTransaction?.();
			// What it holds for refund follows from its receipts, refunds and card, as now written.
			stored = {
				...next,
				held_funds: heldFundsSummary(next, paymentHeldFunds(this.sql, next), readRefunds(this.sql)),
			};
			const entry: OutboxEntry = {
				event,
				payment: stored,
				transfers: transfers.map(transferToJson),
			};
			this.sql.exec(
				"INSERT INTO payment (id, record) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET record = excluded.record",
				JSON.stringify(stored),
			);
			this.sql.exec(
				"INSERT INTO transitions (version, from_status, to_status, event_id, at) VALUES (?, ?, ?, ?, ?)",
				next.version,
				from,
				next.status,
				event.id,
				next.updated,
			);
			this.sql.exec("INSERT INTO outbox (entry) VALUES (?)", JSON.stringify(entry));
		});
		this.broadcast(stored);
		return stored;
	}

	/**
	 * Writes outbox rows in one transaction with a flush job due a little later. The flush right
	 * after the commit normally drains them and drops the job; if the isolate dies in between (a
	 * crash, a deploy, an evicted object), the alarm still flushes them.
	 */
	private writeOutbox(write: () => void): void {
		this.ctx.storage.transactionSync(() => {
			write();
			this.jobs.scheduleNoLaterThan("flush", Date.now() + OUTBOX_SAFETY_FLUSH_MS);
		});
	}

	/** Sends the payer's view to every open checkout socket; a dead socket is skipped. */
	private broadcast(payment: PaymentRecord): void {
		const sockets = this.ctx.getWebSockets();
		if (sockets.length === 0) return;
		const view = JSON.stringify(checkoutView(payment));
		for (const ws of sockets) {
			try {
				ws.send(view);
			} catch {
				// Closing or closed: its page falls back to polling.
			}
		}
	}

	/** Flushes the outbox in order; one flush at a time. Returns true when the outbox is empty. */
	private flush(): Promise<boolean> {
		if (!this.flushing) {
			this.flushing = this.flushOutbox().finally(() => {
				this.flushing = null;
			});
		}
		return this.flushing;
	}

	private async flushOutbox(): Promise<boolean> {
		let result: DrainResult = await drainOutbox(this.sql, this.env);
		// Refund records and their events follow the payment's own rows.
		if (result.drained) result = await drainRefundOutbox(this.sql, this.env);
		if (result.drained) {
			this.jobs.unschedule("flush");
			// The alarm moves on to the next job instead of waking for a flush that is done.
			this.jobs.arm();
			return true;
		}
		this.jobs.schedule("flush", Date.now() + result.retryInMs);
		log("warn", "outbox flush failed; retrying by alarm", {
			payment: this.read()?.id,
			attempts: result.attempts,
			retry_in_ms: result.retryInMs,
			error: result.error,
		});
		return false;
	}

	private read(): PaymentRecord | null {
		const row = this.sql
			.exec<{ record: string }>("SELECT record FROM payment WHERE id = 1")
			.toArray()[0];
		return row ? (JSON.parse(row.record) as PaymentRecord) : null;
	}
}
