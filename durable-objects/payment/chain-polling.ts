import { createServices } from "../../src/context";
import type { PaymentRecord, SolanaPaymentDetails } from "../../src/domain/payment";
import { droppedTransfer, planSettlement, type ReceiptRow } from "../../src/domain/solana-receipts";
import { log } from "../../src/lib/log";
import { recordProcessorOutcome } from "../../src/services/routing";
import { bookStrayDeposits } from "../../src/services/stray-deposits";
import type { ChainSide } from "./chain";
import type { PaymentCore } from "./core";
import {
	noteReceiptMissing,
	readReceipt,
	readReceipts,
	setReceiptCommitment,
	setReceiptDropped,
} from "./receipts";

/** The late window: after it, a payment's references get their last look. */
const LATE_WINDOW_S = 10 * 60;

/** How often a payment waiting for `finalized` asks for its receipts' statuses. */
const CONFIRM_INTERVAL_MS = 2_000;
/** Status checks that must miss a counted transaction before it counts as dropped. */
const DROPPED_AFTER_MISSES = 3;
/** Slots after which a transaction that never reached `finalized` cannot land any more. */
const BLOCKHASH_LIFETIME_SLOTS = 151;

/**
 * What the chain side does by alarm: the confirmation polling of receipts that wait for
 * `finalized` (the `poll` job) and the final looks at a token payment's references (`final_look`).
 */
export class ChainPolling {
	constructor(
		private readonly core: PaymentCore,
		private readonly chain: ChainSide,
	) {}

	/**
	 * A payment waiting for `finalized`: asks for its counted receipts' statuses in one batched
	 * call, records those that finalized, and reverses those proven dropped (missing from several
	 * checks and older than any blockhash). No deadline: it looks until one or the other is true.
	 */
	async confirmReceipts(): Promise<void> {
		this.core.jobs.unschedule("poll");
		let payment = this.core.read();
		if (!payment?.solana || payment.status !== "processing") return;
		const waiting = readReceipts(this.core.sql).filter(
			(r) => r.disposition === "counted" && r.commitment !== "finalized",
		);
		let statuses: ({ confirmationStatus: string | null; err: unknown } | null)[];
		let finalizedSlot = 0;
		try {
			const rpc = createServices(this.core.env()).solana;
			statuses = (
				await rpc.call<{ value: ({ confirmationStatus: string | null; err: unknown } | null)[] }>(
					"getSignatureStatuses",
					[waiting.map((r) => r.signature), { searchTransactionHistory: true }],
				)
			).value;
			if (statuses.some((s) => s === null)) {
				finalizedSlot = Number(
					await rpc.call<number | bigint>("getSlot", [{ commitment: "finalized" }], (v) =>
						["number", "bigint"].includes(typeof v),
					),
				);
			}
			if (this.core.chainMeta.get("rpcFailures") > 0) {
				// Recovered: tell the routing circuit breaker the network answers again.
				await recordProcessorOutcome(this.core.env(), "solana", "success");
				this.core.chainMeta.set("rpcFailures", 0);
			}
		} catch (err) {
			const failures = this.core.chainMeta.get("rpcFailures") + 1;
			this.core.chainMeta.set("rpcFailures", failures);
			await recordProcessorOutcome(this.core.env(), "solana", "failure");
			const delay = Math.min(1000 * 2 ** failures, 60_000);
			log("warn", "finality check failed; backing off", {
				payment: payment.id,
				failures,
				retry_in_ms: delay,
				error: err instanceof Error ? err.message : String(err),
			});
			this.core.jobs.schedule("poll", Date.now() + delay);
			return;
		}
		const dropped: ReceiptRow[] = [];
		this.core.ctx.storage.transactionSync(() => {
			waiting.forEach((r, i) => {
				const status = statuses[i];
				if (status?.confirmationStatus === "finalized" && !status.err) {
					setReceiptCommitment(this.core.sql, r.id, "finalized");
				} else if (
					!status &&
					noteReceiptMissing(this.core.sql, r.id) >= DROPPED_AFTER_MISSES &&
					finalizedSlot > r.slot + BLOCKHASH_LIFETIME_SLOTS
				) {
					dropped.push(r);
				}
			});
		});
		const rows = readReceipts(this.core.sql);
		const plan = planSettlement({
			payment,
			solana: payment.solana,
			rows: rows.filter((r) => !dropped.some((d) => d.id === r.id)),
			toleranceBps: this.chain.toleranceBps(),
		});
		let assessed: { risk?: PaymentRecord["risk"]; customer?: string | null } = {};
		if (plan.decision.status === "succeeded") {
			assessed = await this.chain.assessPayer(payment, plan.details.payer ?? "");
		}
		payment = this.core.read() as PaymentRecord;
		if (payment.status === "processing") {
			const nowS = Math.floor(Date.now() / 1000);
			const gone = dropped.filter(
				(d) => readReceipt(this.core.sql, d.id)?.disposition === "counted",
			);
			const remaining = readReceipts(this.core.sql).filter((r) => !gone.some((d) => d.id === r.id));
			const decision = planSettlement({
				payment,
				solana: payment.solana as SolanaPaymentDetails,
				rows: remaining,
				toleranceBps: this.chain.toleranceBps(),
			}).decision.status;
			if (gone.length > 0 || decision !== "processing") {
				this.chain.commitSettlement(
					payment,
					remaining,
					gone.map((d) => droppedTransfer(payment as PaymentRecord, d, nowS)),
					() => {
						for (const d of gone) setReceiptDropped(this.core.sql, d.id);
					},
					assessed,
				);
				await this.core.flush();
			}
		}
		if (this.core.read()?.status === "processing") {
			this.core.jobs.schedule("poll", Date.now() + CONFIRM_INTERVAL_MS);
		}
	}

	/**
	 * A bounded look at the payment's own references, at expiry and at the end of the late
	 * window, for tokens sent to another token account of the settlement wallet than the one the
	 * watchers watch (bookStrayDeposits). A failure looks again a minute later.
	 */
	async finalLook(): Promise<void> {
		this.core.jobs.unschedule("final_look");
		const payment = this.core.read();
		if (!payment?.solana?.mint) return;
		try {
			const found = await bookStrayDeposits(this.core.env(), payment);
			if (found > 0)
				log("warn", "tokens sent to a non-associated account held for their sender", {
					payment: payment.id,
					found,
				});
		} catch (err) {
			log("warn", "final look at the payment's references failed; retrying", {
				payment: payment.id,
				error: err instanceof Error ? err.message : String(err),
			});
			this.core.jobs.schedule("final_look", Date.now() + 60_000);
			return;
		}
		const looks = this.core.chainMeta.get("finalLooks") + 1;
		this.core.chainMeta.set("finalLooks", looks);
		if (looks < 2) {
			this.core.jobs.schedule("final_look", (payment.expires_at + LATE_WINDOW_S + 5) * 1000);
		}
	}
}
