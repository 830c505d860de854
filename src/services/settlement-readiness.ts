import { createServices } from "../context";
import type { Env } from "../env";
import { ApiError } from "../lib/errors";
import { log } from "../lib/log";
import {
	type SettlementAccount,
	settlementAccountFor,
	settlementAccounts,
} from "./settlement-accounts";
import type { SolanaToken } from "./tokens";

// Whether each settlement account exists on chain, cached per isolate: /health reports it and
// quoting refuses a token whose account is missing (a payer's wallet would be asked to create the
// gateway's token account, and many refuse to). One batched getMultipleAccounts reads every
// account not known recently. A token account, once created, only its owner (the gateway) can
// close, so an "exists" holds for quoting; /health re-reads it after a minute. A "missing" is
// read again after 10 s, so running `npm run solana:setup` is noticed at once.

/** /health re-reads an account known to exist after this long. */
export const EXISTS_TTL_MS = 60_000;
/** A missing account is read again after this long (by /health and by quoting). */
export const MISSING_TTL_MS = 10_000;

interface Seen {
	exists: boolean;
	at: number;
}

interface Cache {
	seen: Map<string, Seen>;
	/** Reads in flight, by address: concurrent requests share one RPC call. */
	reading: Map<string, Promise<boolean>>;
	accounts?: Promise<SettlementAccount[]>;
}

/** One cache per environment object (one per isolate in production), as the API key cache. */
const caches = new WeakMap<object, Cache>();

function cacheFor(env: object): Cache {
	let cache = caches.get(env);
	if (!cache) {
		cache = { seen: new Map(), reading: new Map() };
		caches.set(env, cache);
	}
	return cache;
}

/** `null` when the chain could not be asked (RPC unreachable): unknown, not missing. */
export type SettlementAccountStatus = SettlementAccount & { exists: boolean | null };

type Fresh = (seen: Seen, now: number) => boolean;

const freshForHealth: Fresh = (seen, now) =>
	now - seen.at < (seen.exists ? EXISTS_TTL_MS : MISSING_TTL_MS);
const freshForQuoting: Fresh = (seen, now) => seen.exists || now - seen.at < MISSING_TTL_MS;

/** Reads the accounts whose cached answer is not fresh, in one call; throws on RPC failure. */
async function existence(
	env: Env,
	addresses: string[],
	fresh: Fresh,
	now: number,
): Promise<Map<string, boolean>> {
	const cache = cacheFor(env);
	const out = new Map<string, boolean>();
	const toRead: string[] = [];
	const waits: Promise<void>[] = [];
	for (const address of addresses) {
		const seen = cache.seen.get(address);
		const reading = cache.reading.get(address);
		if (seen && fresh(seen, now)) out.set(address, seen.exists);
		else if (reading) waits.push(reading.then((exists) => void out.set(address, exists)));
		else toRead.push(address);
	}
	if (toRead.length > 0) {
		const read = createServices(env)
			.solana.call<{ value: (unknown | null)[] }>("getMultipleAccounts", [
				toRead,
				// Only whether each exists: no account data over the wire.
				{ encoding: "base64", dataSlice: { offset: 0, length: 0 }, commitment: "confirmed" },
			])
			.then(({ value }) => toRead.map((_, i) => value[i] != null));
		toRead.forEach((address, i) => {
			const one = read.then((all) => all[i] ?? false);
			// Concurrent requests await it; a failure is this request's to report (below).
			one.catch(() => {});
			cache.reading.set(address, one);
		});
		try {
			const all = await read;
			toRead.forEach((address, i) => {
				const exists = all[i] ?? false;
				cache.seen.set(address, { exists, at: now });
				out.set(address, exists);
			});
		} finally {
			for (const address of toRead) cache.reading.delete(address);
		}
	}
	await Promise.all(waits);
	return out;
}

function cachedSettlementAccounts(env: Env): Promise<SettlementAccount[]> {
	const cache = cacheFor(env);
	cache.accounts ??= settlementAccounts(env).catch((err: unknown) => {
		cache.accounts = undefined;
		throw err;
	});
	return cache.accounts;
}

/**
 * Every settlement account and whether it exists on chain (the wallet: whether it holds any SOL).
 * Never throws for the chain: when the RPC cannot be reached, `exists` is null.
 */
export async function settlementAccountStatuses(
	env: Env,
	now = Date.now(),
): Promise<SettlementAccountStatus[]> {
	const accounts = await cachedSettlementAccounts(env);
	let found: Map<string, boolean> | undefined;
	try {
		found = await existence(
			env,
			accounts.map((a) => a.address),
			freshForHealth,
			now,
		);
	} catch (err) {
		log("warn", "settlement accounts: the Solana RPC could not be read", {
			error: err instanceof Error ? err.message : String(err),
		});
	}
	return accounts.map((a) => ({ ...a, exists: found?.get(a.address) ?? null }));
}

/**
 * Refuses to quote in a token whose settlement token account does not exist. SOL needs no
 * account of its own (a transfer creates the wallet's). When the RPC cannot be reached the quote
 * goes ahead: an outage of the chain's RPC must not be made worse by refusing every payment.
 */
export async function assertSettlementAccountExists(
	env: Env,
	token: SolanaToken,
	now = Date.now(),
): Promise<void> {
	if (!token.mint) return;
	const account = await settlementAccountFor(env, token);
	let exists: boolean | undefined;
	try {
		exists = (await existence(env, [account.address], freshForQuoting, now)).get(account.address);
	} catch (err) {
		log("warn", "settlement account not checked: the Solana RPC could not be read", {
			token: token.symbol,
			address: account.address,
			error: err instanceof Error ? err.message : String(err),
		});
		return;
	}
	if (exists === false) {
		throw new ApiError(
			"service_unavailable",
			`The settlement wallet has no ${token.symbol} token account yet, so ${token.symbol} payments cannot be received; the operator must run \`npm run solana:setup\`. Choose another token or retry later.`,
		);
	}
}
