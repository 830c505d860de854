import type { OutboxEntry } from "../../src/db/projection";
import { checkoutView } from "../../src/domain/checkout";
import { idTime, newId } from "../../src/domain/ids";
import { type Transfer, transferToJson } from "../../src/domain/ledger";
import type { PaymentRecord, TransitionResult } from "../../src/domain/payment";
import { canTransition, eventTypeFor, type PaymentStatus } from "../../src/domain/payment-state";
import { heldFundsSummary } from "../../src/domain/refund-held";
import type { Env } from "../../src/env";
import { log } from "../../src/lib/log";
import { Jobs } from "../jobs";
import { readMeta, writeMeta } from "../meta";
import { type DrainResult, drainOutbox, outboxSchema } from "./outbox";
import { migrateReceipts, RECEIPTS_SCHEMA } from "./receipts";
import { paymentHeldFunds, REFUNDS_SCHEMA, readRefunds } from "./refund-store";

/** The PaymentObject's scheduled jobs (one alarm over them). */
export type PaymentJob =
	| "expire"
	| "flush"
	| "poll"
	| "card_available"
	| "card_release"
	| "final_look"
	| "extra_refund";

/** When the alarm flushes outbox rows that the flush after their commit did not (see writeOutbox). */
const OUTBOX_SAFETY_FLUSH_MS = 30_000;

/**
 * Small counters and flags in the `meta` table (key → integer), one typed group per side. The
 * stored keys are the table's existing ones; a key never written reads as 0.
 */
export class MetaGroup<T extends Record<string, number>> {
	constructor(
		private readonly sql: SqlStorage,
		private readonly keys: { readonly [K in keyof T]: string },
	) {}

	get<K extends keyof T>(key: K): T[K] {
		return readMeta(this.sql, this.keys[key]) as T[K];
	}

	set<K extends keyof T>(key: K, value: T[K]): void {
		writeMeta(this.sql, this.keys[key], value);
	}
}

/** The card side's bookkeeping. */
export type CardMeta = {
	/** Stripe's amount_refunded as last seen on a snapshot. */
	refundedSeen: number;
	/** 1 once the captured price moved from pending to available. */
	availableDone: 0 | 1;
	/** Failed cancels of an intent the payment no longer takes, for the back-off. */
	releaseAttempts: number;
};

/** The chain side's bookkeeping: hints taken, final looks done, finality checks failing. */
export type ChainMeta = { signatureHints: number; finalLooks: number; rpcFailures: number };

/**
 * The core of a payment's object: its state, read and committed with its history row and outbox
 * row in one storage transaction, status changes through the state machine, the flush of the
 * outboxes to D1, and the jobs its single alarm runs. The card, chain and refund sides are built
 * on it.
 */
export class PaymentCore {
	readonly sql: SqlStorage;
	readonly jobs: Jobs<PaymentJob>;
	readonly cardMeta: MetaGroup<CardMeta>;
	readonly chainMeta: MetaGroup<ChainMeta>;
	private flushing: Promise<boolean> | null = null;

	constructor(
		readonly ctx: DurableObjectState,
		/** The object's current bindings (tests swap them to simulate outages). */
		readonly env: () => Env,
	) {
		this.sql = ctx.storage.sql;
		this.jobs = new Jobs<PaymentJob>(this.sql, ctx.storage);
		this.cardMeta = new MetaGroup<CardMeta>(this.sql, {
			refundedSeen: "card_refunded_seen",
			availableDone: "card_available_done",
			releaseAttempts: "card_release_attempts",
		});
		this.chainMeta = new MetaGroup<ChainMeta>(this.sql, {
			signatureHints: "signature_hints",
			finalLooks: "final_looks",
			rpcFailures: "rpc_failures",
		});
		this.sql.exec(`
			CREATE TABLE IF NOT EXISTS payment (id INTEGER PRIMARY KEY CHECK (id = 1), record TEXT NOT NULL);
			CREATE TABLE IF NOT EXISTS transitions (
				version INTEGER PRIMARY KEY, from_status TEXT, to_status TEXT NOT NULL,
				event_id TEXT NOT NULL, at INTEGER NOT NULL);
			${outboxSchema("outbox")}
			${Jobs.SCHEMA}
			CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL);
			${RECEIPTS_SCHEMA}
			${REFUNDS_SCHEMA}
		`);
		migrateReceipts(this.sql);
	}

	read(): PaymentRecord | null {
		const row = this.sql
			.exec<{ record: string }>("SELECT record FROM payment WHERE id = 1")
			.toArray()[0];
		return row ? (JSON.parse(row.record) as PaymentRecord) : null;
	}

	history(): { version: number; from: string | null; to: string; at: number }[] {
		return this.sql
			.exec<{ version: number; from_status: string | null; to_status: string; at: number }>(
				"SELECT version, from_status, to_status, at FROM transitions ORDER BY version",
			)
			.toArray()
			.map((r) => ({ version: r.version, from: r.from_status, to: r.to_status, at: r.at }));
	}

	/** A change of status through the state machine, committed and flushed. */
	async transition(
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

	/** Stores the new state, its history row, its outbox row and `also`, in one storage transaction. */
	commit(
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
	writeOutbox(write: () => void): void {
		this.ctx.storage.transactionSync(() => {
			write();
			this.jobs.scheduleNoLaterThan("flush", Date.now() + OUTBOX_SAFETY_FLUSH_MS);
		});
	}

	/** Funds by the method that did not pay the price arrived: refund or hold them (the setting). */
	scheduleExtraRefund(): void {
		this.jobs.scheduleNoLaterThan("extra_refund", Date.now());
	}

	/** Flushes the outboxes in order; one flush at a time. Returns true when both are empty. */
	flush(): Promise<boolean> {
		if (!this.flushing) {
			this.flushing = this.flushOutbox().finally(() => {
				this.flushing = null;
			});
		}
		return this.flushing;
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

	private async flushOutbox(): Promise<boolean> {
		let result: DrainResult = await drainOutbox(this.sql, this.env(), "outbox");
		// Refund records and their events follow the payment's own rows.
		if (result.drained) result = await drainOutbox(this.sql, this.env(), "refund_outbox");
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
}
