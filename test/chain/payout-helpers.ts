import { address, generateKeyPairSigner } from "@solana/kit";
import { findAssociatedTokenPda } from "@solana-program/token";
import { accounts } from "../../src/domain/ledger";
import type { SolanaPaymentDetails } from "../../src/domain/payment";
import { parseTransferRequest } from "../../src/domain/solana-pay";
import { createMerchant, createPayment, type PaymentJson } from "../worker/helpers/api";
import { accountBalance } from "../worker/helpers/ledger";
import { addDestination, consumePayouts, finalizePayout } from "../worker/helpers/payouts";
import {
	advanceSlots,
	detect,
	fundedPayer,
	rpc,
	sendTransfer,
	TOKEN_PROGRAM,
	USDC_MINT,
} from "../worker/helpers/solana";

/** Chain payouts' shared steps: merchants paid on chain, balances read from the ledger and the chain. */

type SolanaPayment = PaymentJson & { solana: SolanaPaymentDetails };
export const USDC = { address: USDC_MINT, decimals: 6, program: TOKEN_PROGRAM };

/** A crypto payment of `token` paid in full on chain and booked: the merchant's available grows. */
export async function paidPayment(
	key: string,
	token: "SOL" | "USDC",
	amount = 2_500,
): Promise<void> {
	const p = (await createPayment(key, {
		amount,
		payment_method_types: ["solana"],
		solana: { token },
	})) as SolanaPayment;
	const request = parseTransferRequest(p.solana.solana_pay_url);
	const owed = BigInt(p.solana.amount);
	const payer = await fundedPayer(token === "USDC" ? [{ mint: USDC_MINT, amount: owed }] : []);
	await sendTransfer({
		payer,
		recipient: request.recipient,
		amount: owed,
		...(token === "USDC" ? { mint: USDC } : {}),
		references: request.references,
		memo: request.memo ? [request.memo] : [],
	});
	await advanceSlots(1);
	await detect(p.id);
}

export const available = (merchantId: string, currency: string) =>
	accountBalance(accounts.merchantAvailable(merchantId, false, currency));

export async function lamports(owner: string): Promise<bigint> {
	const r = await rpc<{ value: number }>("getBalance", [owner, { commitment: "confirmed" }]);
	return BigInt(r.value);
}

export async function usdcAccount(owner: string): Promise<string> {
	const [ata] = await findAssociatedTokenPda({
		owner: address(owner),
		mint: address(USDC_MINT),
		tokenProgram: address(TOKEN_PROGRAM),
	});
	return ata;
}

/** Successful transactions on chain into `account` that carry this payout's memo. */
export async function payoutTxsTo(account: string, payoutId: string): Promise<number> {
	const infos = await rpc<{ memo: string | null; err: unknown }[]>("getSignaturesForAddress", [
		account,
		{ commitment: "confirmed" },
	]);
	return infos.filter((i) => i.err === null && i.memo?.includes(payoutId)).length;
}

/** A merchant paid in USDC and SOL (for network fees), with a fresh wallet as its destination. */
export async function paidMerchant() {
	const m = await createMerchant();
	await paidPayment(m.sk, "USDC");
	await paidPayment(m.sk, "SOL");
	const wallet = (await generateKeyPairSigner()).address;
	const destination = await addDestination(m.merchant.id, {
		type: "solana_wallet",
		address: wallet,
	});
	return { m, wallet, destination };
}

/** Sends a payout through the queue and its sender until it is final. */
export async function send(payoutId: string) {
	await consumePayouts([payoutId]);
	return finalizePayout(payoutId);
}
