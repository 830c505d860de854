import {
	address,
	appendTransactionMessageInstructions,
	createKeyPairSignerFromBytes,
	createTransactionMessage,
	getBase58Encoder,
	getBase64EncodedWireTransaction,
	getSignatureFromTransaction,
	type Instruction,
	type KeyPairSigner,
	pipe,
	setTransactionMessageFeePayerSigner,
	setTransactionMessageLifetimeUsingBlockhash,
	signTransactionMessageWithSigners,
} from "@solana/kit";
import { getAddMemoInstruction } from "@solana-program/memo";
import { getTransferSolInstruction } from "@solana-program/system";
import {
	findAssociatedTokenPda,
	getCreateAssociatedTokenIdempotentInstruction,
	getTransferCheckedInstruction,
} from "@solana-program/token";
import type { SolanaRefundDetails } from "../../domain/refund";
import type { SolanaRpc } from "./rpc";

const MEMO_V3 = address("MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr");
const TOKEN_PROGRAM = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA";

/** One signer per key per isolate: the key is imported once, as a non-extractable CryptoKey. */
const signers = new Map<string, Promise<KeyPairSigner>>();

/**
 * The settlement wallet's signer, from the Worker secret `SETTLEMENT_WALLET_KEY` (base58 of the
 * 64-byte secret key, as `solana-keygen` writes it). It must be the wallet payments land in.
 */
export async function settlementSigner(env: {
	SETTLEMENT_WALLET_KEY?: string;
	SOLANA_SETTLEMENT_WALLET: string;
}): Promise<KeyPairSigner> {
	const secret = env.SETTLEMENT_WALLET_KEY;
	if (!secret)
		throw new Error("Crypto refunds are not configured (SETTLEMENT_WALLET_KEY is not set)");
	let signer = signers.get(secret);
	if (!signer) {
		signer = (async () => {
			try {
				return await createKeyPairSignerFromBytes(getBase58Encoder().encode(secret));
			} catch {
				throw new Error("SETTLEMENT_WALLET_KEY is not a base58 64-byte Solana secret key");
			}
		})();
		signers.set(secret, signer);
		signer.catch(() => signers.delete(secret));
	}
	const resolved = await signer;
	if (resolved.address !== env.SOLANA_SETTLEMENT_WALLET) {
		throw new Error(
			`SETTLEMENT_WALLET_KEY belongs to ${resolved.address}, not the settlement wallet ${env.SOLANA_SETTLEMENT_WALLET}`,
		);
	}
	return resolved;
}

export interface SignedRefundTransaction {
	signature: string;
	/** Base64 wire transaction, ready to broadcast (again). */
	wire: string;
	blockhash: string;
	lastValidBlockHeight: number;
}

/**
 * The refund's transfer from the settlement wallet, signed: SOL with a system transfer, SPL and
 * Token-2022 tokens with `transferChecked` into the recipient's associated token account (created
 * idempotently, at the settlement wallet's expense), and the refund id as an SPL Memo v3. The
 * settlement wallet pays the fee; the recipient receives exactly `amount`.
 */
export async function buildRefundTransaction(
	rpc: SolanaRpc,
	signer: KeyPairSigner,
	refund: SolanaRefundDetails,
): Promise<SignedRefundTransaction> {
	const recipient = address(refund.recipient);
	const amount = BigInt(refund.amount);
	const memo = getAddMemoInstruction({ memo: refund.memo }, { programAddress: MEMO_V3 });
	const instructions: Instruction[] = [];
	if (refund.mint === null) {
		instructions.push(
			memo,
			getTransferSolInstruction({ source: signer, destination: recipient, amount }),
		);
	} else {
		const mint = address(refund.mint);
		const tokenProgram = address(refund.token_program ?? TOKEN_PROGRAM);
		const [source] = await findAssociatedTokenPda({ owner: signer.address, mint, tokenProgram });
		const [destination] = await findAssociatedTokenPda({ owner: recipient, mint, tokenProgram });
		instructions.push(
			getCreateAssociatedTokenIdempotentInstruction({
				payer: signer,
				ata: destination,
				owner: recipient,
				mint,
				tokenProgram,
			}),
			memo,
			getTransferCheckedInstruction(
				{ source, mint, destination, authority: signer, amount, decimals: refund.decimals },
				{ programAddress: tokenProgram },
			),
		);
	}
	const { value: latest } = await rpc.call<{
		value: { blockhash: string; lastValidBlockHeight: number };
	}>("getLatestBlockhash", [{ commitment: "confirmed" }]);
	const message = pipe(
		createTransactionMessage({ version: 0 }),
		(m) => setTransactionMessageFeePayerSigner(signer, m),
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
	const signed = await signTransactionMessageWithSigners(message);
	return {
		signature: getSignatureFromTransaction(signed),
		wire: getBase64EncodedWireTransaction(signed),
		blockhash: latest.blockhash,
		lastValidBlockHeight: latest.lastValidBlockHeight,
	};
}
