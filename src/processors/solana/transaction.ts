import {
	AccountRole,
	type Address,
	address,
	appendTransactionMessageInstructions,
	compileTransaction,
	createNoopSigner,
	createTransactionMessage,
	getBase64EncodedWireTransaction,
	type Instruction,
	pipe,
	setTransactionMessageFeePayerSigner,
	setTransactionMessageLifetimeUsingBlockhash,
} from "@solana/kit";
import { getAddMemoInstruction } from "@solana-program/memo";
import { getTransferSolInstruction } from "@solana-program/system";
import {
	findAssociatedTokenPda,
	getCreateAssociatedTokenIdempotentInstruction,
	getTransferCheckedInstruction,
} from "@solana-program/token";
import type { SolanaPaymentDetails } from "../../domain/payment";
import type { SolanaRpc } from "./rpc";

const MEMO_V3 = address("MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr");

/** Adds the payment's reference as a read-only, non-signer key, as Solana Pay specifies. */
function withReference<T extends Instruction>(instruction: T, reference: Address): T {
	return {
		...instruction,
		accounts: [...(instruction.accounts ?? []), { address: reference, role: AccountRole.READONLY }],
	};
}

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
	const recipient = address(solana.recipient);
	const reference = address(solana.reference);
	const amount = BigInt(solana.amount);
	// Solana Pay puts the memo immediately before the transfer it describes.
	// SPL Memo v3: deployed on every cluster and parsed by every wallet and explorer.
	const memo = getAddMemoInstruction({ memo: solana.memo }, { programAddress: MEMO_V3 });
	const instructions: Instruction[] = [];

	if (solana.mint === null) {
		instructions.push(
			memo,
			withReference(
				getTransferSolInstruction({ source: payer, destination: recipient, amount }),
				reference,
			),
		);
	} else {
		const mint = address(solana.mint);
		const tokenProgram = address(
			solana.token_program ?? "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA",
		);
		const [source] = await findAssociatedTokenPda({ owner: payer.address, mint, tokenProgram });
		const [destination] = await findAssociatedTokenPda({ owner: recipient, mint, tokenProgram });
		instructions.push(
			getCreateAssociatedTokenIdempotentInstruction({
				payer,
				ata: destination,
				owner: recipient,
				mint,
				tokenProgram,
			}),
			memo,
			withReference(
				getTransferCheckedInstruction(
					{ source, mint, destination, authority: payer, amount, decimals: solana.decimals },
					{ programAddress: tokenProgram },
				),
				reference,
			),
		);
	}

	const { value: latest } = await rpc.call<{
		value: { blockhash: string; lastValidBlockHeight: number };
	}>("getLatestBlockhash", [{ commitment: "confirmed" }]);
	const message = pipe(
		createTransactionMessage({ version: 0 }),
		(m) => setTransactionMessageFeePayerSigner(payer, m),
		(m) =>
			setTransactionMessageLifetimeUsingBlockhash(
				{
					blockhash: latest.blockhash as never,
					lastValidBlockHeight: BigInt(latest.lastValidBlockHeight),
				},
				m,
			),
		(m) => appendTransactionMessageInstructions(instructions, m),
	);
	return {
		transaction: getBase64EncodedWireTransaction(compileTransaction(message)),
		lastValidBlockHeight: latest.lastValidBlockHeight,
	};
}
