import { createServices } from "../context";
import { balanceOfAccounts } from "../db/ledger";
import { paymentsForKeys } from "../db/solana-references";
import { accounts as ledgerAccounts } from "../domain/ledger";
import type { PaymentRecord } from "../domain/payment";
import { inflowOf } from "../domain/solana-inflow";
import type { ParsedTransaction } from "../domain/solana-match";
import type { Env } from "../env";
import { log } from "../lib/log";
import type { SolanaRpc } from "../processors/solana/rpc";
import { chainLivemode, type SettlementAccount, settlementAccountFor } from "./settlement-accounts";
import { tokenCatalog } from "./tokens";
import { bookUnattributed, NON_ASSOCIATED } from "./unattributed-funds";

/** Signature pages read per reference: a bounded look, not a second watcher. */
const MAX_PAGES = 5;
const PAGE = 1000;

/**
 * The successful transactions that name `address`, newest first, read a bounded number of
 * signature pages back: a look, not a second watcher.
 */
async function* transactionsOf(rpc: SolanaRpc, address: string): AsyncGenerator<ParsedTransaction> {
	let before: string | undefined;
	for (let page = 0; page < MAX_PAGES; page++) {
		const infos = await rpc.call<{ signature: string; err: unknown }[]>("getSignaturesForAddress", [
			address,
			{ limit: PAGE, commitment: "confirmed", ...(before ? { before } : {}) },
		]);
		for (const info of infos) {
			if (info.err !== null && info.err !== undefined) continue;
			const tx = await rpc.call<ParsedTransaction | null>("getTransaction", [
				info.signature,
				{ encoding: "jsonParsed", commitment: "confirmed", maxSupportedTransactionVersion: 0 },
			]);
			if (tx?.meta) yield tx;
		}
		if (infos.length < PAGE) return;
		before = infos[infos.length - 1]?.signature;
	}
}

/**
 * A payment's own references, looked at once more (at expiry and at the end of its late window)
 * for token transfers that reached the settlement wallet in a token account other than its
 * associated one — a payer's wallet may pick any account the wallet owns. The settlement
 * watchers cannot see those (they watch the associated accounts). Each is booked as held for its
 * sender, out of the account it reached, and sent back from there by the operator. Returns how
 * many were found.
 */
export async function bookStrayDeposits(env: Env, payment: PaymentRecord): Promise<number> {
	const solana = payment.solana;
	if (!solana?.mint) return 0;
	const token = tokenCatalog(env).find((t) => t.mint === solana.mint);
	if (!token) return 0;
	const settlement = await settlementAccountFor(env, token);
	const rpc = createServices(env).solana;
	let found = 0;
	for (const reference of [...(solana.previous_references ?? []), solana.reference]) {
		for await (const tx of transactionsOf(rpc, reference)) {
			const keys = tx.transaction.message.accountKeys.map((k) => k.pubkey);
			const strays = (tx.meta?.postTokenBalances ?? []).filter(
				(b) =>
					b.mint === solana.mint &&
					b.owner === settlement.owner &&
					keys[b.accountIndex] !== settlement.address,
			);
			for (const stray of strays) {
				const account = keys[stray.accountIndex] as string;
				const inflow = inflowOf(tx, {
					address: account,
					currency: settlement.currency,
					mint: solana.mint,
					owner: settlement.owner,
				});
				if (!inflow) continue;
				await bookUnattributed(
					env,
					{ ...inflow, id: `${inflow.signature}:${settlement.currency}:${account}` },
					{ reason: NON_ASSOCIATED, paymentId: payment.id, inLedger: true, associated: false },
				);
				found++;
			}
		}
	}
	return found;
}

/** What the ledger books in one non-associated token account (both modes; negative: held there). */
async function bookedIn(env: Env, currency: string, tokenAccount: string): Promise<bigint> {
	const names = [false, true].map((livemode) =>
		ledgerAccounts.settlementAccount(livemode, currency, tokenAccount),
	);
	return balanceOfAccounts(env.DB, names);
}

/**
 * The settlement wallet's token accounts other than its associated one, as the treasury check
 * reads them. Anyone can open such an account for the wallet and send to it, naming no payment
 * (or one whose final look is still ahead): one holding more than the ledger books for it has
 * deposits nobody booked. Its transfers are read (a bounded look) and each is booked as held for
 * its sender, linked to the payment it names when it names exactly one, out of the account it
 * reached, so the sender can be refunded and the treasury agrees with the chain. Booking is keyed
 * like the payments' final look, so the two never book one deposit twice. Returns how many.
 */
export async function bookStrayAccounts(
	env: Env,
	settlement: SettlementAccount,
	tokenAccounts: { address: string; balance: bigint }[],
): Promise<number> {
	const mint = settlement.token.mint;
	if (!mint) return 0;
	const rpc = createServices(env).solana;
	let found = 0;
	for (const { address, balance } of tokenAccounts) {
		if (address === settlement.address || balance <= 0n) continue;
		if (balance + (await bookedIn(env, settlement.currency, address)) <= 0n) continue;
		for await (const tx of transactionsOf(rpc, address)) {
			const inflow = inflowOf(tx, {
				address,
				currency: settlement.currency,
				mint,
				owner: settlement.owner,
			});
			if (!inflow || inflow.amount <= 0n) continue;
			const keys = tx.transaction.message.accountKeys.map((k) => k.pubkey);
			const named = [...new Set((await paymentsForKeys(env.DB, keys)).map((r) => r.paymentId))];
			await bookUnattributed(
				env,
				{ ...inflow, id: `${inflow.signature}:${settlement.currency}:${address}` },
				{
					reason: NON_ASSOCIATED,
					paymentId: named.length === 1 ? (named[0] as string) : null,
					inLedger: true,
					associated: false,
				},
			);
			found++;
		}
	}
	if (found > 0) {
		log("warn", "tokens in a non-associated token account held for their senders", {
			currency: settlement.currency,
			found,
			livemode: chainLivemode(env),
		});
	}
	return found;
}
