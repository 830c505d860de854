import {
	AccountRole,
	address,
	appendTransactionMessageInstructions,
	createTransactionMessage,
	getBase64EncodedWireTransaction,
	pipe,
	setTransactionMessageFeePayerSigner,
	setTransactionMessageLifetimeUsingBlockhash,
	signTransactionMessageWithSigners,
} from "@solana/kit";
import { createTransfer, parseURL } from "@solana/pay";
import { Connection, Keypair, LAMPORTS_PER_SOL } from "@solana/web3.js";
import { getAddMemoInstruction } from "@solana-program/memo";
import { findAssociatedTokenPda, getTransferCheckedInstruction } from "@solana-program/token";
import { beforeAll, describe, expect, test } from "vitest";
import type { PaymentObjectJson } from "../../src/domain/payment";
import { parseTransferRequest } from "../../src/domain/solana-pay";
import { fundedPayer, rpc } from "./helpers/chain";
import { type StackMerchant, sharedStack, until } from "./helpers/stack";

// What wallets do with a fresh stack's transfer requests. Wallets that follow the Solana Pay
// spec transfer straight to the recipient's associated token account and create nothing; the
// reference library's `createTransfer` even reads that account first and refuses when it is
// missing. So the settlement wallet's token accounts must exist before any payer comes: the
// sandbox creates them at start, `npm run solana:setup` does in production.

const stack = sharedStack();
let merchant: StackMerchant;

beforeAll(async () => {
	merchant = await stack.merchant("Reference Library Books");
});

async function tokenPayment(token: "USDC" | "PYUSD") {
	const payment = await merchant.api<PaymentObjectJson>("/v1/payments", {
		amount: 1250,
		currency: "usd",
		payment_method_types: ["solana"],
		solana: { token },
	});
	if (!payment.solana?.mint) throw new Error("expected a token payment");
	return { payment, solana: payment.solana };
}

function succeeded(id: string) {
	return until(
		"the payment to succeed",
		() => merchant.api<PaymentObjectJson>(`/v1/payments/${id}`),
		(p) => p.status === "succeeded",
	);
}

describe("paying a fresh stack's transfer requests", () => {
	test("@solana/pay's createTransfer pays a USDC transfer request and the gateway books it", async () => {
		const { payment, solana } = await tokenPayment("USDC");
		const wallet = Keypair.generate();
		await rpc(stack.rpcUrl, "requestAirdrop", [wallet.publicKey.toBase58(), LAMPORTS_PER_SOL]);
		await rpc(stack.rpcUrl, "simulator_mintTokens", [
			wallet.publicKey.toBase58(),
			solana.mint,
			(BigInt(solana.amount) * 2n).toString(),
		]);
		const connection = new Connection(stack.rpcUrl, "confirmed");
		// createTransfer reads the payer's token account at `confirmed`: wait until it is there.
		const [payerAta] = await findAssociatedTokenPda({
			owner: address(wallet.publicKey.toBase58()),
			mint: address(solana.mint as string),
			tokenProgram: address(solana.token_program as string),
		});
		await until(
			"the payer's SOL and USDC",
			async () => {
				const lamports = await connection.getBalance(wallet.publicKey);
				const usdc = await rpc<{ value: { amount: string } }>(
					stack.rpcUrl,
					"getTokenAccountBalance",
					[payerAta, { commitment: "confirmed" }],
				).then(
					(r) => BigInt(r.value.amount),
					() => 0n,
				);
				return lamports > 0 && usdc > 0n;
			},
			(ready) => ready,
		);
		const fields = parseURL(solana.solana_pay_url);
		if (!("recipient" in fields) || !fields.amount) throw new Error("not a transfer request");
		const tx = await createTransfer(connection, wallet.publicKey, {
			...fields,
			amount: fields.amount,
		});
		tx.sign(wallet);
		await connection.sendRawTransaction(tx.serialize());
		expect((await succeeded(payment.id)).solana?.amount_received).toBe(solana.amount);
	});

	// @solana/pay 0.2.6 cannot pay Token-2022 at all (it compares the mint's owner with `===` on
	// PublicKey objects, so it always reads the mint as a Token mint), and its kit-based 1.x does
	// not install beside this project's kit. A Token-2022 transfer request is paid here the way
	// its createTransfer builds one: memo, then TransferChecked to the associated account, nothing
	// created.
	test("a spec wallet pays a Token-2022 (PYUSD) transfer request straight to the settlement account", async () => {
		const { payment, solana } = await tokenPayment("PYUSD");
		const request = parseTransferRequest(solana.solana_pay_url);
		const payer = await fundedPayer(stack.rpcUrl);
		const mint = address(solana.mint as string);
		const tokenProgram = address(solana.token_program as string);
		await rpc(stack.rpcUrl, "simulator_mintTokens", [
			payer.address,
			mint,
			(BigInt(solana.amount) * 2n).toString(),
		]);
		const [source] = await findAssociatedTokenPda({ owner: payer.address, mint, tokenProgram });
		const [destination] = await findAssociatedTokenPda({
			owner: address(request.recipient),
			mint,
			tokenProgram,
		});
		const transfer = getTransferCheckedInstruction(
			{ source, mint, destination, authority: payer, amount: BigInt(solana.amount), decimals: 6 },
			{ programAddress: tokenProgram },
		);
		const instructions = [
			getAddMemoInstruction({ memo: request.memo as string }),
			{
				...transfer,
				accounts: [
					...transfer.accounts,
					...request.references.map((r) => ({ address: address(r), role: AccountRole.READONLY })),
				],
			},
		];
		const { value: latest } = await until(
			"the payer's funds",
			() =>
				rpc<{ value: { blockhash: string; lastValidBlockHeight: number } }>(
					stack.rpcUrl,
					"getLatestBlockhash",
					[{ commitment: "confirmed" }],
				),
			() => true,
		);
		const signed = await signTransactionMessageWithSigners(
			pipe(
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
			),
		);
		await until(
			"the transfer to be accepted",
			() =>
				rpc<string>(stack.rpcUrl, "sendTransaction", [
					getBase64EncodedWireTransaction(signed),
					{ encoding: "base64" },
				]).then(
					() => true,
					() => false,
				),
			(sent) => sent,
		);
		expect((await succeeded(payment.id)).solana?.amount_received).toBe(solana.amount);
	});
});
