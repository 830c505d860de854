import {
	generateKeyPairSigner,
	getBase64EncodedWireTransaction,
	getBase64Encoder,
	getTransactionDecoder,
	type KeyPairSigner,
	partiallySignTransaction,
} from "@solana/kit";
import { USDC } from "../../../sandbox/solana/tokens";

// The payer's side of the sandbox's local Solana network, over its JSON-RPC as a wallet would.

export async function rpc<T = unknown>(
	url: string,
	method: string,
	params: unknown[] = [],
): Promise<T> {
	const res = await fetch(url, {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
		signal: AbortSignal.timeout(10_000),
	});
	const body = (await res.json()) as { result?: T; error?: { message: string } };
	if (body.error) throw new Error(`${method}: ${body.error.message}`);
	return body.result as T;
}

/** A new payer with SOL (airdrop) and USDC (the sandbox's mint faucet). */
export async function fundedPayer(
	rpcUrl: string,
	funds: { lamports?: bigint; usdc?: bigint } = {},
): Promise<KeyPairSigner> {
	const payer = await generateKeyPairSigner();
	await rpc(rpcUrl, "requestAirdrop", [payer.address, Number(funds.lamports ?? 5_000_000_000n)]);
	if (funds.usdc)
		await rpc(rpcUrl, "simulator_mintTokens", [payer.address, USDC.mint, funds.usdc.toString()]);
	return payer;
}

/**
 * Signs a wire transaction (base64) as its fee payer and sends it; resolves with the payer's
 * signature bytes, which is what a wallet's signAndSendTransaction returns.
 */
export async function signAndSend(
	rpcUrl: string,
	payer: KeyPairSigner,
	wire: string,
	options: { skipPreflight?: boolean; commitment?: string } = {},
): Promise<Uint8Array> {
	const decoded = getTransactionDecoder().decode(getBase64Encoder().encode(wire));
	const signed = await partiallySignTransaction([payer.keyPair], decoded);
	const signature = signed.signatures[payer.address];
	if (!signature) throw new Error(`the transaction does not ask ${payer.address} to sign`);
	await rpc<string>(rpcUrl, "sendTransaction", [
		getBase64EncodedWireTransaction(signed),
		{
			encoding: "base64",
			skipPreflight: options.skipPreflight ?? false,
			...(options.commitment ? { preflightCommitment: options.commitment } : {}),
		},
	]);
	return new Uint8Array(signature);
}
