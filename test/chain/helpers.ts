import {
	createExecutionContext,
	createMessageBatch,
	getQueueResult,
	runDurableObjectAlarm,
	runInDurableObject,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import worker from "../../src/index";
import { parseJsonWithBigInts } from "../../src/lib/lossless-json";
import { checkTreasury } from "../../src/services/treasury";
import { call, json } from "../worker/helpers/api";
import {
	PYUSD_MINT,
	scanAll,
	TOKEN_2022_PROGRAM,
	TOKEN_PROGRAM,
	USDC_MINT,
} from "../worker/helpers/solana";

/** The sandbox's RPC, read losslessly (balances here may pass 2^53). */
export async function exactRpc<T>(method: string, params: unknown[]): Promise<T> {
	const res = await fetch(env.SOLANA_RPC_URLS, {
		method: "POST",
		headers: { "Content-Type": "application/json" },
		body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
	});
	const body = parseJsonWithBigInts(await res.text()) as {
		result?: T;
		error?: { message: string };
	};
	if (body.error) throw new Error(`${method}: ${body.error.message}`);
	return body.result as T;
}

const TOKENS = [
	{ currency: "sol", mint: null, program: null },
	{ currency: USDC_MINT, mint: USDC_MINT, program: TOKEN_PROGRAM },
	{ currency: PYUSD_MINT, mint: PYUSD_MINT, program: TOKEN_2022_PROGRAM },
] as const;

/** What the settlement wallet holds on chain in a token, across all its token accounts. */
export async function chainHolding(currency: string): Promise<bigint> {
	const wallet = env.SOLANA_SETTLEMENT_WALLET;
	if (currency === "sol") {
		const r = await exactRpc<{ value: number | bigint }>("getBalance", [
			wallet,
			{ commitment: "confirmed" },
		]);
		return BigInt(r.value);
	}
	// Every token account the wallet owns for the mint: a payer may send to any of them.
	const r = await exactRpc<{
		value: { account: { data: { parsed: { info: { tokenAmount: { amount: string } } } } } }[];
	}>("getTokenAccountsByOwner", [
		wallet,
		{ mint: currency },
		{ encoding: "jsonParsed", commitment: "confirmed" },
	]);
	return r.value.reduce(
		(sum, a) => sum + BigInt(a.account.data.parsed.info.tokenAmount.amount),
		0n,
	);
}

async function sumAccounts(where: string, ...binds: string[]): Promise<bigint> {
	const row = await env.DB.prepare(
		`SELECT CAST(COALESCE(SUM(amount), 0) AS TEXT) AS total FROM ledger_postings WHERE ${where}`,
	)
		.bind(...binds)
		.first<{ total: string }>();
	return BigInt(row?.total ?? "0");
}

/**
 * The invariants every scenario ends with, after the watchers booked everything: each transfer
 * balanced in each currency, no payment's holding account and no unattributed account negative,
 * and for every token the ledger's settlement accounts exactly mirror what the chain holds.
 */
export async function expectBooksMatchChain(): Promise<void> {
	await scanAll();
	const { results: unbalanced } = await env.DB.prepare(
		"SELECT transfer_id, currency, CAST(SUM(amount) AS TEXT) AS total FROM ledger_postings GROUP BY transfer_id, currency HAVING SUM(amount) != 0",
	).all();
	expect(unbalanced, "unbalanced transfers").toEqual([]);
	const { results: negative } = await env.DB.prepare(
		`SELECT account, CAST(SUM(amount) AS TEXT) AS balance FROM ledger_postings
		 WHERE account LIKE '%:payment:%' OR account LIKE '%:unattributed:%'
		 GROUP BY account HAVING SUM(amount) < 0`,
	).all();
	expect(negative, "holding accounts below zero").toEqual([]);
	for (const token of TOKENS) {
		const onChain = await chainHolding(token.currency);
		// The associated account's, and any other token account's (`…:{currency}:{account}`).
		const ledger = await sumAccounts(
			"account IN (?, ?) OR (account > ? AND account < ?) OR (account > ? AND account < ?)",
			`test:settlement:solana:${token.currency}`,
			`live:settlement:solana:${token.currency}`,
			`test:settlement:solana:${token.currency}:`,
			`test:settlement:solana:${token.currency};`,
			`live:settlement:solana:${token.currency}:`,
			`live:settlement:solana:${token.currency};`,
		);
		// The ledger's settlement accounts hold the chain's funds as a negative balance.
		expect(onChain + ledger, `chain ${onChain} vs ledger ${-ledger} in ${token.currency}`).toBe(0n);
	}
	// The minute cron's treasury check comes to the same: caught up, no difference anywhere.
	const checks = await checkTreasury(env, Math.floor(Date.now() / 1000));
	expect(checks.map((c) => [c.currency, c.caughtUp, c.difference])).toEqual(
		TOKENS.map((t) => [t.currency, true, 0n]),
	);
}

let messageSeq = 0;

/** Hands refund messages to the Worker's queue handler, as the refunds queue would. */
export async function consumeRefunds(refundIds: string[]): Promise<void> {
	const batch = createMessageBatch(
		"refunds",
		refundIds.map((refund_id) => ({
			id: `chain-msg-${++messageSeq}`,
			timestamp: new Date(),
			attempts: 1,
			body: { kind: "refund", refund_id },
		})),
	);
	const ctx = createExecutionContext();
	await worker.queue(batch, env, ctx);
	await getQueueResult(batch, ctx);
}

/** Runs a refund sender's jobs now, as its alarm would. */
export async function fireSender(refundId: string): Promise<void> {
	const ns = env.REFUNDS as NonNullable<typeof env.REFUNDS>;
	const stub = ns.get(ns.idFromName(refundId));
	await runInDurableObject(stub, (_i, state) => {
		state.storage.sql.exec("UPDATE jobs SET due = 1");
		return state.storage.setAlarm(Date.now() + 60 * 60 * 1000);
	});
	await runDurableObjectAlarm(stub);
}

export async function getJson<T>(key: string, path: string): Promise<T> {
	const res = await call("GET", path, { key });
	expect(res.status, await res.clone().text()).toBe(200);
	return json<T>(res);
}
