import { eventRowOf, type OutboxEntry, projectOutboxEntry } from "../src/db/projection";
import type { Env } from "../src/env";
import { publishEvents } from "../src/services/events";

/** Retry delays for a failed flush: 2 s, 4 s, … up to 5 minutes. */
const FLUSH_BACKOFF_MAX_MS = 5 * 60 * 1000;

export const OUTBOX_SCHEMA = `
	CREATE TABLE IF NOT EXISTS outbox (
		seq INTEGER PRIMARY KEY AUTOINCREMENT, entry TEXT NOT NULL,
		attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT);
`;

export type DrainResult =
	| { drained: true }
	| { drained: false; attempts: number; retryInMs: number; error: string };

/**
 * Writes outbox rows to D1 in commit order, deleting each once its batch landed. Stops at the
 * first failure, recording it on the row, and says when to try again; the row stays, so nothing
 * committed is lost and later rows never overtake it.
 */
export async function drainOutbox(sql: SqlStorage, env: Env): Promise<DrainResult> {
	const db = env.DB;
	for (;;) {
		const row = sql
			.exec<{ seq: number; entry: string; attempts: number }>(
				"SELECT seq, entry, attempts FROM outbox ORDER BY seq LIMIT 1",
			)
			.toArray()[0];
		if (!row) return { drained: true };
		try {
			const entry = JSON.parse(row.entry) as OutboxEntry;
			await projectOutboxEntry(db, entry);
			sql.exec("DELETE FROM outbox WHERE seq = ?", row.seq);
			// In D1 now: a failed publish is retried by the cron, so it never holds the outbox up.
			await publishEvents(env, [eventRowOf(entry)]);
		} catch (err) {
			const attempts = row.attempts + 1;
			const error = err instanceof Error ? err.message : String(err);
			sql.exec(
				"UPDATE outbox SET attempts = ?, last_error = ? WHERE seq = ?",
				attempts,
				error.slice(0, 500),
				row.seq,
			);
			return {
				drained: false,
				attempts,
				retryInMs: Math.min(1000 * 2 ** attempts, FLUSH_BACKOFF_MAX_MS),
				error,
			};
		}
	}
}

/**
 * Every future job of an object (expiry, outbox retry, chain poll) keeps its due time here, and
 * the object's single alarm points at the earliest.
 */
export class Jobs<Name extends string> {
	static readonly SCHEMA =
		"CREATE TABLE IF NOT EXISTS jobs (name TEXT PRIMARY KEY, due INTEGER NOT NULL);";

	constructor(
		private readonly sql: SqlStorage,
		private readonly storage: DurableObjectStorage,
	) {}

	schedule(job: Name, due: number): void {
		this.sql.exec(
			"INSERT INTO jobs (name, due) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET due = excluded.due",
			job,
			due,
		);
		this.arm();
	}

	/** Schedules `job` at `due` unless it is already due sooner. */
	scheduleNoLaterThan(job: Name, due: number): void {
		const current = this.dueAt(job);
		if (current === null || current > due) this.schedule(job, due);
	}

	unschedule(job: Name): void {
		this.sql.exec("DELETE FROM jobs WHERE name = ?", job);
	}

	dueAt(job: Name): number | null {
		return (
			this.sql.exec<{ due: number }>("SELECT due FROM jobs WHERE name = ?", job).toArray()[0]
				?.due ?? null
		);
	}

	/** Jobs due at `now`, earliest first. */
	due(now: number): Name[] {
		return this.sql
			.exec<{ name: string }>("SELECT name FROM jobs WHERE due <= ? ORDER BY due", now)
			.toArray()
			.map((r) => r.name as Name);
	}

	/** Points the single alarm at the earliest due job, or clears it when none remain. */
	arm(): void {
		const next = this.sql
			.exec<{ due: number | null }>("SELECT MIN(due) AS due FROM jobs")
			.one().due;
		if (next === null) void this.storage.deleteAlarm();
		else void this.storage.setAlarm(next);
	}
}
