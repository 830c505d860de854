import { DurableObject } from "cloudflare:workers";
import {
	type BreakerState,
	breakerRecord,
	breakerReport,
	type ProcessorHealthState,
} from "../src/domain/routing";
import type { Env } from "../src/env";

/**
 * One object per processor (`idFromName("stripe")`): the circuit breaker shared by every
 * isolate. Each outcome is one small write to the object's SQLite storage; the transitions are
 * the pure `breakerRecord` and `breakerOpen`.
 */
export class ProcessorHealth extends DurableObject<Env> {
	private readonly sql: SqlStorage;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.sql = ctx.storage.sql;
		this.sql.exec(`
			CREATE TABLE IF NOT EXISTS breaker (
				id INTEGER PRIMARY KEY CHECK (id = 1),
				failures INTEGER NOT NULL, opened_at INTEGER);
		`);
	}

	async record(outcome: "success" | "failure"): Promise<ProcessorHealthState> {
		const now = Date.now();
		const next = breakerRecord(this.read(), outcome, now);
		this.sql.exec(
			`INSERT INTO breaker (id, failures, opened_at) VALUES (1, ?, ?)
			 ON CONFLICT (id) DO UPDATE SET failures = excluded.failures, opened_at = excluded.opened_at`,
			next.failures,
			next.opened_at,
		);
		return breakerReport(next, now);
	}

	async state(): Promise<ProcessorHealthState> {
		return breakerReport(this.read(), Date.now());
	}

	private read(): BreakerState {
		const row = this.sql
			.exec<{ failures: number; opened_at: number | null }>(
				"SELECT failures, opened_at FROM breaker WHERE id = 1",
			)
			.toArray()[0];
		return row ?? { failures: 0, opened_at: null };
	}
}
