import { createServices } from "../context";
import {
	latestTreasuryChecks,
	recordTreasuryChecks,
	settlementLedgerBalance,
	type TreasuryCheck,
	type TreasuryLedger,
	treasuryLedger,
} from "../db/treasury";
import { modeOf } from "../domain/ledger";
import type { Env } from "../env";
import { log } from "../lib/log";
import type { SolanaRpc } from "../processors/solana/rpc";
import {
	chainLivemode,
	type SettlementAccount,
	settlementAccounts,
	settlementWatcher,
} from "./settlement-accounts";
import { bookStrayAccounts } from "./stray-deposits";

// The treasury proves the ledger against the chain: for each settlement account, what the chain
// holds plus what the ledger's settlement accounts say arrived (negative) is zero. The watcher
// books inflows; the check reads the chain between two scans, so a transfer that lands while it
// reads is booked before the ledger is read, or the check reads again.

/** Checks are kept this long, for an operator asking when a difference began. */
export const TREASURY_RETENTION_SECONDS = 30 * 86_400;
/** Chain reads per check; a watcher still booking after the last is recorded as not caught up. */
const MAX_ROUNDS = 3;
/** The commitment the watchers book at: the chain is read at the same one. */
const COMMITMENT = "confirmed";

/** u64 amounts arrive as number (safe), bigint (past 2^53) or decimal string (token amounts). */
function toAmount(value: unknown, what: string): bigint {
	if (typeof value === "bigint") return value;
	if (typeof value === "number" && Number.isSafeInteger(value)) return BigInt(value);
	if (typeof value === "string" && /^\d+$/.test(value)) return BigInt(value);
	throw new Error(`${what}: not an integer amount (${String(value)})`);
}

interface ChainBalance {
	balance: bigint;
	slot: number;
	/** A mint's token accounts, each with its balance (empty for SOL). */
	tokenAccounts: { address: string; balance: bigint }[];
}

interface ParsedTokenAccount {
	pubkey: string;
	account: { data?: { parsed?: { info?: { tokenAmount?: { amount?: unknown } } } } };
}

/**
 * SOL: the wallet's lamports. A mint: every token account the wallet owns for it, since a payer
 * may send to an account other than the associated one.
 */
async function chainBalance(rpc: SolanaRpc, account: SettlementAccount): Promise<ChainBalance> {
	if (!account.token.mint) {
		const r = await rpc.call<{ context: { slot: unknown }; value: unknown }>("getBalance", [
			account.owner,
			{ commitment: COMMITMENT },
		]);
		return {
			balance: toAmount(r.value, "getBalance"),
			slot: Number(r.context.slot),
			tokenAccounts: [],
		};
	}
	const r = await rpc.call<{ context: { slot: unknown }; value: ParsedTokenAccount[] }>(
		"getTokenAccountsByOwner",
		[
			account.owner,
			{ mint: account.token.mint },
			{ encoding: "jsonParsed", commitment: COMMITMENT },
		],
	);
	const tokenAccounts = r.value.map((item) => ({
		address: item.pubkey,
		balance: toAmount(item.account.data?.parsed?.info?.tokenAmount?.amount, "token account"),
	}));
	const balance = tokenAccounts.reduce((sum, a) => sum + a.balance, 0n);
	return { balance, slot: Number(r.context.slot), tokenAccounts };
}

async function scan(env: Env, account: SettlementAccount) {
	const summary = await settlementWatcher(env, account.currency).scan(account.currency);
	if (summary.error) throw new Error(`the watcher could not scan: ${summary.error}`);
	return summary;
}

async function checkAccount(
	env: Env,
	rpc: SolanaRpc,
	account: SettlementAccount,
	now: number,
): Promise<TreasuryCheck> {
	// Books what arrived before the chain is read.
	let summary = await scan(env, account);
	let chain: ChainBalance | undefined;
	let consistent = false;
	for (let round = 0; round < MAX_ROUNDS && !consistent; round++) {
		chain = await chainBalance(rpc, account);
		// Nothing new booked after the read: the ledger holds everything the balance includes.
		summary = await scan(env, account);
		consistent = summary.processed === 0;
	}
	const { balance, slot, tokenAccounts } = chain as ChainBalance;
	// Deposits into token accounts the watchers do not watch are booked before the comparison.
	await bookStrayAccounts(env, account, tokenAccounts);
	const ledgerBalance = await settlementLedgerBalance(env.DB, account.currency);
	return {
		currency: account.currency,
		address: account.address,
		chainBalance: balance,
		ledgerBalance,
		difference: balance + ledgerBalance,
		caughtUp: consistent && summary.caughtUp,
		slot,
		checkedAt: now,
	};
}

/**
 * Checks every settlement account (the minute cron): books what arrived, reads the chain and the
 * ledger, records the result, and logs an error for a difference on a caught-up check. An account
 * that cannot be checked now (RPC, watcher) is logged and left to the next run.
 */
export async function checkTreasury(env: Env, now: number): Promise<TreasuryCheck[]> {
	const all = await settlementAccounts(env);
	const rpc = createServices(env).solana;
	const results = await Promise.allSettled(all.map((a) => checkAccount(env, rpc, a, now)));
	const checks: TreasuryCheck[] = [];
	results.forEach((result, i) => {
		const account = all[i] as SettlementAccount;
		if (result.status === "fulfilled") checks.push(result.value);
		else
			log("warn", "treasury check failed; the next run retries", {
				currency: account.currency,
				address: account.address,
				error: result.reason instanceof Error ? result.reason.message : String(result.reason),
			});
	});
	await recordTreasuryChecks(env.DB, checks, now - TREASURY_RETENTION_SECONDS);
	for (const check of checks) {
		if (check.caughtUp && check.difference !== 0n) {
			log("error", "treasury difference", {
				currency: check.currency,
				address: check.address,
				chain_balance: check.chainBalance.toString(),
				ledger_balance: check.ledgerBalance.toString(),
				difference: check.difference.toString(),
				slot: check.slot,
			});
		}
	}
	return checks;
}

export interface TreasuryView {
	/** True on mainnet-beta: the chain's funds are live money. */
	chainLivemode: boolean;
	accounts: {
		account: SettlementAccount;
		/** The latest check, or null before the first. */
		check: TreasuryCheck | null;
		/** Where each mode's funds belong, from the ledger now. */
		modes: { livemode: boolean; ledger: TreasuryLedger }[];
	}[];
}

/** The latest check of every settlement account with the ledger's breakdown per mode. */
export async function treasuryView(env: Env): Promise<TreasuryView> {
	const all = await settlementAccounts(env);
	const currencies = all.map((a) => a.currency);
	const [checks, ledger] = await Promise.all([
		latestTreasuryChecks(env.DB, currencies),
		treasuryLedger(env.DB, currencies),
	]);
	return {
		chainLivemode: chainLivemode(env),
		accounts: all.map((account) => ({
			account,
			check: checks.find((c) => c.currency === account.currency) ?? null,
			modes: [false, true].map((livemode) => ({
				livemode,
				ledger: ledger.get(`${modeOf(livemode)}:${account.currency}`) as TreasuryLedger,
			})),
		})),
	};
}
