import { env } from "cloudflare:workers";
import { address } from "@solana/kit";
import { findAssociatedTokenPda } from "@solana-program/token";
import { expect } from "vitest";
import { ledgerTotals } from "../../../src/db/ledger";
import { rpc, TOKEN_PROGRAM, USDC_MINT } from "./solana";

/** The ledger sums to zero in every currency. */
export async function expectLedgerBalanced(): Promise<void> {
	for (const [currency, total] of await ledgerTotals(env.DB)) {
		expect(total, `ledger total in ${currency}`).toBe(0n);
	}
}

/** One ledger account's balance (0 when it has no postings). */
export async function accountBalance(account: string): Promise<bigint> {
	const row = await env.DB.prepare(
		"SELECT CAST(balance AS TEXT) AS balance FROM ledger_balances WHERE account = ?",
	)
		.bind(account)
		.first<{ balance: string }>();
	return BigInt(row?.balance ?? "0");
}

/** A wallet's token balance on the local network (its associated token account, at confirmed). */
export async function tokenBalance(
	owner: string,
	mint = USDC_MINT,
	program = TOKEN_PROGRAM,
): Promise<bigint> {
	const [ata] = await findAssociatedTokenPda({
		owner: address(owner),
		mint: address(mint),
		tokenProgram: address(program),
	});
	const res = await rpc<{ value: { amount: string } }>("getTokenAccountBalance", [
		ata,
		{ commitment: "confirmed" },
	]);
	return BigInt(res.value.amount);
}
