import { getConfig } from "../config";
import { eventsOfObjects, type TimelineEvent } from "../db/events";
import { type Posting, postingsOfReference } from "../db/ledger";
import { type UnattributedRow, unattributedForPayment } from "../db/solana-references";
import { attemptsOfEvents, type TimelineAttempt } from "../db/webhook-attempts";
import { formatTokenAmount } from "../domain/checkout";
import { formatMinorUnits, isSupportedCurrency } from "../domain/money";
import type { PaymentRecord } from "../domain/payment";
import type { RefundRecord } from "../domain/refund";
import type { Env } from "../env";
import { paymentStub } from "../services/payments";
import { tokenCatalog } from "../services/tokens";

export type { Posting, TimelineAttempt, TimelineEvent };

export interface Transition {
	version: number;
	from: string | null;
	to: string;
	at: number;
}

export interface PaymentDetail {
	refunds: RefundRecord[];
	transitions: Transition[];
	events: TimelineEvent[];
	attempts: TimelineAttempt[];
	postings: Posting[];
	/** Funds that named this payment but were not its own (held for their sender). */
	heldForSender: UnattributedRow[];
}

/**
 * Everything the detail page shows beside the payment itself: its refunds and transitions from
 * its object (strongly consistent), and from D1 the events of the payment and its refunds, the
 * webhook attempts for those events, and the ledger postings that reference the payment.
 * The caller has already checked that the payment is the merchant's in this mode.
 */
export async function paymentDetail(env: Env, payment: PaymentRecord): Promise<PaymentDetail> {
	const stub = paymentStub(env, payment.id);
	const [refunds, transitions] = await Promise.all([stub.listRefunds(), stub.history()]);
	const objects = [payment.id, ...refunds.map((r) => r.id)];
	const owner = [payment.merchant_id, payment.livemode ? 1 : 0] as const;
	const events = await eventsOfObjects(env.DB, owner, objects);
	const [attempts, postings, heldForSender] = await Promise.all([
		attemptsOfEvents(
			env.DB,
			owner,
			events.map((e) => e.id),
		),
		postingsOfReference(env.DB, payment.id, payment.livemode),
		payment.solana ? unattributedForPayment(env.DB, payment.id) : Promise.resolve([]),
	]);
	return {
		refunds: refunds.sort((a, b) => (a.id < b.id ? 1 : -1)),
		transitions,
		events,
		attempts,
		postings,
		heldForSender,
	};
}

/** The transaction on Solana's explorer, for the cluster the gateway runs against. */
export function explorerUrl(env: Env, signature: string): string {
	const base = `https://explorer.solana.com/tx/${encodeURIComponent(signature)}`;
	const config = getConfig(env);
	const cluster = config.SOLANA_CLUSTER;
	if (cluster === "mainnet-beta") return base;
	if (cluster === "localnet") {
		const rpc = config.SOLANA_RPC_URLS[0] ?? "http://127.0.0.1:8899";
		return `${base}?cluster=custom&customUrl=${encodeURIComponent(rpc)}`;
	}
	return `${base}?cluster=${encodeURIComponent(cluster)}`;
}

export interface TimelineRow {
	at: number;
	what: string;
	detail: string;
	kind: "transition" | "event";
}

/**
 * The payment's transitions and events in time order. A new version in the same status (a
 * re-quote, a partial payment) is not a transition: its event says what happened.
 */
export function timelineRows(detail: Pick<PaymentDetail, "transitions" | "events">): TimelineRow[] {
	return [
		...detail.transitions
			.filter((t) => t.from !== t.to)
			.map((t) => ({
				at: t.at,
				what: `${t.from ?? "created"} → ${t.to}`,
				detail: `version ${t.version}`,
				kind: "transition" as const,
			})),
		...detail.events.map((e) => ({
			at: e.created,
			what: e.type,
			detail: e.id,
			kind: "event" as const,
		})),
	].sort((a, b) => a.at - b.at);
}

/**
 * A ledger posting's amount as money: a fiat currency in its minor units ("25.00 USD"), a token
 * (its mint, or "sol") in its decimals with its symbol; an unknown token in base units, said so.
 */
export function postingAmount(env: Env, amount: number, currency: string): string {
	if (isSupportedCurrency(currency))
		return `${formatMinorUnits(amount, currency)} ${currency.toUpperCase()}`;
	const token =
		currency === "sol"
			? { symbol: "SOL", decimals: 9 }
			: tokenCatalog(env).find((t) => t.mint === currency);
	if (!token) return `${amount} base units`;
	return `${formatTokenAmount(String(amount), token.decimals)} ${token.symbol}`;
}
