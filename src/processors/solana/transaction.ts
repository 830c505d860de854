import {
	address,
	compileTransaction,
	createNoopSigner,
	getBase64EncodedWireTransaction,
} from "@solana/kit";
import type { SolanaPaymentDetails } from "../../domain/payment";
import { outstandingTokens } from "../../domain/solana-receipts";
import type { SolanaRpc } from "./rpc";
import { messageWithFreshBlockhash, transferInstructions } from "./transfer";

/**
 * Builds the transaction a Solana Pay transaction request returns: the payer's transfer of the
 * exact quoted amount to the settlement wallet (its associated token account for SPL tokens,
 * created idempotently at the payer's expense if missing), the reference key, and the memo,
 * with a fresh blockhash. Returned unsigned, base64, for the wallet to sign and send.
 */
export async function buildPaymentTransaction(
	rpc: SolanaRpc,
	solana: SolanaPaymentDetails,
	account: string,
): Promise<{ transaction: string; lastValidBlockHeight: number }> {
	const payer = createNoopSigner(address(account));
	const instructions = await transferInstructions({
		from: payer,
		to: solana.recipient,
		// A partly paid payment asks only for what is still owed.
		amount: outstandingTokens(solana),
		mint: solana.mint,
		tokenProgram: solana.token_program,
		decimals: solana.decimals,
		memo: solana.memo,
		reference: solana.reference,
	});
	const { message, lastValidBlockHeight } = await messageWithFreshBlockhash(
		rpc,
		payer,
		instructions,
	);
	return {
		transaction: getBase64EncodedWireTransaction(compileTransaction(message)),
		lastValidBlockHeight,
	};
}
