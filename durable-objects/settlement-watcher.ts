// Over 400 lines on purpose: one scan loop (open, page, queue, fetch, book) whose steps share the
// account's cursor and pending list in this object's storage; split, they would pass that around.
import { DurableObject } from "cloudflare:workers";
import { getConfig } from "../src/config";
import { createServices } from "../src/context";
import { postTransfer, settlementLedgerTotal } from "../src/db/ledger";
import { paymentsForKeys, recordSignature } from "../src/db/solana-references";
import { accounts, modeOf } from "../src/domain/ledger";
import { type Inflow, inflowOf, type WatchedAccount } from "../src/domain/solana-inflow";
import type { ParsedTransaction } from "../src/domain/solana-match";
import type { Env } from "../src/env";
import { log } from "../src/lib/log";
import { type SolanaRpc, SolanaRpcError } from "../src/processors/solana/rpc";
import { paymentStub } from "../src/services/payments";
import { chainLivemode, settlementAccountFor } from "../src/services/settlement-accounts";
import { tokenCatalog } from "../src/services/tokens";
import { bookUnattributed } from "../src/services/unattributed-funds";

/** The RPC calls a scan makes. */
type ChainReader = Pick<SolanaRpc, "call">;

/** Tries per RPC call within a scan: a flaky node costs a retry, not the whole scan. */
const CALL_TRIES = 3;

/** The client, with each retryable failure tried again at once (up to CALL_TRIES in all). */
function retrying(rpc: SolanaRpc): ChainReader {
	return {
		async call<T>(method: string, params: unknown[], check?: (result: unknown) => boolean) {
			for (let attempt = 1; ; attempt++) {
				try {
					return await rpc.call<T>(method, params, check);
				} catch (err) {
					if (!(err instanceof SolanaRpcError) || !err.retryable || attempt >= CALL_TRIES)
						throw err;
				}
			}
		},
	};
}

/** What one scan of a settlement account did. */
export interface ScanSummary {
	/** True when every signature the account had at the scan's start has been booked. */
	caughtUp: boolean;
	/** Signatures booked by this scan. */
	processed: number;
	/** The newest slot the watcher has seen for the account (0 when it has none). */
	slot: number;
	/** Why the scan stopped early (the RPC or D1 failed); what it had booked stays booked. */
	error?: string;
}

interface SignatureInfo {
	signature: string;
	slot: number;
	err: unknown;
	confirmationStatus?: string | null;
}

/** Inflows from this amount on are kept out of the ledger (SQLite integers are 64-bit). */
const LEDGER_LIMIT = 2n ** 62n;
/** Transactions fetched at once while working through the pending list. */
const FETCH_BATCH = 8;
/** The longest wait after failed scans while payments are open: an outage ends, detection resumes. */
const MAX_BACKOFF_MS = 5_000;

/**
 * One object per settlement account (the settlement wallet for SOL, its associated token account
 * for each mint). It pages the account's signatures back to a persisted cursor — through every
 * page, so spam on an address can delay but never hide a payment — keeps the new ones in a
 * pending list, reads each transaction once, and books every inflow: handed to the payment a
 * reference in the transaction names (its object judges and books it), or booked here as
 * unattributed funds held for the sender. A signature leaves the pending list only once its
 * inflow is booked, so a failure anywhere means the next scan carries on from it.
 *
 * The cost is per transaction that reaches the account, and one `getSignaturesForAddress` a
 * slot while payments are open, whatever their number.
 */
export class SettlementWatcher extends DurableObject<Env> {
	private readonly sql: SqlStorage;
	private current: Promise<ScanSummary> | null = null;
	private next: Promise<ScanSummary> | null = null;

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		this.sql = ctx.storage.sql;
		this.sql.exec(`
			CREATE TABLE IF NOT EXISTS state (k TEXT PRIMARY KEY, v TEXT NOT NULL);
			CREATE TABLE IF NOT EXISTS pending (
				signature TEXT PRIMARY KEY, slot INTEGER NOT NULL, seq INTEGER NOT NULL,
				commitment TEXT NOT NULL);
		`);
	}

	/** Payments in this account's token are open until `untilMs`: look about once a slot until then. */
	async watch(currency: string, untilMs: number): Promise<{ error?: string }> {
		this.setState("currency", currency);
		// Watching starts before the first payment in this token is quoted: what the account holds
		// then is the gateway's own, and every later inflow is booked.
		if (this.getState("cursor") === null) {
			const opened = await this.scan();
			// An answer, not an exception: nothing rejects across the RPC boundary.
			if (opened.error) return { error: `Cannot start watching ${currency}: ${opened.error}` };
		}
		if (untilMs > Number(this.getState("active_until") ?? "0")) {
			this.setState("active_until", String(untilMs));
		}
		const alarm = await this.ctx.storage.getAlarm();
		const due = Date.now() + this.intervalMs();
		if (alarm === null || alarm > due) await this.ctx.storage.setAlarm(due);
		return {};
	}

	/**
	 * Books everything the account received up to now. Concurrent callers share one scan; a call
	 * made while a scan runs waits for a fresh one, so it always covers what landed before it.
	 */
	async scan(currency?: string): Promise<ScanSummary> {
		if (currency) this.setState("currency", currency);
		if (!this.current) return this.begin();
		this.next ??= this.current.then(() => {
			this.next = null;
			return this.begin();
		});
		return this.next;
	}

	/** The watcher's position, for the treasury view and for operators. */
	async status(): Promise<{
		currency: string | null;
		cursor: string | null;
		slot: number;
		pending: number;
		active_until: number;
	}> {
		return {
			currency: this.getState("currency"),
			cursor: this.getState("cursor"),
			slot: Number(this.getState("slot") ?? "0"),
			pending: this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM pending").one().n,
			active_until: Number(this.getState("active_until") ?? "0"),
		};
	}

	override async alarm(): Promise<void> {
		const started = Date.now();
		let delay = this.intervalMs();
		const result = await this.scan();
		if (!result.error) {
			this.setState("failures", "0");
		} else {
			const failures = Number(this.getState("failures") ?? "0") + 1;
			this.setState("failures", String(failures));
			delay = Math.min(delay * 2 ** failures, MAX_BACKOFF_MS);
			log("warn", "settlement scan failed; backing off", {
				currency: this.getState("currency"),
				failures,
				retry_in_ms: delay,
				error: result.error,
			});
		}
		// Idle (no payment open in this token): no alarm; the minute cron's treasury check scans.
		// Looks start a slot apart (not a slot after the previous look ended).
		if (Date.now() < Number(this.getState("active_until") ?? "0")) {
			await this.ctx.storage.setAlarm(Math.max(Date.now() + 10, started + delay));
		}
	}

	private begin(): Promise<ScanSummary> {
		// A failure is an answer, not an exception: callers (the alarm, the treasury check, the
		// checkout's hint) decide what to do, and nothing rejects across the RPC boundary.
		const run = this.runScan()
			.catch(
				(err: unknown): ScanSummary => ({
					caughtUp: false,
					processed: 0,
					slot: Number(this.getState("slot") ?? "0"),
					error: err instanceof Error ? err.message : String(err),
				}),
			)
			.finally(() => {
				if (this.current === run) this.current = null;
			});
		this.current = run;
		return run;
	}

	private intervalMs(): number {
		return getConfig(this.env).SOLANA_WATCH_INTERVAL_MS;
	}

	private async watched(): Promise<WatchedAccount> {
		const currency = this.getState("currency");
		const token = tokenCatalog(this.env).find((t) => (t.mint ?? "sol") === currency);
		if (!currency || !token)
			throw new Error(`No configured token for settlement account ${currency}`);
		const account = await settlementAccountFor(this.env, token);
		return { address: account.address, currency, mint: token.mint, owner: account.owner };
	}

	private async runScan(): Promise<ScanSummary> {
		const rpc = retrying(createServices(this.env).solana);
		const watched = await this.watched();
		if (this.getState("cursor") === null) await this.open(rpc, watched);
		if (this.getState("opening_posted") === "0") await this.postOpening(watched);
		await this.collect(rpc, watched);
		const processed = await this.process(rpc, watched);
		const left = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM pending").one().n;
		return { caughtUp: left === 0, processed, slot: Number(this.getState("slot") ?? "0") };
	}

	/**
	 * The first scan: what the account holds now is the gateway's own (booked as its float), and
	 * watching starts after the newest transaction that balance includes.
	 */
	private async open(rpc: ChainReader, watched: WatchedAccount): Promise<void> {
		const { slot, balance } = await this.balanceOf(rpc, watched);
		const infos = await rpc.call<SignatureInfo[]>("getSignaturesForAddress", [
			watched.address,
			{ limit: 50, commitment: "confirmed" },
		]);
		// Whatever the ledger already books in this account (refunds' network fees paid before
		// watching began, say) stays; only the rest of the chain's balance is the gateway's float.
		const booked = await settlementLedgerTotal(this.env.DB, watched.currency);
		// Signatures newer than the balance's slot are not in it: they stay to be booked.
		const included = infos.find((i) => i.slot <= slot);
		this.ctx.storage.transactionSync(() => {
			this.setState("cursor", included?.signature ?? "");
			this.setState("slot", String(included?.slot ?? 0));
			this.setState("opening_balance", balance.toString());
			this.setState("opening_amount", (balance + booked).toString());
			this.setState("opening_posted", "0");
			this.queue(infos.filter((i) => i.slot > slot));
		});
	}

	/**
	 * Books the opening: the part of the account's balance at the start that no ledger entry
	 * explains is the gateway's float. Kept in storage first, so a retry posts the same transfer.
	 */
	private async postOpening(watched: WatchedAccount): Promise<void> {
		const amount = BigInt(this.getState("opening_amount") ?? "0");
		if (amount !== 0n) {
			const livemode = chainLivemode(this.env);
			await postTransfer(this.env.DB, {
				id: `opening:${modeOf(livemode)}:${watched.currency}:${watched.address}`,
				kind: "adjustment",
				reference: watched.address,
				livemode,
				created: Math.floor(Date.now() / 1000),
				postings: [
					{
						account: accounts.settlement(livemode, "solana", watched.currency),
						currency: watched.currency,
						amount: -amount,
					},
					{
						account: accounts.treasuryFloat(livemode, watched.currency),
						currency: watched.currency,
						amount,
					},
				],
			});
		}
		this.setState("opening_posted", "1");
	}

	private async balanceOf(
		rpc: ChainReader,
		watched: WatchedAccount,
	): Promise<{ slot: number; balance: bigint }> {
		if (watched.mint === null) {
			const r = await rpc.call<{ context: { slot: number }; value: number | bigint }>(
				"getBalance",
				[watched.address, { commitment: "confirmed" }],
			);
			return { slot: Number(r.context.slot), balance: BigInt(r.value) };
		}
		try {
			const r = await rpc.call<{ context: { slot: number }; value: { amount: string } }>(
				"getTokenAccountBalance",
				[watched.address, { commitment: "confirmed" }],
			);
			return { slot: Number(r.context.slot), balance: BigInt(r.value.amount) };
		} catch (err) {
			// No token account yet: it holds nothing, and everything it will receive is new.
			if (err instanceof SolanaRpcError && !err.retryable) return { slot: 0, balance: 0n };
			throw err;
		}
	}

	/** Pages back from the newest signature to the cursor and queues what is new, oldest first. */
	private async collect(rpc: ChainReader, watched: WatchedAccount): Promise<void> {
		const until = this.getState("cursor") || undefined;
		const PAGE = getConfig(this.env).SOLANA_SIGNATURE_PAGE_SIZE;
		const fresh: SignatureInfo[] = [];
		let before: string | undefined;
		for (;;) {
			const page = await rpc.call<SignatureInfo[]>("getSignaturesForAddress", [
				watched.address,
				{
					limit: PAGE,
					commitment: "confirmed",
					...(until ? { until } : {}),
					...(before ? { before } : {}),
				},
			]);
			fresh.push(...page);
			if (page.length < PAGE) break;
			before = page[page.length - 1]?.signature;
		}
		if (fresh.length === 0) return;
		const newest = fresh[0] as SignatureInfo;
		this.ctx.storage.transactionSync(() => {
			this.queue(fresh);
			this.setState("cursor", newest.signature);
			this.setState("slot", String(newest.slot));
		});
	}

	/** Adds signatures (newest first, as RPC lists them) to the pending list in chain order. */
	private queue(infos: SignatureInfo[]): void {
		const last =
			this.sql.exec<{ seq: number | null }>("SELECT MAX(seq) AS seq FROM pending").one().seq ?? 0;
		const base = Math.max(last, Number(this.getState("seq") ?? "0"));
		const ordered = [...infos].reverse();
		ordered.forEach((info, i) => {
			// A failed transaction moves no funds into the account: nothing to book, nothing to fetch.
			if (info.err !== null && info.err !== undefined) return;
			this.sql.exec(
				"INSERT OR IGNORE INTO pending (signature, slot, seq, commitment) VALUES (?, ?, ?, ?)",
				info.signature,
				info.slot,
				base + i + 1,
				info.confirmationStatus === "finalized" ? "finalized" : "confirmed",
			);
		});
		this.setState("seq", String(base + ordered.length));
	}

	/** Books pending signatures in chain order; stops at the first that cannot be read yet. */
	private async process(rpc: ChainReader, watched: WatchedAccount): Promise<number> {
		let processed = 0;
		for (;;) {
			const batch = this.sql
				.exec<{ signature: string; commitment: string }>(
					"SELECT signature, commitment FROM pending ORDER BY seq LIMIT ?",
					FETCH_BATCH,
				)
				.toArray();
			if (batch.length === 0) return processed;
			// Read together, booked in order: what was read before a failed read is booked, and the
			// failure ends the scan there (the next one starts from it).
			const reads = await Promise.allSettled(
				batch.map((p) =>
					rpc.call<ParsedTransaction | null>("getTransaction", [
						p.signature,
						{ encoding: "jsonParsed", commitment: "confirmed", maxSupportedTransactionVersion: 0 },
					]),
				),
			);
			for (const [i, pending] of batch.entries()) {
				const read = reads[i] as PromiseSettledResult<ParsedTransaction | null>;
				if (read.status === "rejected") throw read.reason;
				const tx = read.value;
				// Listed but not yet readable on this node: the next scan tries again, in order.
				if (!tx) return processed;
				const inflow = inflowOf(tx, watched);
				if (inflow) {
					await this.book(inflow, pending.commitment === "finalized" ? "finalized" : "confirmed");
				}
				this.sql.exec("DELETE FROM pending WHERE signature = ?", pending.signature);
				processed++;
			}
		}
	}

	/**
	 * Hands the inflow to the payment a reference names (the memo's payment first); a payment
	 * quoted in another token declines it and the next is asked. What no payment takes is booked
	 * as unattributed.
	 */
	private async book(inflow: Inflow, commitment: "confirmed" | "finalized"): Promise<void> {
		const named = await paymentsForKeys(this.env.DB, inflow.keys);
		// The payments the memos name come first, in the memos' order: a transaction that names
		// several payments pays the first it means with its inflow.
		const rank = (id: string) => {
			const i = inflow.memos.indexOf(id);
			return i < 0 ? inflow.memos.length : i;
		};
		const ordered = [...named].sort((a, b) => rank(a.paymentId) - rank(b.paymentId));
		// Only the payments quoted in this token can take the inflow. One transaction that names
		// several of them (one balance change, several payments) is not split by guesswork: the
		// funds are held for their sender instead, so one merchant's money never pays another's.
		const payments = [...new Set(ordered.map((n) => n.paymentId))];
		const accepting: string[] = [];
		// An amount the ledger's 64-bit integers cannot hold (with room for sums) is no payment:
		// it is recorded for the operator, outside the ledger, and can be sent back whole.
		const bookable = inflow.amount < LEDGER_LIMIT;
		for (const paymentId of bookable ? payments : []) {
			if (await paymentStub(this.env, paymentId).acceptsCurrency(inflow.currency)) {
				accepting.push(paymentId);
			}
		}
		let reason = payments.length === 0 ? "no_reference" : "wrong_mint";
		if (accepting.length > 1) reason = "several_payments";
		if (!bookable) reason = "amount_too_large";
		// Several wallets sent it and their parts cannot be told apart: no payment's refund could
		// give each its own, so the funds are held for the operator instead.
		if (inflow.ambiguousSenders && accepting.length === 1) reason = "several_senders";
		if (accepting.length === 1 && !inflow.ambiguousSenders) {
			const paymentId = accepting[0] as string;
			const reference = ordered.find((n) => n.paymentId === paymentId)?.reference as string;
			const result = await paymentStub(this.env, paymentId).recordInflow({
				id: inflow.id,
				signature: inflow.signature,
				currency: inflow.currency,
				account: inflow.account,
				reference,
				amount: inflow.amount.toString(),
				payer: inflow.sender,
				...(inflow.contributions
					? {
							contributions: inflow.contributions.map((c) => ({
								payer: c.payer,
								amount: c.amount.toString(),
							})),
						}
					: {}),
				slot: inflow.slot,
				block_time: inflow.blockTime,
				commitment,
			});
			if (result.outcome === "booked") {
				await recordSignature(
					this.env.DB,
					inflow.signature,
					paymentId,
					Math.floor(Date.now() / 1000),
				);
				return;
			}
			reason = result.reason;
		}
		await bookUnattributed(this.env, inflow, {
			reason,
			paymentId: accepting[0] ?? payments[0] ?? null,
			inLedger: bookable,
		});
	}

	private getState(key: string): string | null {
		return (
			this.sql.exec<{ v: string }>("SELECT v FROM state WHERE k = ?", key).toArray()[0]?.v ?? null
		);
	}

	private setState(key: string, value: string): void {
		this.sql.exec(
			"INSERT INTO state (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v",
			key,
			value,
		);
	}
}
