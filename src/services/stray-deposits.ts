import type { PaymentRecord } from "../domain/payment";
import { inflowOf } from "../domain/solana-inflow";
import type { ParsedTransaction } from "../domain/solana-match";
import type { Env } from "../env";
import { rpcFromEnv } from "../processors/solana/rpc";
import { settlementAccountFor } from "./settlement-accounts";
import { tokenCatalog } from "./tokens";
import { bookUnattributed, NON_ASSOCIATED } from "./unattributed-funds";

/** Signature pages read per reference: a bounded look, not a second watcher. */
const MAX_PAGES = 5;
const PAGE = 1000;

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
	const rpc = rpcFromEnv(env);
	let found = 0;
	for (const reference of [...(solana.previous_references ?? []), solana.reference]) {
		let before: string | undefined;
		for (let page = 0; page < MAX_PAGES; page++) {
			const infos = await rpc.call<{ signature: string; err: unknown }[]>(
				"getSignaturesForAddress",
				[reference, { limit: PAGE, commitment: "confirmed", ...(before ? { before } : {}) }],
			);
			for (const info of infos) {
				if (info.err !== null && info.err !== undefined) continue;
				const tx = await rpc.call<ParsedTransaction | null>("getTransaction", [
					info.signature,
					{ encoding: "jsonParsed", commitment: "confirmed", maxSupportedTransactionVersion: 0 },
				]);
				if (!tx?.meta) continue;
				const keys = tx.transaction.message.accountKeys.map((k) => k.pubkey);
				const strays = (tx.meta.postTokenBalances ?? []).filter(
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
			if (infos.length < PAGE) break;
			before = infos[infos.length - 1]?.signature;
		}
	}
	return found;
}
