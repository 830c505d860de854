import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { SolanaPaymentDetails } from "../../src/domain/payment";
import { createMerchant, createPayment, type PaymentJson } from "../worker/helpers/api";
import { advanceSlots, fundedPayer, scanAll, sendTransfer } from "../worker/helpers/solana";
import { expectBooksMatchChain } from "./helpers";

// A file of its own: its storage starts empty, so its watchers start here. No scan runs before
// the first quote: the quote itself starts every settlement account's watcher.

describe("when watching begins", () => {
	it("books SOL sent with a USDC payment's reference before any SOL quote, instead of taking it as float", async () => {
		const m = await createMerchant();
		const p = (await createPayment(m.sk, {
			payment_method_types: ["solana"],
			solana: { token: "USDC" },
		})) as PaymentJson & { solana: SolanaPaymentDetails };
		const payer = await fundedPayer();
		await sendTransfer({
			payer,
			recipient: p.solana.recipient,
			amount: 7_000_000n,
			references: [p.solana.reference],
			memo: p.solana.memo,
		});
		await advanceSlots(1);
		await scanAll();
		const row = await env.DB.prepare(
			"SELECT amount, reason, sender FROM unattributed_funds WHERE payment_id = ?",
		)
			.bind(p.id)
			.first<{ amount: string; reason: string; sender: string }>();
		expect(row).toEqual({ amount: "7000000", reason: "wrong_mint", sender: payer.address });
		await expectBooksMatchChain();
	});
});
