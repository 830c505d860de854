import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { merchantBalance } from "../../src/db/ledger";
import type { SolanaPaymentDetails } from "../../src/domain/payment";
import { parseTransferRequest } from "../../src/domain/solana-pay";
import {
	ADMIN_TOKEN,
	call,
	createMerchant,
	createPayment,
	json,
	type PaymentJson,
} from "./helpers/api";
import { eventTypes, fireDueJobs, paymentReceipts } from "./helpers/objects";
import {
	advanceSlots,
	detect,
	FAKE_USDC_MINT,
	fundedPayer,
	PYUSD_MINT,
	sendInstructions,
	sendTransfer,
	setFaults,
	signAndSendBase64,
	TOKEN_2022_PROGRAM,
	TOKEN_PROGRAM,
	USDC_MINT,
} from "./helpers/solana";

type SolanaPayment = PaymentJson & { solana: SolanaPaymentDetails };

async function solanaPayment(
	key: string,
	token: string,
	body: Record<string, unknown> = {},
): Promise<SolanaPayment> {
	return (await createPayment(key, {
		payment_method_types: ["solana"],
		solana: { token },
		...body,
	})) as SolanaPayment;
}

/** Base units from a Solana Pay `amount` (user units), the way a wallet reads it. */
function baseUnits(amount: string, decimals: number): bigint {
	const [whole = "0", fraction = ""] = amount.split(".");
	return BigInt(whole + fraction.padEnd(decimals, "0"));
}

const MINTS: Record<string, { address: string; decimals: number; program: string }> = {
	[USDC_MINT]: { address: USDC_MINT, decimals: 6, program: TOKEN_PROGRAM },
	[PYUSD_MINT]: { address: PYUSD_MINT, decimals: 6, program: TOKEN_2022_PROGRAM },
	[FAKE_USDC_MINT]: { address: FAKE_USDC_MINT, decimals: 6, program: TOKEN_PROGRAM },
};

/** Pays a payment exactly as a spec-following wallet does from its Solana Pay transfer URL. */
async function payFromUrl(
	payment: SolanaPayment,
	overrides: {
		amount?: bigint;
		mint?: string;
		recipient?: string;
		references?: string[];
		memos?: string[];
	} = {},
) {
	const request = parseTransferRequest(payment.solana.solana_pay_url);
	const amount = overrides.amount ?? baseUnits(request.amount ?? "0", payment.solana.decimals);
	const mintAddress = overrides.mint ?? request.splToken ?? undefined;
	const mint = mintAddress ? MINTS[mintAddress] : undefined;
	const payer = await fundedPayer(mint ? [{ mint: mint.address, amount: amount * 2n }] : []);
	const signature = await sendTransfer({
		payer,
		recipient: overrides.recipient ?? request.recipient,
		amount,
		...(mint ? { mint } : {}),
		references: overrides.references ?? request.references,
		memo: overrides.memos ?? (request.memo ? [request.memo] : []),
	});
	return { payer, signature };
}

/** Lets the chain confirm what was sent, then runs the payment's poll as its alarm would. */
async function confirmAndPoll(paymentId: string, slots = 1): Promise<void> {
	await advanceSlots(slots);
	await detect(paymentId);
}

async function status(id: string): Promise<SolanaPayment> {
	const res = await call("GET", `/v1/payments/${id}`, { key: await keyFor(id) });
	return json<SolanaPayment>(res);
}

const keys = new Map<string, string>();
async function keyFor(id: string): Promise<string> {
	return keys.get(id) as string;
}
async function merchantWithPayment(token: string, body: Record<string, unknown> = {}) {
	const m = await createMerchant();
	const p = await solanaPayment(m.sk, token, body);
	keys.set(p.id, m.sk);
	return { m, p };
}

describe("quotes", () => {
	it("quotes SOL at the sandbox rate, rounded up, with the fee separate and a spec URL", async () => {
		const { p } = await merchantWithPayment("SOL", {
			amount: 2500,
			currency: "usd",
			description: "Order 7",
		});
		expect(p.solana).toMatchObject({
			token: "SOL",
			mint: null,
			decimals: 9,
			recipient: env.SOLANA_SETTLEMENT_WALLET,
			memo: p.id,
			quote: { rate: "150.000000", amount_before_fee: "166666667", fee: "833334", source: "pyth" },
			amount: "167500001",
			amount_received: "0",
			signature: null,
		});
		const url = parseTransferRequest(p.solana.solana_pay_url);
		expect(url).toMatchObject({
			recipient: env.SOLANA_SETTLEMENT_WALLET,
			amount: "0.167500001",
			splToken: null,
			references: [p.solana.reference],
			label: "Acme",
			message: "Order 7",
			memo: p.id,
		});
		expect(p.solana.transaction_request_url).toBe(
			`solana:http://127.0.0.1:8787/solana-pay/${p.id}?label=Acme`,
		);
		expect(p.solana.quote.expires_at).toBeLessThanOrEqual(p.expires_at);
	});

	it("quotes USDC by symbol or mint and refuses an unknown token", async () => {
		const m = await createMerchant();
		const bySymbol = await solanaPayment(m.sk, "USDC");
		expect(bySymbol.solana.mint).toBe(USDC_MINT);
		expect(bySymbol.solana.quote.amount_before_fee).toBe("25000000");
		expect((await solanaPayment(m.sk, USDC_MINT)).solana.token).toBe("USDC");
		const res = await call("POST", "/v1/payments", {
			key: m.sk,
			body: {
				amount: 100,
				currency: "usd",
				payment_method_types: ["solana"],
				solana: { token: "DOGE" },
			},
		});
		expect(res.status).toBe(400);
		expect((await json<{ error: { param: string } }>(res)).error.param).toBe("solana[token]");
	});

	it("re-quotes an unpaid payment in another token with the publishable key", async () => {
		const m = await createMerchant();
		const p = await solanaPayment(m.sk, "SOL");
		const res = await call("POST", `/v1/payments/${p.id}/quote`, {
			key: m.pk,
			body: { token: "USDC" },
		});
		expect(res.status).toBe(200);
		const requoted = await json<SolanaPayment>(res);
		expect(requoted.solana.token).toBe("USDC");
		expect(requoted.solana.reference).not.toBe(p.solana.reference);
		expect(await eventTypes(p.id)).toEqual(["payment.created", "payment.quote_updated"]);
	});
});

describe("merchant policy", () => {
	it("quotes only the tokens a merchant accepts, and applies its finality threshold", async () => {
		const m = await createMerchant();
		const res = await call("POST", `/admin/v1/merchants/${m.merchant.id}`, {
			key: ADMIN_TOKEN,
			body: { settings: { accepted_tokens: ["USDC"], solana_finalized_above: 1000 } },
		});
		expect(res.status).toBe(200);
		expect((await json<{ settings: unknown }>(res)).settings).toEqual({
			accepted_tokens: ["USDC"],
			solana_finalized_above: 1000,
		});
		const unknown = await call("POST", `/admin/v1/merchants/${m.merchant.id}`, {
			key: ADMIN_TOKEN,
			body: { plan: "gold" },
		});
		expect(unknown.status).toBe(400);
		expect((await json<{ error: { param: string } }>(unknown)).error.param).toBe("plan");
		const refused = await call("POST", "/v1/payments", {
			key: m.sk,
			body: {
				amount: 2500,
				currency: "usd",
				payment_method_types: ["solana"],
				solana: { token: "SOL" },
			},
		});
		expect(refused.status).toBe(400);
		expect(
			(await json<{ error: { message: string; param: string } }>(refused)).error,
		).toMatchObject({
			param: "solana[token]",
			message: "Token 'SOL' is not accepted here. Use one of: USDC.",
		});
		const usdc = await solanaPayment(m.sk, "USDC", { amount: 2500 });
		expect(usdc.solana.required_commitment).toBe("finalized");
	});
});

describe("paying", () => {
	it("settles a SOL payment from its transfer URL: event, signature, payer and ledger", async () => {
		const { m, p } = await merchantWithPayment("SOL");
		const { payer, signature } = await payFromUrl(p);
		await confirmAndPoll(p.id);
		const paid = await status(p.id);
		expect(paid.status).toBe("succeeded");
		expect(paid.amount_received).toBe(2500);
		expect(paid.solana).toMatchObject({
			amount_received: "167500001",
			amount_excess: "0",
			signature,
			payer: payer.address,
		});
		expect(await eventTypes(p.id)).toEqual(["payment.created", "payment.succeeded"]);
		const balance = await merchantBalance(env.DB, m.merchant.id, false);
		expect(balance.available).toEqual([{ currency: "sol", amount: 166_666_667n }]);
		// The postings: settlement wallet → payment holding → merchant (price) + gateway (fee).
		const { results } = await env.DB.prepare(
			"SELECT transfer_id, account, CAST(amount AS TEXT) AS amount FROM ledger_postings WHERE transfer_id IN (?, ?) ORDER BY rowid",
		)
			.bind(`${signature}:sol:received`, `${p.id}:settled`)
			.all<{ transfer_id: string; account: string; amount: string }>();
		const posting = (transfer_id: string, account: string, amount: string) => ({
			transfer_id,
			account,
			amount,
		});
		const received = `${signature}:sol:received`;
		const settled = `${p.id}:settled`;
		expect(results).toEqual([
			posting(received, "test:settlement:solana:sol", "-167500001"),
			posting(received, `test:payment:${p.id}:sol`, "167500001"),
			posting(settled, `test:payment:${p.id}:sol`, "-167500001"),
			posting(settled, `test:merchant:${m.merchant.id}:sol:available`, "166666667"),
			posting(settled, "test:gateway:fees:sol", "833334"),
		]);
	});

	it("settles USDC and a Token-2022 token", async () => {
		for (const token of ["USDC", "PYUSD"]) {
			const { m, p } = await merchantWithPayment(token);
			await payFromUrl(p);
			await confirmAndPoll(p.id);
			expect((await status(p.id)).status).toBe("succeeded");
			const balance = await merchantBalance(env.DB, m.merchant.id, false);
			expect(balance.available).toEqual([{ currency: p.solana.mint, amount: 25_000_000n }]);
		}
	});

	it("pays through the transaction request endpoint as a wallet does", async () => {
		const { p } = await merchantWithPayment("USDC");
		const link = `/solana-pay/${p.id}`;
		const info = await call("GET", link);
		expect(info.headers.get("Access-Control-Allow-Origin")).toBe("*");
		expect(await json(info)).toEqual({ label: "Acme", icon: "http://127.0.0.1:8787/favicon.svg" });
		const payer = await fundedPayer([{ mint: USDC_MINT, amount: 100_000_000n }]);
		const res = await call("POST", link, { body: { account: payer.address } });
		expect(res.status).toBe(200);
		const { transaction, message } = await json<{ transaction: string; message: string }>(res);
		expect(message).toBe(`Payment ${p.id}`);
		const signature = await signAndSendBase64(payer, transaction);
		await confirmAndPoll(p.id);
		const paid = await status(p.id);
		expect(paid.status).toBe("succeeded");
		expect(paid.solana.signature).toBe(signature);
	});

	it("keeps an underpaid payment open until it is topped up", async () => {
		const { p } = await merchantWithPayment("USDC");
		const full = BigInt(p.solana.amount);
		await payFromUrl(p, { amount: full - 5_000_000n });
		await confirmAndPoll(p.id);
		const partial = await status(p.id);
		expect(partial.status).toBe("requires_payment");
		expect(partial.solana.amount_received).toBe((full - 5_000_000n).toString());
		expect(partial.amount_received).toBeGreaterThan(0);
		await payFromUrl(p, { amount: 5_000_000n });
		await confirmAndPoll(p.id);
		expect((await status(p.id)).status).toBe("succeeded");
		expect(await eventTypes(p.id)).toEqual([
			"payment.created",
			"payment.partially_funded",
			"payment.succeeded",
		]);
	});

	it("records an overpayment's excess and holds it for refund", async () => {
		const { m, p } = await merchantWithPayment("USDC");
		await payFromUrl(p, { amount: BigInt(p.solana.amount) + 1_000_000n });
		await confirmAndPoll(p.id);
		const paid = await status(p.id);
		expect(paid.status).toBe("succeeded");
		expect(paid.solana.amount_excess).toBe("1000000");
		expect((await merchantBalance(env.DB, m.merchant.id, false)).available).toEqual([
			{ currency: USDC_MINT, amount: 25_000_000n },
		]);
	});
});

describe("rejecting what is not a payment", () => {
	it("rejects a look-alike mint, money sent elsewhere and a failed transaction", async () => {
		const { p } = await merchantWithPayment("USDC");
		await payFromUrl(p, { mint: FAKE_USDC_MINT });
		await payFromUrl(p, { recipient: (await fundedPayer()).address });
		await confirmAndPoll(p.id);
		// Neither reached a settlement account the gateway watches: nothing is the payment's.
		expect(await paymentReceipts(p.id)).toEqual([]);
		expect((await status(p.id)).status).toBe("requires_payment");
	});

	it("never sees a transfer without the reference", async () => {
		const { p } = await merchantWithPayment("SOL");
		await payFromUrl(p, { references: [] });
		await confirmAndPoll(p.id);
		expect(await paymentReceipts(p.id)).toEqual([]);
		expect((await status(p.id)).status).toBe("requires_payment");
	});

	it("never lets one inflow that names two payments in its token pay either: it is held for its sender", async () => {
		const m = await createMerchant();
		const a = await solanaPayment(m.sk, "SOL");
		const b = await solanaPayment(m.sk, "SOL", { amount: 2500 });
		keys.set(a.id, m.sk);
		keys.set(b.id, m.sk);
		// One transaction that names both payments (references and memos) and pays the amount once.
		await payFromUrl(a, {
			references: [a.solana.reference, b.solana.reference],
			memos: [a.solana.memo, b.solana.memo],
		});
		await confirmAndPoll(a.id);
		await detect(b.id);
		// One balance change cannot be split between two payments by guesswork.
		expect((await status(a.id)).status).toBe("requires_payment");
		expect((await status(b.id)).status).toBe("requires_payment");
		expect(await paymentReceipts(a.id)).toEqual([]);
		expect(await paymentReceipts(b.id)).toEqual([]);
		const held = await env.DB.prepare(
			"SELECT reason, payment_id FROM unattributed_funds WHERE payment_id IN (?, ?)",
		)
			.bind(a.id, b.id)
			.all<{ reason: string }>();
		expect(held.results.map((r) => r.reason)).toEqual(["several_payments"]);
	});

	it("rejects a transaction that failed on chain", async () => {
		const { p } = await merchantWithPayment("SOL");
		const payer = await fundedPayer();
		const { getTransferSolInstruction } = await import("@solana-program/system");
		const { AccountRole, address } = await import("@solana/kit");
		const transfer = getTransferSolInstruction({
			source: payer,
			destination: address(p.solana.recipient),
			amount: 1_000_000_000_000n,
		});
		await sendInstructions(
			payer,
			[
				{
					...transfer,
					accounts: [
						...transfer.accounts,
						{ address: address(p.solana.reference), role: AccountRole.READONLY },
					],
				},
			],
			{ skipPreflight: true },
		);
		await confirmAndPoll(p.id);
		// A failed transaction moved no funds: there is nothing to book.
		expect(await paymentReceipts(p.id)).toEqual([]);
		expect((await status(p.id)).status).toBe("requires_payment");
	});
});

describe("late payments and RPC trouble", () => {
	it("records a payment after expiry as a late payment, held for refund", async () => {
		const { m, p } = await merchantWithPayment("USDC");
		await fireDueJobs(p.id, ["expire"]);
		expect((await status(p.id)).status).toBe("expired");
		await payFromUrl(p);
		await confirmAndPoll(p.id);
		expect((await status(p.id)).status).toBe("expired");
		expect(await eventTypes(p.id)).toEqual([
			"payment.created",
			"payment.expired",
			"payment.late_payment_received",
		]);
		expect((await paymentReceipts(p.id))[0]).toMatchObject({
			disposition: "late",
			reason: "payment_expired",
		});
		expect((await merchantBalance(env.DB, m.merchant.id, false)).available).toEqual([]);
	});

	it("backs off on RPC errors and finds the payment once the RPC recovers", async () => {
		const { p } = await merchantWithPayment("SOL");
		await payFromUrl(p);
		await advanceSlots(1);
		await setFaults({ errorRate: 1 });
		try {
			await expect(detect(p.id)).rejects.toThrow(/HTTP 429|503|failed/);
			expect((await status(p.id)).status).toBe("requires_payment");
		} finally {
			await setFaults({ errorRate: 0 });
		}
		await detect(p.id);
		expect((await status(p.id)).status).toBe("succeeded");
	});

	it("treats an RPC that times out like one that fails, and recovers", async () => {
		const { p } = await merchantWithPayment("SOL");
		await payFromUrl(p);
		await advanceSlots(1);
		await setFaults({ latencyMs: 2_000 });
		try {
			await expect(detect(p.id)).rejects.toThrow(/timed out/);
			expect((await status(p.id)).status).toBe("requires_payment");
		} finally {
			await setFaults({});
		}
		await detect(p.id);
		expect((await status(p.id)).status).toBe("succeeded");
	});

	it("waits for finalized above the merchant's threshold", async () => {
		const { p } = await merchantWithPayment("USDC", { amount: 50_000 });
		await payFromUrl(p);
		await confirmAndPoll(p.id);
		expect((await status(p.id)).status).toBe("processing");
		await confirmAndPoll(p.id, 4);
		expect((await status(p.id)).status).toBe("succeeded");
		expect(await eventTypes(p.id)).toEqual([
			"payment.created",
			"payment.processing",
			"payment.succeeded",
		]);
	});
});

describe("customers by paying wallet", () => {
	it("links a paid payment to the merchant's customer who holds the paying wallet", async () => {
		const m = await createMerchant();
		const payer = await fundedPayer([{ mint: USDC_MINT, amount: 100_000_000n }]);
		const created = await call("POST", "/v1/customers", {
			key: m.sk,
			body: { name: "Ada", wallets: [payer.address] },
		});
		const customer = await json<{ id: string }>(created);
		const p = await solanaPayment(m.sk, "USDC", { amount: 700 });
		const built = await call("POST", `/solana-pay/${p.id}`, { body: { account: payer.address } });
		await signAndSendBase64(payer, (await json<{ transaction: string }>(built)).transaction);
		await advanceSlots(2);
		await detect(p.id);
		const paid = await json<SolanaPayment & { customer: string | null }>(
			await call("GET", `/v1/payments/${p.id}`, { key: m.sk }),
		);
		expect(paid).toMatchObject({ status: "succeeded", customer: customer.id });
		const listed = await json<{ data: { id: string }[] }>(
			await call("GET", `/v1/payments?customer=${customer.id}`, { key: m.sk }),
		);
		expect(listed.data.map((d) => d.id)).toEqual([p.id]);
		// Another merchant's customer with the same wallet is not this payment's.
		const other = await createMerchant();
		await call("POST", "/v1/customers", { key: other.sk, body: { wallets: [payer.address] } });
		const q = await solanaPayment(other.sk, "USDC", { amount: 300 });
		expect(
			(await json<{ customer: null }>(await call("GET", `/v1/payments/${q.id}`, { key: other.sk })))
				.customer,
		).toBeNull();
	});
});
