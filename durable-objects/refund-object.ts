import { DurableObject } from "cloudflare:workers";
import type { SolanaRefundDetails } from "../src/domain/refund";
import type { Env } from "../src/env";
import { log } from "../src/lib/log";
import {
	buildRefundTransaction,
	settlementSigner,
} from "../src/processors/solana/refund-transaction";
import { rpcFromEnv, type SolanaRpc, SolanaRpcError } from "../src/processors/solana/rpc";
import { completeUnattributedRefund } from "../src/services/unattributed-funds";
import { Jobs } from "./outbox";

/** What to send: one crypto refund, as its payment's object planned and reserved it. */
export interface RefundTransferSpec {
	refund_id: string;
	/** The payment whose refund this is; empty for unattributed funds. */
	payment_id: string;
	/** Set instead of a payment: the unattributed inflow whose funds go back to their sender. */
	unattributed?: string;
	solana: SolanaRefundDetails;
}

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

interface SignatureStatus {
	slot: number;
	err: unknown;
	confirmationStatus: "processed" | "confirmed" | "finalized" | null;
}

/** Transactions built for one refund before it gives up (each proven never to land first). */
const MAX_TRANSACTIONS = 5;
/** Failures to build the first transaction (no RPC) before the refund fails; nothing was sent. */
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

/**
 * One object per crypto refund: sends its transfer from the settlement wallet exactly once. Every
 * signed transaction is stored with its signature before it is broadcast. While its blockhash
 * can still land, a retry re-broadcasts that same transaction (same signature: the network runs
 * it at most once). Only when the finalized block height has passed its lastValidBlockHeight and
 * the signature is absent from the whole history is a new one built. Confirmation is followed by
 * alarm to `finalized`, then the outcome goes to the payment's object, which books it.
 */
export class RefundObject extends DurableObject<Env> {
	private readonly sql: SqlStorage;
	private readonly jobs: Jobs<"step">;
	/** One step at a time: a check interleaved with a build could otherwise build twice. */
	private running: Promise<unknown> = Promise.resolve();

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.sql = ctx.storage.sql;
		this.jobs = new Jobs<"step">(this.sql, ctx.storage);
		this.sql.exec(SCHEMA);
	}

	/** Takes the refund on (once; later calls with the same refund just look again). */
	async start(spec: RefundTransferSpec): Promise<SenderStatus> {
		const stored = this.spec();
		if (stored && stored.refund_id !== spec.refund_id) {
			throw new Error(`This sender belongs to ${stored.refund_id}, not ${spec.refund_id}`);
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

	async status(): Promise<SenderStatus> {
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
	 * the refund will finish on its own; answers the state either way.
	 */
	async abandon(reason: string): Promise<SenderState | null> {
		return this.exclusive(async () => {
			const row = this.row();
			if (row?.state !== "sending") return row?.state ?? null;
			const open = this.attempts().find((a) => a.state === "open");
			if (open) {
				try {
					const verdict = await this.lookAt(rpcFromEnv(this.env), open);
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

	override async alarm(): Promise<void> {
		this.jobs.unschedule("step");
		await this.exclusive(() => this.step());
		this.jobs.arm();
	}

	private exclusive<T>(work: () => Promise<T>): Promise<T> {
		const next = this.running.then(work, work);
		this.running = next.catch(() => undefined);
		return next;
	}

	/** One look at the refund's transfer, and whatever it calls for next. */
	private async step(): Promise<void> {
		const row = this.row();
		const spec = this.spec();
		if (!row || !spec) return;
		if (row.state !== "sending") {
			await this.report();
			return;
		}
		const rpc = rpcFromEnv(this.env);
		try {
			const open = this.attempts().find((a) => a.state === "open");
			if (open) {
				const verdict = await this.lookAt(rpc, open);
				this.setMeta("errors", 0);
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
					const fee = await networkCost(rpc, open.signature, spec.solana, verdict === "landed");
					this.setAttempt(open.n, verdict);
					if (verdict === "landed") {
						this.finish("finalized", { signature: open.signature, networkFee: fee });
					} else {
						this.finish("failed", {
							failure: "The refund transaction failed on chain.",
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

	private async sendNew(rpc: SolanaRpc, spec: RefundTransferSpec): Promise<void> {
		const expired = this.attempts().filter((a) => a.state === "expired");
		if (expired.length >= MAX_TRANSACTIONS) {
			const last = expired.at(-1)?.last_error;
			this.finish("failed", {
				failure: `No refund transaction landed after ${MAX_TRANSACTIONS} tries${last ? `: ${last}` : "."}`,
			});
			await this.report();
			return;
		}
		const signer = await settlementSigner(this.env);
		const tx = await buildRefundTransaction(rpc, signer, spec.solana);
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
		this.setMeta("build_failures", 0);
		this.setMeta("errors", 0);
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
			log("warn", "refund broadcast failed; looking again", {
				refund: this.spec()?.refund_id,
				signature: attempt.signature,
				error: message,
			});
		}
	}

	private async onError(err: unknown): Promise<void> {
		const message = err instanceof Error ? err.message : String(err);
		const retryable = err instanceof SolanaRpcError && err.retryable;
		const building = !this.attempts().some((a) => a.state === "open");
		const failures = this.getMeta("build_failures") + (building ? 1 : 0);
		this.setMeta("build_failures", failures);
		const errors = this.getMeta("errors") + 1;
		this.setMeta("errors", errors);
		if (building && (!retryable || failures >= MAX_BUILD_FAILURES)) {
			// Nothing of this refund is on its way: failing it releases the reserved amount.
			this.finish("failed", { failure: `The refund could not be sent: ${message}` });
			await this.report();
			return;
		}
		const delay = Math.min(CHECK_MS * 2 ** Math.min(errors, 5), 60_000);
		log("warn", "refund sender trouble; looking again", {
			refund: this.spec()?.refund_id,
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

	/** Tells the payment's object how the refund ended; retried by alarm until it has heard. */
	private async report(): Promise<void> {
		const row = this.row();
		const spec = this.spec();
		if (!row || !spec || row.reported === 1 || row.state === "sending") return;
		try {
			const networkFee = row.network_fee ?? "0";
			if (spec.unattributed) {
				await completeUnattributedRefund(this.env, spec.unattributed, {
					signature: row.signature,
					networkFee: BigInt(networkFee),
					failed: row.state !== "finalized",
				});
				this.sql.exec("UPDATE sender SET reported = 1 WHERE id = 1");
				this.jobs.unschedule("step");
				return;
			}
			const payment = this.env.PAYMENTS.get(this.env.PAYMENTS.idFromName(spec.payment_id));
			const result =
				row.state === "finalized"
					? await payment.completeRefund(spec.refund_id, {
							solana: { signature: row.signature as string, network_fee: networkFee },
						})
					: await payment.failRefund(spec.refund_id, {
							reason: row.failure ?? "The refund could not be sent.",
							network_fee: networkFee,
						});
			if (!result.ok) log("error", "refund outcome not booked", { refund: spec.refund_id, result });
			this.sql.exec("UPDATE sender SET reported = 1 WHERE id = 1");
			this.jobs.unschedule("step");
		} catch (err) {
			log("warn", "refund outcome not delivered; retrying", {
				refund: spec.refund_id,
				error: err instanceof Error ? err.message : String(err),
			});
			this.jobs.schedule("step", Date.now() + 10_000);
		}
	}

	private row(): {
		state: SenderState;
		failure: string | null;
		signature: string | null;
		network_fee: string | null;
		reported: number;
	} | null {
		return (
			this.sql
				.exec<{
					state: SenderState;
					failure: string | null;
					signature: string | null;
					network_fee: string | null;
					reported: number;
				}>("SELECT state, failure, signature, network_fee, reported FROM sender WHERE id = 1")
				.toArray()[0] ?? null
		);
	}

	private spec(): RefundTransferSpec | null {
		const row = this.sql
			.exec<{ spec: string }>("SELECT spec FROM sender WHERE id = 1")
			.toArray()[0];
		return row ? (JSON.parse(row.spec) as RefundTransferSpec) : null;
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
}

/**
 * Lamports the transaction cost the settlement wallet (its fee payer, account 0) beyond the SOL
 * it sent: the fee, and the rent of a token account it created for the recipient.
 */
async function networkCost(
	rpc: SolanaRpc,
	signature: string,
	refund: SolanaRefundDetails,
	succeeded: boolean,
): Promise<bigint> {
	const tx = await rpc.call<{ meta: { preBalances: number[]; postBalances: number[] } } | null>(
		"getTransaction",
		[signature, { encoding: "json", commitment: "finalized", maxSupportedTransactionVersion: 0 }],
	);
	if (!tx) throw new SolanaRpcError(`getTransaction: ${signature} not visible yet`, true);
	const spent = BigInt(tx.meta.preBalances[0] ?? 0) - BigInt(tx.meta.postBalances[0] ?? 0);
	const sent = succeeded && refund.mint === null ? BigInt(refund.amount) : 0n;
	return spent - sent;
}
