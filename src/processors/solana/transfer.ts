import {
	AccountRole,
	type Address,
	address,
	appendTransactionMessageInstructions,
	createTransactionMessage,
	type Instruction,
	pipe,
	setTransactionMessageFeePayerSigner,
	setTransactionMessageLifetimeUsingBlockhash,
	type TransactionSigner,
} from "@solana/kit";
import { getAddMemoInstruction } from "@solana-program/memo";
import { getTransferSolInstruction } from "@solana-program/system";
import {
	findAssociatedTokenPda,
	getCreateAssociatedTokenIdempotentInstruction,
	getTransferCheckedInstruction,
} from "@solana-program/token";
import type { SolanaRpc } from "./rpc";

// SPL Memo v3: deployed on every cluster and parsed by every wallet and explorer.
const MEMO_V3 = address("MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr");
const TOKEN_PROGRAM = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA";

/** Adds a read-only, non-signer key (a Solana Pay reference) to an instruction. */
function withReference<T extends Instruction>(instruction: T, reference: Address | null): T {
	if (!reference) return instruction;
	return {
		...instruction,
		accounts: [...(instruction.accounts ?? []), { address: reference, role: AccountRole.READONLY }],
	};
}

export interface TransferSpec {
	/** Who sends and pays the fee (and the recipient's token account rent, if it is missing). */
	from: TransactionSigner;
	to: string;
	/** Base units. */
	amount: bigint;
	/** Null for SOL. */
	mint: string | null;
	tokenProgram: string | null;
	decimals: number;
	memo: string;
	/** A Solana Pay reference key on the transfer, when it identifies a payment. */
	reference?: string | null;
	/** The sender's token account to send from, when not its associated one. */
	source?: string | null;
	/** Create the recipient's associated token account if missing (default true). */
	createTokenAccount?: boolean;
}

/**
 * The instructions of one transfer: SOL with a system transfer; SPL and Token-2022 tokens with
 * `transferChecked` into the recipient's associated token account, created idempotently. The
 * memo comes immediately before the transfer it describes, as Solana Pay specifies.
 */
export async function transferInstructions(spec: TransferSpec): Promise<Instruction[]> {
	const recipient = address(spec.to);
	const reference = spec.reference ? address(spec.reference) : null;
	const memo = getAddMemoInstruction({ memo: spec.memo }, { programAddress: MEMO_V3 });
	if (spec.mint === null) {
		const transfer = getTransferSolInstruction({
			source: spec.from,
			destination: recipient,
			amount: spec.amount,
		});
		return [memo, withReference(transfer, reference)];
	}
	const mint = address(spec.mint);
	const tokenProgram = address(spec.tokenProgram ?? TOKEN_PROGRAM);
	const source = spec.source
		? address(spec.source)
		: (await findAssociatedTokenPda({ owner: spec.from.address, mint, tokenProgram }))[0];
	const [destination] = await findAssociatedTokenPda({ owner: recipient, mint, tokenProgram });
	const create =
		spec.createTokenAccount === false
			? []
			: [
					getCreateAssociatedTokenIdempotentInstruction({
						payer: spec.from,
						ata: destination,
						owner: recipient,
						mint,
						tokenProgram,
					}),
				];
	return [
		...create,
		memo,
		withReference(
			getTransferCheckedInstruction(
				{
					source,
					mint,
					destination,
					authority: spec.from,
					amount: spec.amount,
					decimals: spec.decimals,
				},
				{ programAddress: tokenProgram },
			),
			reference,
		),
	];
}

/** A v0 message paying with `feePayer`, with a fresh (confirmed) blockhash and its expiry. */
export async function messageWithFreshBlockhash(
	rpc: SolanaRpc,
	feePayer: TransactionSigner,
	instructions: Instruction[],
) {
	const { value: latest } = await rpc.call<{
		value: { blockhash: string; lastValidBlockHeight: number };
	}>("getLatestBlockhash", [{ commitment: "confirmed" }]);
	const message = pipe(
		createTransactionMessage({ version: 0 }),
		(m) => setTransactionMessageFeePayerSigner(feePayer, m),
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
		message,
		blockhash: latest.blockhash,
		lastValidBlockHeight: latest.lastValidBlockHeight,
	};
}
