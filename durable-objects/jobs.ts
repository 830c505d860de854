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
