import { DurableObject } from "cloudflare:workers";
import type { Env } from "../src/env";

/** The longest velocity window a rule may have (RiskConfigSchema): older hits are dropped. */
const MAX_WINDOW_MS = 30 * 86_400 * 1000;

export interface CountRequest {
	/** The payment counted; counting it again (a retry) changes nothing. */
	payment: string;
	/** Milliseconds since the epoch. */
	now: number;
	keys: { key: string; window_seconds: number }[];
	/** A payer's wallet to look up (and remember) for first-seen checks. */
	wallet?: string | null;
}

export interface CountResult {
	/** Payments in each key's window, this one included, in the order asked. */
	counts: number[];
	/** Whether the merchant had never seen the wallet before this payment; null when not asked. */
	wallet_first_seen: boolean | null;
}

/**
 * One object per merchant and mode (`idFromName("<merchant>:live|test")`): velocity counters
 * over sliding windows, and the wallets that have paid the merchant. Each call records and
 * counts in one synchronous step, so concurrent payments are counted one after the other and
 * exactly `max` of them pass a velocity limit.
 */
export class RiskCounters extends DurableObject<Env> {
	private readonly sql: SqlStorage;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.sql = ctx.storage.sql;
		this.sql.exec(`
			CREATE TABLE IF NOT EXISTS hits (
				key TEXT NOT NULL, payment TEXT NOT NULL, at INTEGER NOT NULL,
				PRIMARY KEY (key, payment));
			CREATE INDEX IF NOT EXISTS hits_by_time ON hits (key, at);
			CREATE TABLE IF NOT EXISTS wallets (
				address TEXT PRIMARY KEY, first_payment TEXT NOT NULL, at INTEGER NOT NULL);
		`);
	}

	async count(request: CountRequest): Promise<CountResult> {
		return this.ctx.storage.transactionSync(() => {
			const counts = request.keys.map(({ key, window_seconds }) => {
				this.sql.exec(
					"DELETE FROM hits WHERE key = ? AND at <= ?",
					key,
					request.now - MAX_WINDOW_MS,
				);
				this.sql.exec(
					"INSERT OR IGNORE INTO hits (key, payment, at) VALUES (?, ?, ?)",
					key,
					request.payment,
					request.now,
				);
				return this.sql
					.exec<{ n: number }>(
						"SELECT COUNT(*) AS n FROM hits WHERE key = ? AND at > ?",
						key,
						request.now - window_seconds * 1000,
					)
					.one().n;
			});
			let first: boolean | null = null;
			if (request.wallet) {
				this.sql.exec(
					"INSERT OR IGNORE INTO wallets (address, first_payment, at) VALUES (?, ?, ?)",
					request.wallet,
					request.payment,
					request.now,
				);
				const row = this.sql
					.exec<{ first_payment: string }>(
						"SELECT first_payment FROM wallets WHERE address = ?",
						request.wallet,
					)
					.one();
				first = row.first_payment === request.payment;
			}
			return { counts, wallet_first_seen: first };
		});
	}
}
