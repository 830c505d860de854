// Just over 400 lines: one transfer's send state machine (build, broadcast, confirm, report) over
// its own tables; its parts only make sense together.

import { createServices } from "../src/context";
import type { Env } from "../src/env";
import { log } from "../src/lib/log";
import type { SignedTransfer } from "../src/processors/solana/refund-transaction";
import { type SolanaRpc, SolanaRpcError } from "../src/processors/solana/rpc";
import { Jobs } from "./jobs";
import { readMeta, writeMeta } from "./meta";

export type SenderState = "sending" | "finalized" | "failed";

export type SendAttempt = {
	n: number;
	signature: string;
	blockhash: string;
	last_valid_block_height: number;
	/** open: may still land; expired: proven never to land; landed / failed: final on chain. */
	state: "open" | "expired" | "landed" | "failed";
	broadcasts: number;
	last_error: string | null;
};

export interface SenderStatus {
	state: SenderState | null;
	failure: string | null;
	signature: string | null;
	network_fee: string | null;
	reported: boolean;
	attempts: SendAttempt[];
}

/** How a transfer ended, for whoever books it. */
export interface SenderOutcome {
	state: "finalized" | "failed";
	failure: string | null;
	signature: string | null;
	/** Lamports the transactions cost the settlement wallet beyond the SOL they sent. */
	networkFee: bigint;
}

/** What one kind of transfer (a refund, a payout) tells the shared sender. */
export interface ChainSendJob<Spec> {
	/** "refund" or "payout": in failure messages and log lines. */
	noun: string;
	/** The id the transfer belongs to (one sender per id). */
	idOf(spec: Spec): string;
	/** A new signed transaction; an Error (not a retryable SolanaRpcError) fails the transfer unsent. */
	build(env: Env, rpc: SolanaRpc, spec: Spec): Promise<SignedTransfer>;
	/** Lamports the transfer itself sends (a SOL transfer's amount), not counted as network cost. */
	lamportsSent(spec: Spec): bigint;
	/** Books the outcome; a throw is retried by alarm until it succeeds. */
	report(env: Env, spec: Spec, outcome: SenderOutcome): Promise<void>;
}

interface SignatureStatus {
	slot: number;
	err: unknown;
	confirmationStatus: "processed" | "confirmed" | "finalized" | null;
}

/** Transactions built for one transfer before it gives up (each proven never to land first). */
const MAX_TRANSACTIONS = 5;
/** Failures to build the first transaction (no RPC) before the transfer fails; nothing was sent. */
const MAX_BUILD_FAILURES = 12;
/** How often an unconfirmed transaction is looked at (and re-broadcast while it can land). */
const CHECK_MS = 2_000;

const SCHEMA = `
	CREATE TABLE IF NOT EXISTS sender (
		id INTEGER PRIMARY KEY CHECK (id = 1), spec TEXT NOT NULL, state TEXT NOT NULL,
		failure TEXT, signature TEXT, network_fee TEXT, reported INTEGER NOT NULL DEFAULT 0);
	CREATE TABLE IF NOT EXISTS attempts (
		n INTEGER PRIMARY KEY, signature TEXT NOT NULL UNIQUE, wire TEXT NOT NULL,
		blockhash TEXT NOT NULL, last_valid_block_height INTEGER NOT NULL, state TEXT NOT NULL,
		broadcasts INTEGER NOT NULL DEFAULT 0, last_error TEXT, created INTEGER NOT NULL);
	CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL);
	${Jobs.SCHEMA}
`;

type SenderRow = {
	state: SenderState;
	failure: string | null;
	signature: string | null;
	network_fee: string | null;
	reported: number;
};

/**
 * Sends one transfer from the settlement wallet exactly once, inside the Durable Object that owns
 * it (its storage, its alarm). Every signed transaction is stored with its signature before it is
 * broadcast. While its blockhash can still land, a retry re-broadcasts that same transaction
 * (same signature: the network runs it at most once). Only when the finalized block height has
 * passed its lastValidBlockHeight and the signature is absent from the whole history is a new one
 * built. Confirmation is followed by alarm to `finalized`, then the job books the outcome.
 */
export class ChainSender<Spec> {
	private readonly sql: SqlStorage;
	private readonly jobs: Jobs<"step">;
	/** One step at a time: a check interleaved with a build could otherwise build twice. */
	private running: Promise<unknown> = Promise.resolve();

	constructor(
		ctx: DurableObjectState,
		private readonly env: Env,
		private readonly job: ChainSendJob<Spec>,
	) {
		this.sql = ctx.storage.sql;
		this.jobs = new Jobs<"step">(this.sql, ctx.storage);
		this.sql.exec(SCHEMA);
	}

	/** Takes the transfer on (once; later calls with the same id just look again). */
	async start(spec: Spec): Promise<SenderStatus> {
		const stored = this.spec();
		const id = this.job.idOf(spec);
		if (stored && this.job.idOf(stored) !== id) {
			throw new Error(`This sender belongs to ${this.job.idOf(stored)}, not ${id}`);
		}
		if (!stored) {
			this.sql.exec(
				"INSERT INTO sender (id, spec, state) VALUES (1, ?, 'sending')",
				JSON.stringify(spec),
			);
		}
		await this.exclusive(() => this.step());
		return this.status();
	}

	status(): SenderStatus {
		const row = this.row();
		return {
			state: row?.state ?? null,
			failure: row?.failure ?? null,
			signature: row?.signature ?? null,
			network_fee: row?.network_fee ?? null,
			reported: row?.reported === 1,
			attempts: this.attempts(),
		};
	}

	/**
	 * Gives up if nothing can land any more: no transaction was ever built, or the one built is
	 * proven absent past its blockhash's life. Otherwise the sender keeps going (by alarm) and
	 * the transfer will finish on its own; answers the state either way.
	 */
	async abandon(reason: string): Promise<SenderState | null> {
		return this.exclusive(async () => {
			const row = this.row();
			if (row?.state !== "sending") return row?.state ?? null;
			const open = this.attempts().find((a) => a.state === "open");
			if (open) {
				try {
					const verdict = await this.lookAt(createServices(this.env).solana, open);
					if (verdict !== "absent_expired") return "sending";
				} catch {
					return "sending";
				}
				this.setAttempt(open.n, "expired");
			}
			this.finish("failed", { failure: reason });
			await this.report();
			return this.row()?.state ?? null;
		});
	}

	async alarm(): Promise<void> {
		this.jobs.unschedule("step");
		await this.exclusive(() => this.step());
		this.jobs.arm();
	}

	private exclusive<T>(work: () => Promise<T>): Promise<T> {
		const next = this.running.then(work, work);
		this.running = next.catch(() => undefined);
		return next;
	}

	/** One look at the transfer, and whatever it calls for next. */
	private async step(): Promise<void> {
		const row = this.row();
		const spec = this.spec();
		if (!row || !spec) return;
		if (row.state !== "sending") {
			await this.report();
			return;
		}
		const rpc = createServices(this.env).solana;
		try {
			const open = this.attempts().find((a) => a.state === "open");
			if (open) {
				const verdict = await this.lookAt(rpc, open);
				writeMeta(this.sql, "errors", 0);
				if (verdict === "pending") {
					// Not seen yet, and its blockhash can still land: the same bytes again.
					await this.broadcast(rpc, open);
					this.jobs.schedule("step", Date.now() + CHECK_MS);
					return;
				}
				if (verdict === "confirming") {
					this.jobs.schedule("step", Date.now() + CHECK_MS);
					return;
				}
				if (verdict === "landed" || verdict === "failed") {
					const sent = verdict === "landed" ? this.job.lamportsSent(spec) : 0n;
					const fee = await networkCost(rpc, open.signature, sent);
					this.setAttempt(open.n, verdict);
					if (verdict === "landed") {
						this.finish("finalized", { signature: open.signature, networkFee: fee });
					} else {
						this.finish("failed", {
							failure: `The ${this.job.noun} transaction failed on chain.`,
							signature: open.signature,
							networkFee: fee,
						});
					}
					await this.report();
					return;
				}
				// Proven absent and expired: it can never land, so a new one may be built.
				this.setAttempt(open.n, "expired");
			}
			await this.sendNew(rpc, spec);
		} catch (err) {
			await this.onError(err);
		}
	}

	/**
	 * What became of an attempt. The height is read before the statuses: once the finalized
	 * height is past the attempt's lastValidBlockHeight no later block can include it, so a
	 * signature still absent from the whole history after that read will never land.
	 */
	private async lookAt(
		rpc: SolanaRpc,
		attempt: SendAttempt,
	): Promise<"pending" | "confirming" | "landed" | "failed" | "absent_expired"> {
		const height = await rpc.call<number>("getBlockHeight", [{ commitment: "finalized" }]);
		const { value } = await rpc.call<{ value: (SignatureStatus | null)[] }>(
			"getSignatureStatuses",
			[[attempt.signature], { searchTransactionHistory: true }],
		);
		const status = value[0];
		if (status) {
			if (status.confirmationStatus !== "finalized") return "confirming";
			return status.err === null || status.err === undefined ? "landed" : "failed";
		}
		return height > attempt.last_valid_block_height ? "absent_expired" : "pending";
	}

	private async sendNew(rpc: SolanaRpc, spec: Spec): Promise<void> {
		const expired = this.attempts().filter((a) => a.state === "expired");
		if (expired.length >= MAX_TRANSACTIONS) {
			const last = expired.at(-1)?.last_error;
			this.finish("failed", {
				failure: `No ${this.job.noun} transaction landed after ${MAX_TRANSACTIONS} tries${last ? `: ${last}` : "."}`,
			});
			await this.report();
			return;
		}
		const tx = await this.job.build(this.env, rpc, spec);
		const n = (this.attempts().at(-1)?.n ?? 0) + 1;
		// Durable before it exists anywhere else: whatever happens next, this signature is known.
		this.sql.exec(
			`INSERT INTO attempts (n, signature, wire, blockhash, last_valid_block_height, state, created)
			 VALUES (?, ?, ?, ?, ?, 'open', ?)`,
			n,
			tx.signature,
			tx.wire,
			tx.blockhash,
			tx.lastValidBlockHeight,
			Date.now(),
		);
		writeMeta(this.sql, "build_failures", 0);
		writeMeta(this.sql, "errors", 0);
		const attempt = this.attempts().find((a) => a.n === n) as SendAttempt;
		await this.broadcast(rpc, attempt);
		this.jobs.schedule("step", Date.now() + CHECK_MS);
	}

	/** Sends the stored bytes; a lost answer or a refusal leaves the attempt open for the next look. */
	private async broadcast(rpc: SolanaRpc, attempt: SendAttempt): Promise<void> {
		const wire = this.sql
			.exec<{ wire: string }>("SELECT wire FROM attempts WHERE n = ?", attempt.n)
			.one().wire;
		this.sql.exec("UPDATE attempts SET broadcasts = broadcasts + 1 WHERE n = ?", attempt.n);
		try {
			await rpc.call<string>("sendTransaction", [
				wire,
				{ encoding: "base64", preflightCommitment: "confirmed", maxRetries: 0 },
			]);
			this.sql.exec("UPDATE attempts SET last_error = NULL WHERE n = ?", attempt.n);
		} catch (err) {
			const message = err instanceof Error ? err.message : String(err);
			this.sql.exec(
				"UPDATE attempts SET last_error = ? WHERE n = ?",
				message.slice(0, 500),
				attempt.n,
			);
			log("warn", `${this.job.noun} broadcast failed; looking again`, {
				[this.job.noun]: this.id(),
				signature: attempt.signature,
				error: message,
			});
		}
	}

	private async onError(err: unknown): Promise<void> {
		const message = err instanceof Error ? err.message : String(err);
		const retryable = err instanceof SolanaRpcError && err.retryable;
		const building = !this.attempts().some((a) => a.state === "open");
		const failures = readMeta(this.sql, "build_failures") + (building ? 1 : 0);
		writeMeta(this.sql, "build_failures", failures);
		const errors = readMeta(this.sql, "errors") + 1;
		writeMeta(this.sql, "errors", errors);
		if (building && (!retryable || failures >= MAX_BUILD_FAILURES)) {
			// Nothing of this transfer is on its way: failing it releases the reserved amount.
			this.finish("failed", { failure: `The ${this.job.noun} could not be sent: ${message}` });
			await this.report();
			return;
		}
		const delay = Math.min(CHECK_MS * 2 ** Math.min(errors, 5), 60_000);
		log("warn", `${this.job.noun} sender trouble; looking again`, {
			[this.job.noun]: this.id(),
			retry_in_ms: delay,
			error: message,
		});
		this.jobs.schedule("step", Date.now() + delay);
	}

	private finish(
		state: "finalized" | "failed",
		outcome: { failure?: string; signature?: string; networkFee?: bigint },
	): void {
		this.sql.exec(
			"UPDATE sender SET state = ?, failure = ?, signature = ?, network_fee = ? WHERE id = 1",
			state,
			outcome.failure ?? null,
			outcome.signature ?? null,
			outcome.networkFee !== undefined ? outcome.networkFee.toString() : null,
		);
	}

	/** Hands the outcome to its booker; retried by alarm until it has been booked. */
	private async report(): Promise<void> {
		const row = this.row();
		const spec = this.spec();
		if (!row || !spec || row.reported === 1 || row.state === "sending") return;
		try {
			await this.job.report(this.env, spec, {
				state: row.state,
				failure: row.failure,
				signature: row.signature,
				networkFee: BigInt(row.network_fee ?? "0"),
			});
			this.sql.exec("UPDATE sender SET reported = 1 WHERE id = 1");
			this.jobs.unschedule("step");
		} catch (err) {
			log("warn", `${this.job.noun} outcome not delivered; retrying`, {
				[this.job.noun]: this.job.idOf(spec),
				error: err instanceof Error ? err.message : String(err),
			});
			this.jobs.schedule("step", Date.now() + 10_000);
		}
	}

	private id(): string | undefined {
		const spec = this.spec();
		return spec ? this.job.idOf(spec) : undefined;
	}

	private row(): SenderRow | null {
		return (
			this.sql
				.exec<SenderRow>(
					"SELECT state, failure, signature, network_fee, reported FROM sender WHERE id = 1",
				)
				.toArray()[0] ?? null
		);
	}

	private spec(): Spec | null {
		const row = this.sql
			.exec<{ spec: string }>("SELECT spec FROM sender WHERE id = 1")
			.toArray()[0];
		return row ? (JSON.parse(row.spec) as Spec) : null;
	}

	private attempts(): SendAttempt[] {
		return this.sql
			.exec<SendAttempt>(
				"SELECT n, signature, blockhash, last_valid_block_height, state, broadcasts, last_error FROM attempts ORDER BY n",
			)
			.toArray();
	}

	private setAttempt(n: number, state: SendAttempt["state"]): void {
		this.sql.exec("UPDATE attempts SET state = ? WHERE n = ?", state, n);
	}
}

/**
 * Lamports the transaction cost the settlement wallet (its fee payer, account 0) beyond the SOL
 * it sent: the fee, and the rent of a token account it created for the recipient.
 */
async function networkCost(rpc: SolanaRpc, signature: string, sent: bigint): Promise<bigint> {
	const tx = await rpc.call<{ meta: { preBalances: number[]; postBalances: number[] } } | null>(
		"getTransaction",
		[signature, { encoding: "json", commitment: "finalized", maxSupportedTransactionVersion: 0 }],
	);
	if (!tx) throw new SolanaRpcError(`getTransaction: ${signature} not visible yet`, true);
	const spent = BigInt(tx.meta.preBalances[0] ?? 0) - BigInt(tx.meta.postBalances[0] ?? 0);
	return spent - sent;
}
