import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { transferStatements } from "../../../src/db/ledger";
import { newId } from "../../../src/domain/ids";
import { accounts, type Transfer } from "../../../src/domain/ledger";
import type { MerchantSettings } from "../../../src/domain/merchant-settings";
import type { Env } from "../../../src/env";
import worker from "../../../src/index";

/** Monday 7 December 2026, the run at 00:10 UTC. */
export const MONDAY = "2026-12-07";
export const MONDAY_RUN_MS = Date.UTC(2026, 11, 7, 0, 10);

const nowS = () => Math.floor(Date.now() / 1000);

/** Merchants straight into D1 (the admin API mints four keys each: too slow for hundreds). */
export async function insertMerchants(settings: MerchantSettings[]): Promise<string[]> {
	const ids = settings.map(() => newId("merchant"));
	const statements = settings.map((s, i) =>
		env.DB.prepare(
			"INSERT INTO merchants (id, name, email, metadata, settings, created) VALUES (?, ?, NULL, '{}', ?, ?)",
		).bind(ids[i], `Merchant ${i}`, JSON.stringify(s), nowS()),
	);
	for (let i = 0; i < statements.length; i += 100) await env.DB.batch(statements.slice(i, i + 100));
	return ids;
}

/** An active destination usable at once (test mode has no cooling-off). */
export async function insertDestination(
	merchantId: string,
	type: "stripe_account" | "solana_wallet" = "stripe_account",
): Promise<string> {
	const id = newId("payoutDestination");
	await env.DB.prepare(
		`INSERT INTO payout_destinations (id, merchant_id, livemode, type, address, stripe_account_id, status, is_default, usable_after, created, updated, removed)
		 VALUES (?, ?, 0, ?, ?, ?, 'active', 1, 0, ?, ?, NULL)`,
	)
		.bind(
			id,
			merchantId,
			type,
			type === "solana_wallet" ? "9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM" : null,
			type === "stripe_account" ? `acct_${merchantId.slice(-12)}` : null,
			nowS(),
			nowS(),
		)
		.run();
	return id;
}

let transferSeq = 0;

/** A balance transfer on the merchant's available account: card funds in (+) or a debit (−). */
export function balanceTransfer(
	merchantId: string,
	amount: bigint,
	opts: { currency?: string; kind?: Transfer["kind"]; reference?: string; created?: number } = {},
): Transfer {
	const currency = opts.currency ?? "usd";
	const reference = opts.reference ?? `pay_sched_${++transferSeq}_${merchantId.slice(-8)}`;
	return {
		id: `${reference}:${opts.kind ?? "payment"}:${transferSeq}`,
		kind: opts.kind ?? "payment",
		reference,
		livemode: false,
		created: opts.created ?? nowS(),
		postings: [
			{ account: accounts.settlement(false, "stripe", currency), currency, amount: -amount },
			{ account: accounts.merchantAvailable(merchantId, false, currency), currency, amount },
		],
	};
}

export async function postTransfers(transfers: Transfer[]): Promise<void> {
	const statements: D1PreparedStatement[] = [];
	for (const t of transfers) statements.push(...(await transferStatements(env.DB, t)));
	for (let i = 0; i < statements.length; i += 90) await env.DB.batch(statements.slice(i, i + 90));
}

/** The worker's env with the payouts and reports queues recording what is sent to them. */
export function recordingEnv(): { env: Env; sent: unknown[] } {
	const sent: unknown[] = [];
	const recorder = {
		send: async (body: unknown) => void sent.push(body),
		sendBatch: async (messages: { body: unknown }[]) => {
			for (const m of messages) sent.push(m.body);
		},
	} as unknown as Queue<unknown>;
	const reports = { send: async () => {}, sendBatch: async () => {} } as unknown as Queue<unknown>;
	return {
		env: { ...(env as unknown as Env), PAYOUTS_QUEUE: recorder, REPORTS_QUEUE: reports },
		sent,
	};
}

let messageSeq = 0;

/** Delivers bodies to the gateway's payouts consumer as one batch. */
export async function deliverPayouts(target: Env, bodies: unknown[], attempts = 1) {
	const batch = createMessageBatch(
		"payouts",
		bodies.map((body) => ({
			id: `payout-sched-${++messageSeq}`,
			timestamp: new Date(),
			attempts,
			body,
		})),
	);
	const ctx = createExecutionContext();
	await worker.queue(batch, target, ctx);
	return getQueueResult(batch, ctx);
}

export interface RunRow {
	merchant_id: string;
	currency: string;
	outcome: string;
	payout_id: string | null;
	reason: string | null;
}

export async function runRows(date: string): Promise<RunRow[]> {
	const { results } = await env.DB.prepare(
		"SELECT merchant_id, currency, outcome, payout_id, reason FROM payout_schedule_runs WHERE date = ? ORDER BY merchant_id",
	)
		.bind(date)
		.all<RunRow>();
	return results;
}

export async function automaticPayouts(
	merchantIds: string[],
): Promise<{ id: string; merchant_id: string; amount: string; currency: string }[]> {
	const out: { id: string; merchant_id: string; amount: string; currency: string }[] = [];
	for (let i = 0; i < merchantIds.length; i += 90) {
		const chunk = merchantIds.slice(i, i + 90);
		const { results } = await env.DB.prepare(
			`SELECT id, merchant_id, amount, currency FROM payouts WHERE automatic = 1 AND merchant_id IN (${chunk.map(() => "?").join(", ")})`,
		)
			.bind(...chunk)
			.all<{ id: string; merchant_id: string; amount: string; currency: string }>();
		out.push(...results);
	}
	return out;
}
