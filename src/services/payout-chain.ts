import { address } from "@solana/kit";
import { findAssociatedTokenPda } from "@solana-program/token";
import { createServices } from "../context";
import { inTransitTotal, payoutById } from "../db/payouts";
import type { PayoutRecord, PayoutToken } from "../domain/payout";
import { payoutFeeEstimate } from "../domain/payout";
import {
	payoutFeeCharged,
	payoutFeeReturnTransfer,
	payoutNetworkFeeTransfer,
	payoutPaidTransfer,
	payoutReversalTransfer,
} from "../domain/payout-ledger";
import type { Env } from "../env";
import { ApiError } from "../lib/errors";
import { log } from "../lib/log";
import type { SolanaRpc } from "../processors/solana/rpc";
import { movePayout } from "./payout-transitions";

/** Lamports per signature: the settlement wallet is the only signer of a payout transaction. */
const SIGNATURE_FEE = 5000n;
const TOKEN_PROGRAM = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA";
/** Bytes of a token account: the Token program's, and Token-2022's with ImmutableOwner. */
const TOKEN_ACCOUNT_BYTES = 165;
const TOKEN_2022_ACCOUNT_BYTES = 170;

function toBigInt(value: unknown): bigint {
	if (typeof value === "bigint") return value;
	if (typeof value === "number" && Number.isSafeInteger(value)) return BigInt(value);
	if (typeof value === "string" && /^\d+$/.test(value)) return BigInt(value);
	throw new Error(`not an integer amount: ${String(value)}`);
}

export async function associatedTokenAccount(owner: string, token: PayoutToken): Promise<string> {
	const [ata] = await findAssociatedTokenPda({
		owner: address(owner),
		mint: address(token.mint as string),
		tokenProgram: address(token.program ?? TOKEN_PROGRAM),
	});
	return ata;
}

async function rentExempt(rpc: SolanaRpc, bytes: number): Promise<bigint> {
	return toBigInt(await rpc.call<unknown>("getMinimumBalanceForRentExemption", [bytes]));
}

async function lamportsOf(rpc: SolanaRpc, owner: string): Promise<bigint> {
	const r = await rpc.call<{ value: unknown }>("getBalance", [owner, { commitment: "confirmed" }]);
	return toBigInt(r.value);
}

/** A token account's balance in base units; 0 when the account does not exist. */
async function tokenBalanceOf(rpc: SolanaRpc, tokenAccount: string): Promise<bigint> {
	const r = await rpc.call<{ value: (unknown | null)[] }>("getMultipleAccounts", [
		[tokenAccount],
		{ encoding: "jsonParsed", commitment: "confirmed" },
	]);
	const account = r.value[0] as
		| { data?: { parsed?: { info?: { tokenAmount?: { amount?: unknown } } } } }
		| null
		| undefined;
	if (!account) return 0n;
	return toBigInt(account.data?.parsed?.info?.tokenAmount?.amount ?? "0");
}

/**
 * Lamports a payout's transaction can cost at most: the signature fee, and for a token the rent
 * of the recipient's associated token account when it does not exist yet. The real cost is
 * measured from the landed transaction and charged then; this bounds what is checked up front.
 */
export async function onChainFeeEstimate(
	env: Env,
	token: PayoutToken,
	recipient: string,
): Promise<bigint> {
	return (await onChainFeeQuote(env, token, recipient)).fee;
}

/**
 * The fee estimate and whether it includes the recipient's token-account rent: a payout accepted
 * without the rent must never create the account (its fee reserve could not cover it).
 */
export async function onChainFeeQuote(
	env: Env,
	token: PayoutToken,
	recipient: string,
): Promise<{ fee: bigint; createsTokenAccount: boolean }> {
	const rpc = createServices(env).solana;
	if (token.mint === null) {
		const fee = payoutFeeEstimate({
			signatureFee: SIGNATURE_FEE,
			tokenAccountRent: 0n,
			tokenAccountExists: true,
		});
		return { fee, createsTokenAccount: false };
	}
	const exists = await recipientTokenAccountExists(rpc, recipient, token);
	const bytes =
		token.program === TOKEN_PROGRAM || token.program === null
			? TOKEN_ACCOUNT_BYTES
			: TOKEN_2022_ACCOUNT_BYTES;
	const fee = payoutFeeEstimate({
		signatureFee: SIGNATURE_FEE,
		tokenAccountRent: exists ? 0n : await rentExempt(rpc, bytes),
		tokenAccountExists: exists,
	});
	return { fee, createsTokenAccount: !exists };
}

/** Whether the recipient's associated token account of `token` exists (confirmed). */
export async function recipientTokenAccountExists(
	rpc: SolanaRpc,
	recipient: string,
	token: PayoutToken,
): Promise<boolean> {
	const ata = await associatedTokenAccount(recipient, token);
	const r = await rpc.call<{ value: (unknown | null)[] }>("getMultipleAccounts", [
		[ata],
		{ encoding: "base64", commitment: "confirmed" },
	]);
	return r.value[0] !== null && r.value[0] !== undefined;
}

/**
 * Refuses (409) a payout the settlement wallet cannot cover on chain: what the account it is
 * sent from holds, less what payouts already reserved and not yet sent or paid (the treasury's
 * in-transit funds, both modes), must cover the amount; the wallet must keep its rent-exempt
 * minimum and the fee. Nothing is ever sent in part.
 */
export async function checkChainCoverage(
	env: Env,
	token: PayoutToken,
	amount: bigint,
	fee: bigint,
): Promise<void> {
	const rpc = createServices(env).solana;
	const wallet = env.SOLANA_SETTLEMENT_WALLET;
	const [lamports, keep, solInTransit] = await Promise.all([
		lamportsOf(rpc, wallet),
		rentExempt(rpc, 0),
		inTransitTotal(env.DB, "sol"),
	]);
	const solNeeded = keep + fee + solInTransit + (token.mint === null ? amount : 0n);
	let short = lamports < solNeeded;
	if (token.mint !== null) {
		const [held, reserved] = await Promise.all([
			tokenBalanceOf(rpc, await associatedTokenAccount(wallet, token)),
			inTransitTotal(env.DB, token.mint),
		]);
		short ||= held - reserved < amount;
		if (short)
			log("warn", "payout refused: settlement account short", {
				held: String(held),
				reserved: String(reserved),
				amount: String(amount),
			});
	}
	if (short) {
		throw new ApiError(
			"resource_conflict",
			"The settlement account cannot cover this payout on chain right now; nothing was reserved. Try a smaller amount or later.",
			"amount",
		);
	}
}

/**
 * A SOL payout to a wallet that holds nothing must open it: the network refuses to leave a new
 * account below its rent-exempt minimum, so a smaller amount is refused here (400) rather than
 * failing on chain.
 */
export async function checkSolRecipient(
	env: Env,
	recipient: string,
	amount: bigint,
): Promise<void> {
	const rpc = createServices(env).solana;
	const [held, minimum] = await Promise.all([lamportsOf(rpc, recipient), rentExempt(rpc, 0)]);
	if (held === 0n && amount < minimum) {
		throw new ApiError(
			"parameter_invalid",
			`The destination wallet holds no SOL yet: a payout must bring it at least ${minimum} lamports (the network's rent-exempt minimum).`,
			"amount",
		);
	}
}

/**
 * Just before a payout transaction is built: the settlement account must still hold the whole
 * amount (and for SOL the fee and the wallet's rent-exempt minimum). Throws a plain Error, which
 * fails the payout unsent, rather than broadcasting a transfer the chain would refuse.
 */
export async function assertSettlementHolds(
	rpc: SolanaRpc,
	wallet: string,
	token: PayoutToken,
	amount: bigint,
): Promise<void> {
	if (token.mint === null) {
		const [lamports, keep] = await Promise.all([lamportsOf(rpc, wallet), rentExempt(rpc, 0)]);
		if (lamports < amount + SIGNATURE_FEE + keep) {
			throw new Error(
				`the settlement wallet holds ${lamports} lamports, too few to send ${amount}`,
			);
		}
		return;
	}
	const held = await tokenBalanceOf(rpc, await associatedTokenAccount(wallet, token));
	if (held < amount) {
		throw new Error(`the settlement account holds ${held} base units, too few to send ${amount}`);
	}
}

export interface PayoutSendOutcome {
	state: "finalized" | "failed";
	failure: string | null;
	signature: string | null;
	networkFee: bigint;
}

/**
 * Books how a payout's transaction ended (its sender calls this until it succeeds): paid, the
 * amount into the settlement account it left from, or failed, the reservation reversed; the
 * lamports spent charged to the merchant's SOL balance either way. A repeated report finds the
 * payout already final and changes nothing.
 */
export async function completeOnChainPayout(
	env: Env,
	payoutId: string,
	outcome: PayoutSendOutcome,
): Promise<PayoutRecord> {
	const payout = await payoutById(env.DB, payoutId);
	if (!payout) throw new Error(`No payout ${payoutId}`);
	if (payout.status === "paid" || payout.status === "failed") return payout;
	if (payout.status !== "in_transit") {
		throw new Error(`Payout ${payoutId} is ${payout.status}, not in transit`);
	}
	const now = Math.floor(Date.now() / 1000);
	const cost = outcome.networkFee > 0n ? outcome.networkFee : 0n;
	// The merchant pays what the transactions cost, never more than the fee reserved for them.
	const fee = payoutFeeCharged(payout, cost);
	const common = { fee: fee.toString(), fee_currency: "sol", solana_signature: outcome.signature };
	const next =
		outcome.state === "finalized"
			? await movePayout(env, payout, "paid", common, now, (p) => [
					payoutPaidTransfer(p, now),
					payoutNetworkFeeTransfer(p, cost, now),
					payoutFeeReturnTransfer(p, cost, now),
				])
			: await movePayout(
					env,
					payout,
					"failed",
					{
						...common,
						failure_code: outcome.signature ? "transaction_failed" : "could_not_send",
						failure_message: outcome.failure ?? "The payout could not be sent.",
					},
					now,
					(p) => [
						payoutReversalTransfer(p, now),
						payoutNetworkFeeTransfer(p, cost, now),
						payoutFeeReturnTransfer(p, cost, now),
					],
				);
	if (next) return next;
	// Another report won the race: it booked the same outcome.
	const current = await payoutById(env.DB, payoutId);
	if (current && (current.status === "paid" || current.status === "failed")) return current;
	throw new Error(`Payout ${payoutId} could not be completed`);
}
