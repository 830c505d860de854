import {
	createKeyPairSignerFromBytes,
	getBase58Encoder,
	getBase64EncodedWireTransaction,
	getSignatureFromTransaction,
	type KeyPairSigner,
	signTransactionMessageWithSigners,
} from "@solana/kit";
import type { SolanaRefundDetails } from "../../domain/refund";
import type { SolanaRpc } from "./rpc";
import { messageWithFreshBlockhash, transferInstructions } from "./transfer";

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

/** The largest transaction a Solana validator accepts (the IPv6 minimum MTU less headers). */
const MAX_TRANSACTION_BYTES = 1232;

/** A signed transfer from the settlement wallet, stored before it is broadcast. */
export interface SignedTransfer {
	signature: string;
	/** Base64 wire transaction, ready to broadcast (again). */
	wire: string;
	blockhash: string;
	lastValidBlockHeight: number;
}

export type SignedRefundTransaction = SignedTransfer;

/** What leaves the settlement wallet in one transaction: one or more legs of one token. */
export interface SettlementTransfer {
	legs: { recipient: string; amount: string }[];
	/** Null for SOL. */
	mint: string | null;
	token_program: string | null;
	decimals: number;
	/** The refund's or payout's id, as an SPL memo. */
	memo: string;
	/** The settlement wallet's token account to send from, when not its associated one. */
	source?: string | null;
	/** Create each recipient's associated token account if missing (default true). */
	create_token_accounts?: boolean;
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
	// One transfer, or one per payer of a split refund: all in one transaction, all or nothing.
	const legs = refund.splits ?? [{ recipient: refund.recipient, amount: refund.amount }];
	return buildSettlementTransaction(
		rpc,
		signer,
		{
			legs,
			mint: refund.mint,
			token_program: refund.token_program,
			decimals: refund.decimals,
			memo: refund.memo,
			source: refund.source ?? null,
		},
		"refund",
	);
}

/**
 * A transfer from the settlement wallet, signed, for refunds and payouts alike: every leg in one
 * transaction (all or nothing), each token leg into its recipient's associated token account,
 * created idempotently at the settlement wallet's expense, the memo before each transfer.
 */
export async function buildSettlementTransaction(
	rpc: SolanaRpc,
	signer: KeyPairSigner,
	transfer: SettlementTransfer,
	noun: string,
): Promise<SignedTransfer> {
	const instructions = (
		await Promise.all(
			transfer.legs.map((leg) =>
				transferInstructions({
					from: signer,
					to: leg.recipient,
					amount: BigInt(leg.amount),
					mint: transfer.mint,
					tokenProgram: transfer.token_program,
					decimals: transfer.decimals,
					memo: transfer.memo,
					source: transfer.source ?? null,
					createTokenAccount: transfer.create_token_accounts ?? true,
				}),
			),
		)
	).flat();
	const { message, blockhash, lastValidBlockHeight } = await messageWithFreshBlockhash(
		rpc,
		signer,
		instructions,
	);
	const signed = await signTransactionMessageWithSigners(message);
	const wire = getBase64EncodedWireTransaction(signed);
	// A transaction the network can never take fails at once (its amount freed) rather than
	// being broadcast until its blockhash runs out, again and again.
	const bytes = (wire.length * 3) / 4 - (wire.endsWith("==") ? 2 : wire.endsWith("=") ? 1 : 0);
	if (bytes > MAX_TRANSACTION_BYTES) {
		throw new Error(
			`the ${noun} transaction would be ${bytes} bytes, more than Solana's ${MAX_TRANSACTION_BYTES}`,
		);
	}
	return {
		signature: getSignatureFromTransaction(signed),
		wire,
		blockhash,
		lastValidBlockHeight,
	};
}
