import { postTransfer } from "../db/ledger";
import {
	claimUnattributedForRefund,
	finishUnattributedRefund,
	recordUnattributed,
	type UnattributedRow,
} from "../db/solana-references";
import { accounts, type Transfer } from "../domain/ledger";
import type { SolanaRefundDetails } from "../domain/refund";
import type { Inflow } from "../domain/solana-inflow";
import type { Env } from "../env";
import { ApiError } from "../lib/errors";
import { log } from "../lib/log";
import { refundSender } from "./refunds";
import { chainLivemode } from "./settlement-accounts";
import { tokenCatalog } from "./tokens";

/**
 * Books an inflow no payment takes: its row and its ledger transfer, together and once, out of
 * the settlement account it reached (the associated account, or another token account the
 * settlement wallet owns) into `unattributed`. An amount the ledger cannot hold is recorded
 * outside it (`inLedger: false`).
 */
export async function bookUnattributed(
	env: Env,
	inflow: Inflow,
	options: { reason: string; paymentId: string | null; inLedger: boolean; associated?: boolean },
): Promise<void> {
	const livemode = chainLivemode(env);
	const now = Math.floor(Date.now() / 1000);
	const from =
		options.associated === false
			? accounts.settlementAccount(livemode, inflow.currency, inflow.account)
			: accounts.settlement(livemode, "solana", inflow.currency);
	const transfer: Transfer | null = !options.inLedger
		? null
		: {
				id: `${inflow.id}:unattributed`,
				kind: "adjustment",
				reference: inflow.signature,
				livemode,
				created: now,
				postings: [
					{ account: from, currency: inflow.currency, amount: -inflow.amount },
					{
						account: accounts.unattributed(livemode, inflow.currency),
						currency: inflow.currency,
						amount: inflow.amount,
					},
				],
			};
	await recordUnattributed(
		env.DB,
		{
			id: inflow.id,
			signature: inflow.signature,
			currency: inflow.currency,
			account: inflow.account,
			amount: inflow.amount.toString(),
			sender: inflow.sender,
			slot: inflow.slot,
			reason: options.reason,
			paymentId: options.paymentId,
			livemode,
			created: now,
		},
		transfer,
	);
	log("info", "unattributed funds booked", {
		inflow: inflow.id,
		amount: inflow.amount.toString(),
		reason: options.reason,
	});
}

/** Why funds in a token account of the settlement wallet other than its associated one are held. */
export const NON_ASSOCIATED = "non_associated_account";

/** The sender's name for an unattributed inflow's refund: one sender, one transfer, ever. */
export function unattributedRefundId(id: string): string {
	return `unattributed:${id}`;
}

/**
 * Sends unattributed funds back to the wallet they came from: the row moves from `held` to
 * `refund_pending` in one statement (a second request finds it taken), then the exactly-once
 * sender takes it; its outcome comes back through `completeUnattributedRefund`.
 */
export async function refundUnattributed(env: Env, id: string): Promise<UnattributedRow> {
	const row = await claimUnattributedForRefund(env.DB, id);
	if (!row) {
		throw new ApiError(
			"payment_unexpected_state",
			`Unattributed funds ${id} do not exist or are not held (already refunded or being refunded).`,
		);
	}
	const token = tokenCatalog(env).find((t) => (t.mint ?? "sol") === row.currency);
	if (!token) throw new ApiError("parameter_invalid", `No configured token ${row.currency}.`);
	const solana: SolanaRefundDetails = {
		token: token.symbol,
		mint: token.mint,
		token_program: token.program,
		decimals: token.decimals,
		amount: row.amount,
		recipient: row.sender,
		memo: unattributedRefundId(id),
		signature: null,
		network_fee: null,
		// Sent from the token account the funds actually reached.
		...(token.mint ? { source: row.account } : {}),
	};
	await refundSender(env, unattributedRefundId(id)).start({
		refund_id: unattributedRefundId(id),
		payment_id: "",
		unattributed: id,
		solana,
	});
	return row;
}

/**
 * Books how an unattributed refund ended: sent, the funds leave the unattributed account through
 * the settlement account; failed, they are held again. The network fee is the gateway's (float).
 */
export async function completeUnattributedRefund(
	env: Env,
	id: string,
	outcome: { signature: string | null; networkFee: bigint; failed: boolean },
): Promise<void> {
	const row = await finishUnattributedRefund(env.DB, id, outcome.failed ? null : outcome.signature);
	if (!row) return;
	const livemode = row.livemode === 1;
	const now = Math.floor(Date.now() / 1000);
	const transfers: Transfer[] = [];
	// Funds too large for the ledger were never in it: only the network fee is booked.
	if (!outcome.failed && row.reason !== "amount_too_large") {
		const amount = BigInt(row.amount);
		const into =
			row.reason === NON_ASSOCIATED
				? accounts.settlementAccount(livemode, row.currency, row.account)
				: accounts.settlement(livemode, "solana", row.currency);
		transfers.push({
			id: `${row.id}:unattributed_refund`,
			kind: "refund",
			reference: row.signature,
			livemode,
			created: now,
			postings: [
				{
					account: accounts.unattributed(livemode, row.currency),
					currency: row.currency,
					amount: -amount,
				},
				{ account: into, currency: row.currency, amount },
			],
		});
	}
	if (outcome.networkFee > 0n) {
		transfers.push({
			id: `${row.id}:unattributed_refund:network_fee`,
			kind: "fee",
			reference: row.signature,
			livemode,
			created: now,
			postings: [
				{
					account: accounts.treasuryFloat(livemode, "sol"),
					currency: "sol",
					amount: -outcome.networkFee,
				},
				{
					account: accounts.settlement(livemode, "solana", "sol"),
					currency: "sol",
					amount: outcome.networkFee,
				},
			],
		});
	}
	for (const t of transfers) await postTransfer(env.DB, t);
	log("info", "unattributed funds refund finished", {
		id,
		failed: outcome.failed,
		signature: outcome.signature,
	});
}
