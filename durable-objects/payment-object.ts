import { DurableObject } from "cloudflare:workers";
import { type OutboxEntry, projectOutboxEntry } from "../src/db/projection";
import { paymentReceivedTransfer, type Transfer, transferToJson } from "../src/domain/ledger";
import { type NewPaymentInput, newPaymentRecord, type PaymentRecord } from "../src/domain/payment";
import { canTransition, eventTypeFor, type PaymentStatus } from "../src/domain/payment-state";
import type { Env } from "../src/env";
import { idTime, newId } from "../src/lib/ids";
import { log } from "../src/lib/log";

export type TransitionResult =
	| { ok: true; payment: PaymentRecord }
	| {
			ok: false;
			error: "not_found" | "illegal_transition";
			message: string;
			status?: PaymentStatus;
	  };

type Job = "expire" | "flush";

const FLUSH_BACKOFF_MAX_MS = 5 * 60 * 1000;

/**
 * One object per payment: the source of truth for its state. Each change is committed to the
 * object's SQLite storage together with an outbox row in one transaction; the outbox is then
 * flushed to D1 (projection, event log, ledger). A failed flush is retried by the alarm, which
 * also drives expiry: due times live in the `jobs` table and the alarm is set to the earliest.
 */
export class PaymentObject extends DurableObject<Env> {
	private readonly sql: SqlStorage;
	private flushing: Promise<boolean> | null = null;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.sql = ctx.storage.sql;
		this.sql.exec(`
			CREATE TABLE IF NOT EXISTS payment (id INTEGER PRIMARY KEY CHECK (id = 1), record TEXT NOT NULL);
			CREATE TABLE IF NOT EXISTS transitions (
				version INTEGER PRIMARY KEY, from_status TEXT, to_status TEXT NOT NULL,
				event_id TEXT NOT NULL, at INTEGER NOT NULL);
			CREATE TABLE IF NOT EXISTS outbox (
				seq INTEGER PRIMARY KEY AUTOINCREMENT, entry TEXT NOT NULL,
				attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT);
			CREATE TABLE IF NOT EXISTS jobs (name TEXT PRIMARY KEY, due INTEGER NOT NULL);
		`);
	}

	/** Creates the payment; calling it again returns the stored payment unchanged. */
	async create(input: NewPaymentInput): Promise<PaymentRecord> {
		const existing = this.read();
		if (existing) return existing;
		const record = newPaymentRecord(input);
		this.commit(record, null, "payment.created", null);
		this.schedule("expire", record.expires_at * 1000);
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

	/** Funds arrived: records them and credits the merchant in the ledger, in one commit. */
	async markSucceeded(input: {
		amountReceived: number;
		processor: string;
		balance: "available" | "pending";
	}): Promise<TransitionResult> {
		return this.transition(
			"succeeded",
			(p, now) => ({ ...p, amount_received: input.amountReceived, succeeded_at: now }),
			(p) =>
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

	override async alarm(): Promise<void> {
		const now = Date.now();
		const due = this.sql
			.exec<{ name: Job }>("SELECT name FROM jobs WHERE due <= ? ORDER BY due", now)
			.toArray();
		for (const { name } of due) {
			if (name === "expire") {
				this.unschedule("expire");
				const payment = this.read();
				if (payment && canTransition(payment.status, "expired")) {
					await this.transition("expired", (p) => p);
				}
			} else if (name === "flush") {
				await this.flush();
			}
		}
		this.armAlarm();
	}

	private async transition(
		to: PaymentStatus,
		patch: (p: PaymentRecord, now: number) => PaymentRecord,
		ledger?: (p: PaymentRecord) => Transfer,
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
		this.commit(next, current.status, eventTypeFor(to), ledger ? ledger(next) : null);
		await this.flush();
		return { ok: true, payment: next };
	}

	/** Stores the new state, its history row and its outbox row in one storage transaction. */
	private commit(
		next: PaymentRecord,
		from: PaymentStatus | null,
		eventType: string,
		transfer: Transfer | null,
	): void {
		// Event ids sort by time; within one payment they must also sort in commit order, so the
		// time part never repeats or goes back even when the clock has not moved between commits.
		const last = this.sql
			.exec<{ event_id: string }>("SELECT event_id FROM transitions ORDER BY version DESC LIMIT 1")
			.toArray()[0];
		const ms = Math.max(Date.now(), last ? idTime(last.event_id) + 1 : 0);
		const event = { id: newId("event", ms), type: eventType, created: Math.floor(ms / 1000) };
		const entry: OutboxEntry = {
			event,
			payment: next,
			ledger: transfer ? transferToJson(transfer) : null,
		};
		this.ctx.storage.transactionSync(() => {
			this.sql.exec(
				"INSERT INTO payment (id, record) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET record = excluded.record",
				JSON.stringify(next),
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
		for (;;) {
			const row = this.sql
				.exec<{ seq: number; entry: string; attempts: number }>(
					"SELECT seq, entry, attempts FROM outbox ORDER BY seq LIMIT 1",
				)
				.toArray()[0];
			if (!row) {
				this.unschedule("flush");
				return true;
			}
			try {
				await projectOutboxEntry(this.env.DB, JSON.parse(row.entry) as OutboxEntry);
				this.sql.exec("DELETE FROM outbox WHERE seq = ?", row.seq);
			} catch (err) {
				const attempts = row.attempts + 1;
				const message = err instanceof Error ? err.message : String(err);
				this.sql.exec(
					"UPDATE outbox SET attempts = ?, last_error = ? WHERE seq = ?",
					attempts,
					message.slice(0, 500),
					row.seq,
				);
				const delay = Math.min(1000 * 2 ** attempts, FLUSH_BACKOFF_MAX_MS);
				this.schedule("flush", Date.now() + delay);
				log("warn", "outbox flush failed; retrying by alarm", {
					payment: this.read()?.id,
					seq: row.seq,
					attempts,
					retry_in_ms: delay,
					error: message,
				});
				return false;
			}
		}
	}

	private read(): PaymentRecord | null {
		const row = this.sql
			.exec<{ record: string }>("SELECT record FROM payment WHERE id = 1")
			.toArray()[0];
		return row ? (JSON.parse(row.record) as PaymentRecord) : null;
	}

	private schedule(job: Job, due: number): void {
		this.sql.exec(
			"INSERT INTO jobs (name, due) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET due = excluded.due",
			job,
			due,
		);
		this.armAlarm();
	}

	private unschedule(job: Job): void {
		this.sql.exec("DELETE FROM jobs WHERE name = ?", job);
	}

	/** Points the single alarm at the earliest due job, or clears it when none remain. */
	private armAlarm(): void {
		const next = this.sql
			.exec<{ due: number | null }>("SELECT MIN(due) AS due FROM jobs")
			.one().due;
		if (next === null) void this.ctx.storage.deleteAlarm();
		else void this.ctx.storage.setAlarm(next);
	}
}
