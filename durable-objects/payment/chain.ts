import { createServices } from "../../src/context";
import { customerOwningWallet } from "../../src/db/customers";
import type { Transfer } from "../../src/domain/ledger";
import {
	type PaymentRecord,
	paidWith,
	type SolanaPaymentDetails,
	type TransitionResult,
} from "../../src/domain/payment";
import { eventTypeFor } from "../../src/domain/payment-state";
import {
	type InflowInput,
	type InflowResult,
	isOpen,
	judgeInflow,
	mergeRequote,
	planSettlement,
	quoteExpired,
	type ReceiptRow,
	receiptTransfer,
	settlementTransfer,
	tokenCurrency,
} from "../../src/domain/solana-receipts";
import { log } from "../../src/lib/log";
import { assessPaymentArrival } from "../../src/services/risk";
import { settlementWatcher } from "../../src/services/settlement-accounts";
import { quoteRemainder } from "../../src/services/solana-quote";
import type { PaymentCore } from "./core";
import { insertReceipt, readReceipt, readReceipts } from "./receipts";

/** Signature hints a payment takes from its checkout, and how long each waits for `confirmed`. */
const MAX_SIGNATURE_HINTS = 3;
const HINT_LOOKS = 40;
const HINT_LOOK_INTERVAL_MS = 100;

/**
 * The chain side of a payment: its quotes, the inflows the settlement watchers hand it (judged
 * and booked once, in one commit with their transition and ledger transfer) and the checkout's
 * signature hints. Receipts waiting for `finalized` are polled by ChainPolling (chain-polling.ts).
 */
export class ChainSide {
	constructor(private readonly core: PaymentCore) {}

	/**
	 * Replaces the crypto quote of an unpaid payment (a new token or a fresh rate). A partly paid
	 * payment keeps what it received at the rate it was paid at, and `solana` (quoted by the caller
	 * for the rest of the price) prices only the remainder; its token cannot change. Earlier
	 * references stay the payment's: funds sent to them are still counted.
	 */
	async updateSolana(solana: SolanaPaymentDetails): Promise<TransitionResult> {
		const current = this.core.read();
		if (!current) return { ok: false, error: "not_found", message: "No such payment" };
		if (current.status !== "requires_payment") {
			return {
				ok: false,
				error: "illegal_transition",
				status: current.status,
				message: "The quote of a payment that is no longer open cannot change.",
			};
		}
		const received = BigInt(current.solana?.amount_received ?? "0");
		if (
			current.solana &&
			received > 0n &&
			tokenCurrency(solana) !== tokenCurrency(current.solana)
		) {
			return {
				ok: false,
				error: "illegal_transition",
				status: current.status,
				message: `This payment has received part of its price in ${current.solana?.token}; the rest must be paid in ${current.solana?.token} too.`,
			};
		}
		const now = Math.floor(Date.now() / 1000);
		const next = {
			...current,
			solana: current.solana ? mergeRequote(current.solana, solana, received) : solana,
			updated: now,
			version: current.version + 1,
		};
		this.core.commit(next, current.status, "payment.quote_updated", []);
		if (
			this.core.jobs.dueAt("final_look") === null &&
			this.core.chainMeta.get("finalLooks") === 0
		) {
			this.scheduleFinalLooks(next);
		}
		await this.core.flush();
		return { ok: true, payment: next };
	}

	/**
	 * The checkout's fast path: the signature the payer's wallet returned. Never trusted: the
	 * chain is asked for its status (a few times, briefly, while it confirms) and only then is the
	 * settlement watcher asked to scan, which reads the transaction and books it like any other.
	 * A payment takes a few hints at most, so a stranger cannot buy RPC traffic with them.
	 */
	async signatureHint(signature: string): Promise<PaymentRecord | null> {
		const payment = this.core.read();
		if (!payment?.solana || !isOpen(payment.status)) return payment;
		const hints = this.core.chainMeta.get("signatureHints");
		if (hints >= MAX_SIGNATURE_HINTS) return payment;
		this.core.chainMeta.set("signatureHints", hints + 1);
		const rpc = createServices(this.core.env()).solana;
		for (let look = 0; look < HINT_LOOKS; look++) {
			let status: { confirmationStatus: string | null; err: unknown } | null = null;
			try {
				status =
					(
						await rpc.call<{
							value: ({ confirmationStatus: string | null; err: unknown } | null)[];
						}>("getSignatureStatuses", [[signature]])
					).value[0] ?? null;
			} catch {
				return this.core.read();
			}
			if (status?.err) return this.core.read();
			if (
				status?.confirmationStatus === "confirmed" ||
				status?.confirmationStatus === "finalized"
			) {
				const currency = tokenCurrency(payment.solana);
				await settlementWatcher(this.core.env(), currency).scan(currency);
				return this.core.read();
			}
			await scheduler.wait(HINT_LOOK_INTERVAL_MS);
		}
		return this.core.read();
	}

	/**
	 * An inflow a settlement watcher found for this payment: judged and booked once (receipt,
	 * transition, ledger transfer and outbox in one storage transaction), whatever the payment's
	 * state — counted while it is open, held as late once it is not. An inflow in a token this
	 * payment was not quoted in is declined (the watcher books it as unattributed).
	 */
	async recordInflow(inflow: InflowInput): Promise<InflowResult> {
		let payment = this.core.read();
		if (!payment?.solana) return { outcome: "declined", reason: "unknown_payment" };
		const known = readReceipt(this.core.sql, inflow.id);
		if (known) return { outcome: "booked", disposition: known.disposition };
		if (inflow.currency !== tokenCurrency(payment.solana)) {
			return { outcome: "declined", reason: "wrong_mint" };
		}
		const nowS = Math.floor(Date.now() / 1000);
		const arrived = inflow.block_time ?? nowS;
		if (isOpen(payment.status) && quoteExpired(payment.solana, arrived)) {
			// A top-up after the quote's hold ended, while the payment is open: the rest of the price
			// is quoted afresh and the funds count against it, never at the stale rate. A failure
			// (no current rate) throws: the watcher keeps the inflow and hands it over again.
			const fresh = await quoteRemainder(this.core.env(), payment, payment.solana.token);
			const after = this.core.read() as PaymentRecord;
			if (after.status === "requires_payment" && after.version === payment.version) {
				await this.updateSolana(fresh);
			}
			payment = this.core.read() as PaymentRecord;
		}
		const tentative = this.planWith(payment, inflow);
		let risk: PaymentRecord["risk"] | undefined;
		let customer: string | null | undefined;
		if (isOpen(payment.status) && tentative.decision.status === "succeeded") {
			({ risk, customer } = await this.assessPayer(payment, inflow.payer));
		}
		// From here on nothing awaits until the commit: a cancel, another inflow or a re-quote
		// cannot interleave, so the judgement below is against the state the commit replaces.
		payment = this.core.read() as PaymentRecord;
		const again = readReceipt(this.core.sql, inflow.id);
		if (again) return { outcome: "booked", disposition: again.disposition };
		const verdict = judgeInflow(payment);
		const row: ReceiptRow = {
			...inflow,
			disposition: verdict.disposition,
			reason: verdict.reason,
			found_at: nowS,
		};
		const transfers = [receiptTransfer(payment, row, nowS)];
		const save = () => insertReceipt(this.core.sql, row);
		if (verdict.disposition === "late") {
			// The card paid the price: crypto arriving now is extra, not late for a closed payment.
			const extra = paidWith(payment) === "card";
			const next = { ...payment, updated: nowS, version: payment.version + 1 };
			this.core.commit(
				next,
				payment.status,
				extra ? "payment.extra_funds_received" : "payment.late_payment_received",
				transfers,
				save,
			);
			if (extra) this.core.scheduleExtraRefund();
		} else {
			this.commitSettlement(payment, [...readReceipts(this.core.sql), row], transfers, save, {
				risk,
				customer,
			});
		}
		await this.core.flush();
		if (this.core.read()?.status === "processing")
			this.core.jobs.scheduleNoLaterThan("poll", Date.now());
		return { outcome: "booked", disposition: verdict.disposition };
	}

	planWith(payment: PaymentRecord, inflow: InflowInput) {
		const row: ReceiptRow = { ...inflow, disposition: "counted", reason: null, found_at: 0 };
		return planSettlement({
			payment,
			solana: payment.solana as SolanaPaymentDetails,
			rows: [...readReceipts(this.core.sql), row],
			toleranceBps: this.toleranceBps(),
		});
	}

	toleranceBps(): number {
		return createServices(this.core.env()).config.SOLANA_UNDERPAYMENT_TOLERANCE_BPS;
	}

	/**
	 * The paying wallet is known: the risk rules look again (sanctions, wallet rules, first seen),
	 * and if the wallet belongs to one of the merchant's customers the payment becomes theirs.
	 */
	async assessPayer(
		payment: PaymentRecord,
		payer: string,
	): Promise<{ risk: PaymentRecord["risk"]; customer: string | null }> {
		const customer = payment.customer ?? (await this.customerOfPayer(payment, payer));
		const risk = await assessPaymentArrival(this.core.env(), payment, {
			wallet: payer,
			card_fingerprint: null,
		});
		return { risk, customer };
	}

	/**
	 * Commits what the counted receipts `rows` mean for an open payment, synchronously: success
	 * (or review, or a block), processing while `finalized` is awaited, or a partly funded update,
	 * together with `transfers` and `also` (the receipt's own row).
	 */
	commitSettlement(
		payment: PaymentRecord,
		rows: ReceiptRow[],
		transfers: Transfer[],
		also: () => void,
		assessed: { risk?: PaymentRecord["risk"]; customer?: string | null | undefined },
	): void {
		const solana = payment.solana as SolanaPaymentDetails;
		const nowS = Math.floor(Date.now() / 1000);
		const { decision, details, fiatReceived } = planSettlement({
			payment,
			solana,
			rows,
			toleranceBps: this.toleranceBps(),
		});
		const base = {
			...payment,
			solana: details,
			amount_received: fiatReceived,
			updated: nowS,
			version: payment.version + 1,
		};
		if (decision.status === "succeeded") {
			const risk = assessed.risk ?? payment.risk ?? null;
			const customer = assessed.customer ?? payment.customer ?? null;
			if (risk && risk.decision !== "allow") {
				// Blocked or to be reviewed: the funds stay in the payment's holding account (the
				// receipts' transfers), refundable; only an approval settles them to the merchant.
				const blocked = risk.decision === "block";
				const to = blocked ? "failed" : "requires_review";
				const next: PaymentRecord = {
					...base,
					status: to,
					paid_with: blocked ? (payment.paid_with ?? null) : "solana",
					amount_received: blocked ? payment.amount_received : fiatReceived,
					customer,
					risk,
					failure_code: blocked ? "risk_blocked" : payment.failure_code,
					failure_message: blocked
						? `Blocked by the risk rules when the funds arrived: ${risk.reasons.map((r) => r.detail).join("; ")}. The funds are held for refund.`
						: payment.failure_message,
				};
				this.core.commit(next, payment.status, eventTypeFor(to), transfers, also);
				if (!blocked) this.releaseCard(next);
				return;
			}
			const next: PaymentRecord = {
				...base,
				status: "succeeded",
				paid_with: "solana",
				succeeded_at: nowS,
				customer,
				risk,
			};
			this.core.commit(
				next,
				payment.status,
				eventTypeFor("succeeded"),
				[...transfers, settlementTransfer(next, details, decision.received, nowS)],
				also,
			);
			this.releaseCard(next);
			return;
		}
		if (decision.status === "processing" && payment.status === "requires_payment") {
			const next: PaymentRecord = { ...base, status: "processing" };
			this.core.commit(next, payment.status, eventTypeFor("processing"), transfers, also);
			return;
		}
		if (decision.status === "requires_payment" && payment.status === "processing") {
			// A receipt dropped while others wait for finality: the payment is open for payment again.
			const next: PaymentRecord = { ...base, status: "requires_payment" };
			this.core.commit(next, payment.status, eventTypeFor("requires_payment"), transfers, also);
			return;
		}
		this.core.commit(base, payment.status, "payment.partially_funded", transfers, also);
	}

	/** Crypto paid the price: an open card intent is canceled at Stripe (CardSide.release). */
	private releaseCard(payment: PaymentRecord): void {
		const status = payment.card?.intent_status;
		if (status && status !== "succeeded" && status !== "canceled") {
			this.core.jobs.scheduleNoLaterThan("card_release", Date.now());
		}
	}

	async customerOfPayer(payment: PaymentRecord, payer: string | null): Promise<string | null> {
		if (!payer) return null;
		try {
			return await customerOwningWallet(
				this.core.env().DB,
				payment.merchant_id,
				payment.livemode,
				payer,
			);
		} catch (err) {
			// Linking is a convenience: D1 trouble must not hold up the payment itself.
			log("warn", "customer lookup by wallet failed", { payment: payment.id, error: String(err) });
			return null;
		}
	}

	/** Schedules the first of the two final looks at a token payment's own references. */
	scheduleFinalLooks(payment: PaymentRecord): void {
		if (payment.solana?.mint)
			this.core.jobs.schedule("final_look", (payment.expires_at + 5) * 1000);
	}
}
