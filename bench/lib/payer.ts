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
import type { Sandbox } from "../../sandbox/server.js";
import { USDC } from "../../sandbox/solana/tokens.js";
import { parseTransferRequest } from "../../src/domain/solana-pay.js";
import type { ApiPayment } from "./pipeline-stack.js";

// Payers on the sandbox's local Solana network: funded keypairs that sign and send real token
// transfers (executed by LiteSVM's token program), either as a wallet answering a transaction
// request or as a wallet paying a Solana Pay transfer request (a QR code) on its own.

const MEMO_V3 = address("MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr");

/** SOL every new wallet gets for network fees (and rent), on top of what it pays. */
const FEE_LAMPORTS = 1_000_000_000n;

/** A new wallet with SOL for fees and exactly `tokens` USDC base units (funded in-process). */
export async function fundedPayer(sandbox: Sandbox, tokens: bigint): Promise<KeyPairSigner> {
	const payer = await generateKeyPairSigner();
	sandbox.solana.airdrop(payer.address, FEE_LAMPORTS);
	sandbox.solana.mintTokens(payer.address, USDC.mint, tokens);
	return payer;
}

/** A new wallet with `lamports` to pay in SOL, plus SOL for fees (funded in-process). */
export async function fundedSolPayer(sandbox: Sandbox, lamports: bigint): Promise<KeyPairSigner> {
	const payer = await generateKeyPairSigner();
	sandbox.solana.airdrop(payer.address, FEE_LAMPORTS + lamports);
	return payer;
}

async function rpcSend(rpcUrl: string, wire: string): Promise<string> {
	const res = await fetch(rpcUrl, {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: JSON.stringify({
			jsonrpc: "2.0",
			id: 1,
			method: "sendTransaction",
			params: [wire, { encoding: "base64" }],
		}),
		signal: AbortSignal.timeout(20_000),
	});
	const text = await res.text();
	let body: { result?: string; error?: { message: string } } = {};
	try {
		body = JSON.parse(text) as typeof body;
	} catch {
		throw new Error(`sendTransaction: HTTP ${res.status} ${text.slice(0, 100)}`);
	}
	if (body.error || !body.result) throw new Error(`sendTransaction: ${body.error?.message}`);
	return body.result;
}

/**
 * Sends over the sandbox's JSON-RPC as a wallet does, retrying an RPC error (rate limit,
 * unhealthy node) a few times as wallets do; the same signed bytes, so a retry can never pay twice.
 */
export async function sendOverRpc(rpcUrl: string, wire: string, tries = 8): Promise<string> {
	for (let attempt = 1; ; attempt++) {
		try {
			return await rpcSend(rpcUrl, wire);
		} catch (error) {
			if (attempt >= tries) throw error;
			await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
		}
	}
}

/**
 * Sends straight into the sandbox's chain, past its HTTP fault gate: the payer's wallet uses its
 * own RPC provider, so an outage of the gateway's RPC does not stop payers from paying.
 */
export async function sendDirect(sandbox: Sandbox, wire: string): Promise<string> {
	const send = sandbox.solana.methods.get("sendTransaction");
	if (!send) throw new Error("the sandbox has no sendTransaction");
	return (await send([wire, { encoding: "base64" }])) as string;
}

/** The wallet's side of a transaction request: the transaction the gateway built, signed. */
export async function signTransactionRequest(
	payer: KeyPairSigner,
	transaction: string,
): Promise<string> {
	const decoded = getTransactionDecoder().decode(getBase64Encoder().encode(transaction));
	const signed = await signTransaction([payer.keyPair], decoded);
	return getBase64EncodedWireTransaction(signed);
}

/** Base units of a transfer request's decimal `amount`, as a wallet reads it. */
function baseUnits(amount: string, decimals: number): bigint {
	const [whole = "0", fraction = ""] = amount.split(".");
	if (fraction.length > decimals) throw new Error(`amount ${amount} has too many decimals`);
	return BigInt(whole) * 10n ** BigInt(decimals) + BigInt(fraction.padEnd(decimals, "0") || "0");
}

/**
 * A wallet paying a Solana Pay transfer request (the checkout's QR code) by itself: idempotent
 * ATA, memo, transferChecked carrying the reference, on a blockhash read from the chain.
 * Returns the signed wire transaction (base64).
 */
export async function signTransferRequest(
	sandbox: Sandbox,
	payer: KeyPairSigner,
	payment: ApiPayment,
	options: { amount?: bigint } = {},
): Promise<string> {
	return signTransferRequestUrl(
		sandbox,
		payer,
		payment.solana.solana_pay_url,
		payment.solana.decimals,
		options,
	);
}

/**
 * `signTransferRequest` for a `solana:` transfer request URL and its token's decimals: a SOL
 * transfer when the URL names no `spl-token`, a token transfer otherwise. `amount` (base units)
 * pays another sum than the URL asks for, as a payer splitting a payment in parts does.
 */
export async function signTransferRequestUrl(
	sandbox: Sandbox,
	payer: KeyPairSigner,
	url: string,
	decimals: number,
	options: { amount?: bigint } = {},
): Promise<string> {
	const request = parseTransferRequest(url);
	if (!request.amount) throw new Error("a transfer request without an amount");
	const amount = options.amount ?? baseUnits(request.amount, decimals);
	const recipient = address(request.recipient);
	const references = request.references.map((r) => address(r));
	const memo = request.memo
		? [getAddMemoInstruction({ memo: request.memo }, { programAddress: MEMO_V3 })]
		: [];
	if (!request.splToken) {
		const transfer = getTransferSolInstruction({ source: payer, destination: recipient, amount });
		return signInstructions(sandbox, payer, [...memo, withReferences(transfer, references)]);
	}
	const mint = address(request.splToken);
	const tokenProgram = address(USDC.programId);
	const [source] = await findAssociatedTokenPda({ owner: payer.address, mint, tokenProgram });
	const [destination] = await findAssociatedTokenPda({ owner: recipient, mint, tokenProgram });
	const transfer = getTransferCheckedInstruction(
		{ source, mint, destination, authority: payer, amount, decimals },
		{ programAddress: tokenProgram },
	);
	return signInstructions(sandbox, payer, [
		getCreateAssociatedTokenIdempotentInstruction({
			payer,
			ata: destination,
			owner: recipient,
			mint,
			tokenProgram,
		}),
		...memo,
		withReferences(transfer, references),
	]);
}

/**
 * A plain SOL transfer carrying reference keys, as anyone can send: spam that names a payment's
 * reference, or dust. `memo` also makes otherwise identical transfers distinct transactions.
 */
export function signLamportTransfer(
	sandbox: Sandbox,
	payer: KeyPairSigner,
	transfer: { to: string; lamports: bigint; references: string[]; memo?: string },
): Promise<string> {
	const instruction = getTransferSolInstruction({
		source: payer,
		destination: address(transfer.to),
		amount: transfer.lamports,
	});
	return signInstructions(sandbox, payer, [
		...(transfer.memo
			? [getAddMemoInstruction({ memo: transfer.memo }, { programAddress: MEMO_V3 })]
			: []),
		withReferences(
			instruction,
			transfer.references.map((r) => address(r)),
		),
	]);
}

/** Solana Pay's references: read-only keys appended to the transfer instruction. */
function withReferences<T extends Instruction>(instruction: T, references: Address[]): Instruction {
	return {
		...instruction,
		accounts: [
			...(instruction.accounts ?? []),
			...references.map((r) => ({ address: r, role: AccountRole.READONLY })),
		],
	};
}

/** Signs instructions as the payer's wallet, on the chain's latest blockhash; base64 wire bytes. */
async function signInstructions(
	sandbox: Sandbox,
	payer: KeyPairSigner,
	instructions: Instruction[],
): Promise<string> {
	const chain = sandbox.solana.chain;
	const message = pipe(
		createTransactionMessage({ version: 0 }),
		(m) => setTransactionMessageFeePayerSigner(payer, m),
		(m) =>
			setTransactionMessageLifetimeUsingBlockhash(
				{
					// Read in-process: a wallet asks its own RPC, which the bench must not count.
					blockhash: chain.latestBlockhash() as never,
					lastValidBlockHeight: BigInt(chain.clock.lastValidBlockHeight(chain.slot)),
				},
				m,
			),
		(m) => appendTransactionMessageInstructions(instructions, m),
	);
	return getBase64EncodedWireTransaction(await signTransactionMessageWithSigners(message));
}
