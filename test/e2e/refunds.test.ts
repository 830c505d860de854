import { address } from "@solana/kit";
import { findAssociatedTokenPda } from "@solana-program/token";
import { beforeAll, describe, expect, test } from "vitest";
import { USDC } from "../../sandbox/solana/tokens";
import { gatewayJson } from "../../scripts/lib/gateway-api";
import type { PaymentObjectJson } from "../../src/domain/payment";
import type { RefundJson } from "../../src/domain/refund";
import { fundedPayer, rpc, signAndSend } from "./helpers/chain";
import { type StackMerchant, sharedStack, until } from "./helpers/stack";

// A crypto refund end to end through `wrangler dev`: the refunds queue (local Queues), the
// refund's Durable Object sending from the dev settlement wallet, and the local Solana network.

const stack = sharedStack();
let merchant: StackMerchant;

beforeAll(async () => {
	merchant = await stack.merchant("Refunds Coffee");
});

const api = <T>(path: string, body?: unknown) => merchant.api<T>(path, body);

async function usdcOf(owner: string): Promise<bigint> {
	const [ata] = await findAssociatedTokenPda({
		owner: address(owner),
		mint: address(USDC.mint),
		tokenProgram: address("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"),
	});
	try {
		const { value } = await rpc<{ value: { amount: string } }>(
			stack.rpcUrl,
			"getTokenAccountBalance",
			[ata, { commitment: "finalized" }],
		);
		return BigInt(value.amount);
	} catch (error) {
		// No token account yet (at finalized): nothing held.
		if (/could not find account/.test(String(error))) return 0n;
		throw error;
	}
}

describe("refunds through wrangler dev", () => {
	test("a USDC payment paid on the local chain is refunded through the queue, the payer made whole", async () => {
		const rpcUrl = stack.rpcUrl;
		// The settlement wallet pays the refund's network fee.
		const payment = await api<PaymentObjectJson>("/v1/payments", {
			amount: 2500,
			currency: "usd",
			payment_method_types: ["solana"],
			solana: { token: "USDC" },
		});
		const settlement = payment.solana?.recipient as string;
		await rpc(rpcUrl, "requestAirdrop", [settlement, 10_000_000_000]);

		const payer = await fundedPayer(rpcUrl, { usdc: 100_000_000n });
		const start = await until(
			"the payer's USDC",
			() => usdcOf(payer.address),
			(v) => v > 0n,
		);
		const { transaction } = (await gatewayJson(stack.gatewayUrl, `/solana-pay/${payment.id}`, {
			method: "POST",
			body: { account: payer.address },
		})) as { transaction: string };
		await signAndSend(rpcUrl, payer, transaction);
		const paid = await until(
			"the payment to succeed",
			() => api<PaymentObjectJson>(`/v1/payments/${payment.id}`),
			(p) => p.status === "succeeded",
		);
		expect(paid.solana?.payer).toBe(payer.address);
		const spent = start - BigInt(paid.solana?.amount ?? "0");
		// Balances are read at finalized, a moment behind the payment's confirmed.
		expect(
			await until(
				"the payment at finalized",
				() => usdcOf(payer.address),
				(v) => v === spent,
			),
		).toBe(spent);

		const created = await api<RefundJson>("/v1/refunds", { payment: payment.id });
		expect(created).toMatchObject({ status: "pending", amount: 2500, processor: "solana" });
		const refunded = await until(
			"the refund to succeed",
			() => api<RefundJson>(`/v1/refunds/${created.id}`),
			(r) => r.status !== "pending",
		);
		expect(refunded).toMatchObject({
			status: "succeeded",
			solana: { recipient: payer.address, amount: paid.solana?.amount, memo: created.id },
		});
		expect(refunded.solana?.signature).toEqual(expect.any(String));
		// Minus nothing: the payer has every unit back (the gateway fee included).
		expect(
			await until(
				"the refund at finalized",
				() => usdcOf(payer.address),
				(v) => v === start,
			),
		).toBe(start);
		const after = await api<PaymentObjectJson>(`/v1/payments/${payment.id}`);
		expect(after).toMatchObject({
			status: "succeeded",
			amount_refunded: 2500,
			refund_status: "refunded",
		});
		const events = await api<{ data: { type: string; data: { object: { id: string } } }[] }>(
			"/v1/events?limit=100",
		);
		const types = events.data.filter((e) => e.data.object.id === created.id).map((e) => e.type);
		expect(types.sort()).toEqual(["refund.created", "refund.succeeded"]);
	});
});
