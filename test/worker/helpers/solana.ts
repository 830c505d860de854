import { env } from "cloudflare:workers";
import {
	AccountRole,
	type Address,
	address,
	appendTransactionMessageInstructions,
	createTransactionMessage,
	generateKeyPairSigner,
	getBase64EncodedWireTransaction,
	getBase64Encoder,
	getTransactionDecoder,
	type Instruction,
	type KeyPairSigner,
	pipe,
	setTransactionMessageFeePayerSigner,
	setTransactionMessageLifetimeUsingBlockhash,
	signTransaction,
	signTransactionMessageWithSigners,
} from "@solana/kit";
import { getAddMemoInstruction } from "@solana-program/memo";
import { getTransferSolInstruction } from "@solana-program/system";
import {
	findAssociatedTokenPda,
	getCreateAssociatedTokenIdempotentInstruction,
	getTransferCheckedInstruction,
} from "@solana-program/token";
import { parseTransferRequest } from "../../../src/domain/solana-pay";
import { settlementWatcher } from "../../../src/services/settlement-accounts";
import { fireDueJobs, paymentObject } from "./objects";

const MEMO_V3 = address("MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr");
export const TOKEN_PROGRAM = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA";
export const TOKEN_2022_PROGRAM = "TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb";
export const USDC_MINT = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v";
export const PYUSD_MINT = "PYUSDSandboxMint111111111111111111111111111";
export const FAKE_USDC_MINT = "FakeUSDCSandboxMint111111111111111111111111";

/** Calls the sandbox's local Solana network directly, as a wallet would. */
export async function rpc<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
	const res = await fetch(env.SOLANA_RPC_URLS, {
		method: "POST",
		headers: { "Content-Type": "application/json" },
		body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
	});
	const body = (await res.json()) as { result?: T; error?: { message: string } };
	if (body.error) throw new Error(`${method}: ${body.error.message}`);
	return body.result as T;
}

export async function advanceSlots(n: number): Promise<void> {
	await rpc("simulator_advanceSlots", [n]);
}

export async function setFaults(faults: Record<string, unknown>): Promise<void> {
	await rpc("simulator_setFaults", [faults]);
}

/** A payer wallet with SOL for fees and, optionally, tokens. */
export async function fundedPayer(
	tokens: { mint: string; amount: bigint }[] = [],
): Promise<KeyPairSigner> {
	const payer = await generateKeyPairSigner();
	await rpc("requestAirdrop", [payer.address, 10_000_000_000]);
	for (const t of tokens)
		await rpc("simulator_mintTokens", [payer.address, t.mint, t.amount.toString()]);
	await advanceSlots(2);
	return payer;
}

export interface TransferSpec {
	payer: KeyPairSigner;
	recipient: string;
	amount: bigint;
	/** Omit for SOL. */
	mint?: { address: string; decimals: number; program: string };
	references?: string[];
	/** One memo, or several (a transaction that claims to pay several payments). */
	memo?: string | string[];
}

function withReferences<T extends Instruction>(ix: T, references: string[]): T {
	return {
		...ix,
		accounts: [
			...(ix.accounts ?? []),
			...references.map((r) => ({ address: address(r), role: AccountRole.READONLY })),
		],
	};
}

/** Builds, signs and sends a Solana Pay style transfer; returns its signature. */
export async function sendTransfer(spec: TransferSpec): Promise<string> {
	return sendInstructions(spec.payer, await transferInstructions(spec));
}

/** The instructions of a Solana Pay style transfer (memos, the transfer with its references). */
export async function transferInstructions(spec: TransferSpec): Promise<Instruction[]> {
	const references = spec.references ?? [];
	const instructions: Instruction[] = [];
	for (const memo of [spec.memo ?? []].flat())
		instructions.push(getAddMemoInstruction({ memo }, { programAddress: MEMO_V3 }));
	if (!spec.mint) {
		instructions.push(
			withReferences(
				getTransferSolInstruction({
					source: spec.payer,
					destination: address(spec.recipient),
					amount: spec.amount,
				}),
				references,
			),
		);
	} else {
		const mint = address(spec.mint.address);
		const tokenProgram = address(spec.mint.program);
		const [source] = await findAssociatedTokenPda({
			owner: spec.payer.address,
			mint,
			tokenProgram,
		});
		const [destination] = await findAssociatedTokenPda({
			owner: address(spec.recipient),
			mint,
			tokenProgram,
		});
		instructions.unshift(
			getCreateAssociatedTokenIdempotentInstruction({
				payer: spec.payer,
				ata: destination,
				owner: address(spec.recipient),
				mint,
				tokenProgram,
			}),
		);
		instructions.push(
			withReferences(
				getTransferCheckedInstruction(
					{
						source,
						mint,
						destination,
						authority: spec.payer,
						amount: spec.amount,
						decimals: spec.mint.decimals,
					},
					{ programAddress: tokenProgram },
				),
				references,
			),
		);
	}
	return instructions;
}

export async function sendInstructions(
	payer: KeyPairSigner,
	instructions: Instruction[],
	options: { skipPreflight?: boolean } = {},
): Promise<string> {
	const { value: latest } = await rpc<{
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
	const signed = await signTransactionMessageWithSigners(message);
	return rpc<string>("sendTransaction", [
		getBase64EncodedWireTransaction(signed),
		{ encoding: "base64", skipPreflight: options.skipPreflight ?? false },
	]);
}

/** Signs a server-built transaction (a transaction request's answer) as the wallet would, and sends it. */
export async function signAndSendBase64(
	payer: KeyPairSigner,
	transaction: string,
): Promise<string> {
	const decoded = getTransactionDecoder().decode(getBase64Encoder().encode(transaction));
	const signed = await signTransaction([payer.keyPair], decoded);
	return rpc<string>("sendTransaction", [
		getBase64EncodedWireTransaction(signed),
		{ encoding: "base64" },
	]);
}

/**
 * Pays a payment's Solana Pay transfer request in full from a fresh funded payer (SOL), lets the
 * transfer confirm and runs the payment's chain poll; returns the transaction's signature.
 */
export async function payTransferRequestInFull(p: {
	id: string;
	solana: { solana_pay_url: string; amount: string };
}): Promise<string> {
	const request = parseTransferRequest(p.solana.solana_pay_url);
	const signature = await sendTransfer({
		payer: await fundedPayer(),
		recipient: request.recipient,
		amount: BigInt(p.solana.amount),
		references: request.references,
		memo: request.memo ? [request.memo] : [],
	});
	await advanceSlots(1);
	await detect(p.id);
	return signature;
}

/**
 * What the runtime does on its own, done now: the settlement watcher of the payment's token
 * books what reached it (the suite sets its interval to an hour so no alarm races a test), then
 * the payment's finality check runs if one is due.
 */
export async function detect(paymentId: string): Promise<void> {
	const payment = await paymentObject(paymentId).get();
	const currency = payment?.solana?.mint ?? "sol";
	const scan = await settlementWatcher(env as never, currency).scan(currency);
	if (scan.error) throw new Error(scan.error);
	await fireDueJobs(paymentId, ["poll"]);
}

/** Books everything that reached every settlement account so far. */
export async function scanAll(): Promise<void> {
	for (const currency of ["sol", USDC_MINT, PYUSD_MINT]) {
		const scan = await settlementWatcher(env as never, currency).scan(currency);
		if (scan.error) throw new Error(scan.error);
	}
}

export type { Address };
