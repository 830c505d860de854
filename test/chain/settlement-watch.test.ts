import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { AccountRole, address, generateKeyPairSigner, type KeyPairSigner } from "@solana/kit";
import { getCreateAccountInstruction } from "@solana-program/system";
import {
	findAssociatedTokenPda,
	getInitializeAccount3Instruction,
	getTransferCheckedInstruction,
} from "@solana-program/token";
import { beforeAll, describe, expect, it } from "vitest";
import type { SolanaPaymentDetails } from "../../src/domain/payment";
import type { RefundJson } from "../../src/domain/refund";
import { parseTransferRequest } from "../../src/domain/solana-pay";
import { unattributedRefundId } from "../../src/services/unattributed-funds";
import {
	admin,
	call,
	cancelPayment,
	createMerchant,
	createPayment,
	expectApiError,
	json,
	type PaymentJson,
} from "../worker/helpers/api";
import { signedIn } from "../worker/helpers/dashboard";
import { eventTypes, fireDueJobs, paymentObject } from "../worker/helpers/objects";
import {
	advanceSlots,
	detect,
	fundedPayer,
	rpc,
	scanAll,
	sendInstructions,
	sendTransfer,
	setFaults,
	signAndSendBase64,
	TOKEN_PROGRAM,
	transferInstructions,
	USDC_MINT,
} from "../worker/helpers/solana";
import { consumeRefunds, expectBooksMatchChain, fireSender, getJson } from "./helpers";

type SolanaPayment = PaymentJson & { solana: SolanaPaymentDetails };
const USDC = { address: USDC_MINT, decimals: 6, program: TOKEN_PROGRAM };

async function solanaPayment(
	key: string,
	token: "SOL" | "USDC",
	body: Record<string, unknown> = {},
): Promise<SolanaPayment> {
	return (await createPayment(key, {
		payment_method_types: ["solana"],
		solana: { token },
		...body,
	})) as SolanaPayment;
}

async function getPayment(key: string, id: string): Promise<SolanaPayment> {
	return getJson<SolanaPayment>(key, `/v1/payments/${id}`);
}

/** Pays `amount` base units of the payment's token from `payer`, as its transfer URL asks. */
async function pay(
	p: SolanaPayment,
	amount: bigint,
	options: { payer?: KeyPairSigner; url?: string } = {},
): Promise<{ payer: KeyPairSigner; signature: string }> {
	const request = parseTransferRequest(options.url ?? p.solana.solana_pay_url);
	const mint = request.splToken ? USDC : undefined;
	const payer =
		options.payer ?? (await fundedPayer(mint ? [{ mint: USDC_MINT, amount: amount * 2n }] : []));
	const signature = await sendTransfer({
		payer,
		recipient: request.recipient,
		amount,
		...(mint ? { mint } : {}),
		references: request.references,
		memo: request.memo ? [request.memo] : [],
	});
	await advanceSlots(1);
	return { payer, signature };
}

async function refund(key: string, body: Record<string, unknown>): Promise<RefundJson> {
	const res = await call("POST", "/v1/refunds", { key, body });
	expect(res.status, await res.clone().text()).toBe(200);
	return json<RefundJson>(res);
}

/** Sends a crypto refund through the queue and its sender until it lands. */
async function settleRefund(key: string, r: RefundJson): Promise<RefundJson> {
	await consumeRefunds([r.id]);
	for (let i = 0; i < 5; i++) {
		const now = await getJson<RefundJson>(key, `/v1/refunds/${r.id}`);
		if (now.status !== "pending") return now;
		await advanceSlots(5);
		await fireSender(r.id);
	}
	return getJson<RefundJson>(key, `/v1/refunds/${r.id}`);
}

// Watching starts when the gateway does (the minute cron's first scan, or the first quote): what
// the accounts hold before is the gateway's own float.
beforeAll(scanAll);

describe("watching the settlement accounts", () => {
	it("finds a payment behind several pages of spam on its reference and on the wallet", async () => {
		const m = await createMerchant();
		const p = await solanaPayment(m.sk, "USDC");
		await pay(p, BigInt(p.solana.amount));
		// A stranger then floods the payment's public reference: one-lamport transfers, some to the
		// settlement wallet itself, some to their own address. Pages here are 20 signatures long.
		const stranger = await fundedPayer();
		const other = await fundedPayer();
		for (let i = 0; i < 45; i++) {
			await sendTransfer({
				payer: stranger,
				recipient: i % 3 === 0 ? other.address : p.solana.recipient,
				amount: 1n + BigInt(i),
				references: [p.solana.reference],
			});
		}
		await advanceSlots(1);
		await detect(p.id);
		await scanAll();
		const paid = await getPayment(m.sk, p.id);
		expect(paid.status).toBe("succeeded");
		expect(paid.solana.amount_received).toBe(p.solana.amount);
		// SOL sent with a USDC payment's reference is not the payment's: it is held for its sender.
		const { results } = await env.DB.prepare(
			"SELECT reason, sender, payment_id FROM unattributed_funds WHERE payment_id = ?",
		)
			.bind(p.id)
			.all<{ reason: string; sender: string }>();
		expect(results).toHaveLength(30);
		expect(new Set(results.map((r) => `${r.reason} ${r.sender}`))).toEqual(
			new Set([`wrong_mint ${stranger.address}`]),
		);
		// The merchant sees them on the payment's page, as not theirs.
		const browser = await signedIn(m.sk);
		const html = await (await browser.get(`/dashboard/payments/${p.id}`)).text();
		expect(html).toContain("Funds held for their sender");
		expect(html.split(stranger.address).length - 1).toBe(30);
		await expectBooksMatchChain();
	});

	it("books funds that carry no reference at all as unattributed, for the operator", async () => {
		const sender = await fundedPayer();
		await sendTransfer({ payer: sender, recipient: env.SOLANA_SETTLEMENT_WALLET, amount: 12_345n });
		await advanceSlots(1);
		await scanAll();
		const res = await admin("GET", "/admin/v1/unattributed_funds");
		expect(res.status, await res.clone().text()).toBe(200);
		const body = await json<{
			data: { id: string; amount: string; sender: string; reason: string; status: string }[];
		}>(res);
		const held = body.data.find((d) => d.sender === sender.address) as { id: string };
		expect(held).toMatchObject({ amount: "12345", reason: "no_reference", status: "held" });
		// The operator pages through them.
		const page = await json<{ data: { id: string }[]; has_more: boolean }>(
			await admin("GET", "/admin/v1/unattributed_funds?limit=1"),
		);
		expect(page.data).toHaveLength(1);
		const next = await json<{ data: { id: string }[] }>(
			await admin(
				"GET",
				`/admin/v1/unattributed_funds?limit=100&starting_after=${encodeURIComponent(page.data[0]?.id as string)}`,
			),
		);
		expect(next.data.map((d) => d.id)).not.toContain(page.data[0]?.id);
		expect(next.data.length).toBe(body.data.length - 1);
		await expectBooksMatchChain();
		// The operator sends it back; a second request while it is on its way is refused.
		const path = `/admin/v1/unattributed_funds/${encodeURIComponent(held.id)}/refund`;
		const first = await admin("POST", path);
		expect(first.status, await first.clone().text()).toBe(200);
		await expectApiError(await admin("POST", path), "payment_unexpected_state");
		const before = await lamportsOf(sender.address);
		await sendBack(held.id, { alreadyAsked: true });
		const after = await json<{ data: { id: string; status: string }[] }>(
			await admin("GET", "/admin/v1/unattributed_funds"),
		);
		expect(after.data.find((d) => d.id === held.id)?.status).toBe("refunded");
		expect((await lamportsOf(sender.address)) - before).toBe(12_345n);
		await expectBooksMatchChain();
	});
});

describe("the checkout's signature hint", () => {
	it("books a wallet payment as soon as its reported signature is confirmed, and ignores made-up ones", async () => {
		const m = await createMerchant();
		const p = await solanaPayment(m.sk, "SOL");
		const made = "5".repeat(87);
		const bogus = await call("POST", `/checkout/${p.id}/signature`, { body: { signature: made } });
		expect(bogus.status).toBe(200);
		expect((await json<{ status: string }>(bogus)).status).toBe("requires_payment");
		await expectApiError(
			await call("POST", `/checkout/${p.id}/signature`, { body: { signature: "not base58!" } }),
			"parameter_invalid",
			"signature",
		);
		const payer = await fundedPayer();
		const res = await call("POST", `/solana-pay/${p.id}`, { body: { account: payer.address } });
		const { transaction } = await json<{ transaction: string }>(res);
		const signature = await signAndSendBase64(payer, transaction);
		await advanceSlots(1);
		// No watcher scan, no alarm: the hint alone finds it.
		const hinted = await call("POST", `/checkout/${p.id}/signature`, { body: { signature } });
		expect((await json<{ status: string }>(hinted)).status).toBe("succeeded");
		await expectBooksMatchChain();
	});
});

describe("quotes", () => {
	it("counts funds sent to a quote that a re-quote replaced", async () => {
		const m = await createMerchant();
		const p = await solanaPayment(m.sk, "SOL");
		const firstUrl = p.solana.solana_pay_url;
		const res = await call("POST", `/v1/payments/${p.id}/quote`, {
			key: m.sk,
			body: { token: "SOL" },
		});
		expect(res.status).toBe(200);
		const requoted = await json<SolanaPayment>(res);
		expect(requoted.solana.reference).not.toBe(p.solana.reference);
		await pay(p, BigInt(p.solana.amount), { url: firstUrl });
		await detect(p.id);
		expect((await getPayment(m.sk, p.id)).status).toBe("succeeded");
		await expectBooksMatchChain();
	});

	it("after a partial payment and the end of the hold, quotes only the rest, and the top-up completes it", async () => {
		const m = await createMerchant();
		const p = await solanaPayment(m.sk, "USDC");
		const half = BigInt(p.solana.amount) / 2n;
		await pay(p, half);
		await detect(p.id);
		expect((await getPayment(m.sk, p.id)).status).toBe("requires_payment");
		await endQuoteHold(p.id);
		// The checkout re-quotes when the hold ends: allowed, and priced for the remainder only.
		const res = await call("POST", `/v1/payments/${p.id}/quote`, {
			key: m.sk,
			body: { token: "USDC" },
		});
		expect(res.status, await res.clone().text()).toBe(200);
		const requoted = await json<SolanaPayment>(res);
		const owed = BigInt(requoted.solana.amount) - BigInt(requoted.solana.amount_received);
		expect(requoted.solana.amount_received).toBe(half.toString());
		await pay(requoted, owed);
		await detect(p.id);
		const paid = await getPayment(m.sk, p.id);
		expect(paid.status).toBe("succeeded");
		expect(paid.amount_received).toBe(paid.amount);
		await expectBooksMatchChain();
	});

	it("counts a top-up sent after the hold ended at a fresh quote instead of booking it late", async () => {
		const m = await createMerchant();
		const p = await solanaPayment(m.sk, "SOL");
		const { payer } = await pay(p, BigInt(p.solana.amount) / 2n);
		await detect(p.id);
		await endQuoteHold(p.id);
		// The wallet asks the transaction request again: it re-quotes and asks for the remainder.
		const res = await call("POST", `/solana-pay/${p.id}`, { body: { account: payer.address } });
		expect(res.status, await res.clone().text()).toBe(200);
		const { transaction } = await json<{ transaction: string }>(res);
		await signAndSendBase64(payer, transaction);
		await advanceSlots(1);
		await detect(p.id);
		const paid = await getPayment(m.sk, p.id);
		expect(paid.status).toBe("succeeded");
		expect(await eventTypes(p.id)).not.toContain("payment.late_payment_received");
		await expectBooksMatchChain();
	});
});

/** The operator sends unattributed funds back; their sender runs until the transfer is final. */
async function sendBack(id: string, options: { alreadyAsked?: boolean } = {}): Promise<void> {
	if (!options.alreadyAsked) {
		const res = await admin(
			"POST",
			`/admin/v1/unattributed_funds/${encodeURIComponent(id)}/refund`,
		);
		expect(res.status, await res.clone().text()).toBe(200);
	}
	for (let i = 0; i < 4; i++) {
		await advanceSlots(5);
		await fireSender(unattributedRefundId(id));
	}
}

async function usdcOf(wallet: string): Promise<bigint> {
	const { findAssociatedTokenPda } = await import("@solana-program/token");
	const { address } = await import("@solana/kit");
	const [ata] = await findAssociatedTokenPda({
		owner: address(wallet),
		mint: address(USDC_MINT),
		tokenProgram: address(TOKEN_PROGRAM),
	});
	const r = await rpc<{ value: { amount: string } }>("getTokenAccountBalance", [
		ata,
		{ commitment: "confirmed" },
	]);
	return BigInt(r.value.amount);
}

async function lamportsOf(wallet: string): Promise<bigint> {
	const r = await rpc<{ value: number }>("getBalance", [wallet, { commitment: "confirmed" }]);
	return BigInt(r.value);
}

/** Moves the payment's quote hold into the past, as time would. */
async function endQuoteHold(id: string): Promise<void> {
	await runInDurableObject(paymentObject(id), (_i, state) => {
		const row = state.storage.sql
			.exec<{ record: string }>("SELECT record FROM payment WHERE id = 1")
			.one();
		const record = JSON.parse(row.record);
		record.solana.quote.expires_at = Math.floor(Date.now() / 1000) - 1;
		state.storage.sql.exec("UPDATE payment SET record = ? WHERE id = 1", JSON.stringify(record));
	});
}

describe("funds that arrive when the payment no longer takes them", () => {
	it("holds funds sent after success, after cancel and after expiry, each refundable to its sender", async () => {
		const m = await createMerchant();
		const succeeded = await solanaPayment(m.sk, "USDC");
		await pay(succeeded, BigInt(succeeded.solana.amount));
		await detect(succeeded.id);
		expect((await getPayment(m.sk, succeeded.id)).status).toBe("succeeded");
		const again = await pay(succeeded, 1_000_000n);

		const canceled = await solanaPayment(m.sk, "USDC");
		await cancelPayment(m.sk, canceled.id);
		const afterCancel = await pay(canceled, BigInt(canceled.solana.amount));

		const expired = await solanaPayment(m.sk, "SOL");
		await fireDueJobs(expired.id, ["expire"]);
		const afterExpiry = await pay(expired, BigInt(expired.solana.amount));

		await scanAll();
		for (const [p, sent] of [
			[succeeded, again],
			[canceled, afterCancel],
			[expired, afterExpiry],
		] as const) {
			expect(await eventTypes(p.id)).toContain("payment.late_payment_received");
			const r = await refund(m.sk, { payment: p.id, funds: "held" });
			expect(r.solana?.recipient).toBe(sent.payer.address);
			expect((await settleRefund(m.sk, r)).status).toBe("succeeded");
		}
		await expectBooksMatchChain();
	});

	it("books a payment that a cancel races either as paid or as late and held, never lost", async () => {
		const m = await createMerchant();
		const ps = await Promise.all([0, 1, 2, 3].map(() => solanaPayment(m.sk, "SOL")));
		for (const p of ps) await pay(p, BigInt(p.solana.amount));
		await Promise.all(
			ps.flatMap((p) => [
				call("POST", `/v1/payments/${p.id}/cancel`, { key: m.sk, body: {} }),
				detect(p.id),
			]),
		);
		await scanAll();
		for (const p of ps) {
			const now = await getPayment(m.sk, p.id);
			const types = await eventTypes(p.id);
			if (now.status === "canceled") {
				expect(types).toContain("payment.late_payment_received");
				const r = await refund(m.sk, { payment: p.id, funds: "held" });
				expect((await settleRefund(m.sk, r)).status).toBe("succeeded");
			} else {
				expect(now.status).toBe("succeeded");
			}
		}
		await expectBooksMatchChain();
	});
});

describe("a failing network", () => {
	it("leaves nothing half-booked when RPC calls fail partway through scans", async () => {
		const m = await createMerchant();
		const ps = await Promise.all(Array.from({ length: 8 }, () => solanaPayment(m.sk, "USDC")));
		for (const p of ps) {
			const half = BigInt(p.solana.amount) / 2n;
			const { payer } = await pay(p, half);
			await pay(p, BigInt(p.solana.amount) - half, { payer });
		}
		await setFaults({ errorRate: 0.4 });
		try {
			for (let i = 0; i < 30; i++) {
				await Promise.all(ps.map((p) => detect(p.id).catch(() => undefined)));
			}
		} finally {
			await setFaults({ errorRate: 0 });
		}
		for (const p of ps) await detect(p.id);
		for (const p of ps) {
			const now = await getPayment(m.sk, p.id);
			expect(now.status).toBe("succeeded");
			expect(now.solana.amount_received).toBe(p.solana.amount);
		}
		await expectBooksMatchChain();
	});

	it("keeps checking a payment that waits for finalized through an outage, then settles it", async () => {
		const m = await createMerchant();
		const p = await solanaPayment(m.sk, "USDC", { amount: 50_000 });
		await pay(p, BigInt(p.solana.amount));
		await detect(p.id);
		expect((await getPayment(m.sk, p.id)).status).toBe("processing");
		await setFaults({ errorRate: 1 });
		try {
			for (let i = 0; i < 5; i++) await fireDueJobs(p.id, ["poll", "expire"]);
		} finally {
			await setFaults({ errorRate: 0 });
		}
		expect((await getPayment(m.sk, p.id)).status).toBe("processing");
		await advanceSlots(5);
		await fireDueJobs(p.id, ["poll"]);
		expect((await getPayment(m.sk, p.id)).status).toBe("succeeded");
		await expectBooksMatchChain();
	});
});

describe("refund destinations", () => {
	it("splits a full refund between the wallets that paid, by what each paid, and asks a partial one for a destination", async () => {
		const m = await createMerchant();
		const p = await solanaPayment(m.sk, "USDC");
		const total = BigInt(p.solana.amount);
		const nine = (total * 9n) / 10n;
		const first = await pay(p, nine);
		const second = await pay(p, total - nine);
		await detect(p.id);
		expect((await getPayment(m.sk, p.id)).status).toBe("succeeded");
		const partial = await call("POST", "/v1/refunds", {
			key: m.sk,
			body: { payment: p.id, amount: 1000 },
		});
		await expectApiError(partial, "parameter_missing", "destination");
		const before = [await usdcOf(first.payer.address), await usdcOf(second.payer.address)];
		const r = await refund(m.sk, { payment: p.id });
		expect(r.solana?.splits).toEqual([
			{ recipient: first.payer.address, amount: nine.toString() },
			{ recipient: second.payer.address, amount: (total - nine).toString() },
		]);
		expect((await settleRefund(m.sk, r)).status).toBe("succeeded");
		expect((await usdcOf(first.payer.address)) - (before[0] as bigint)).toBe(nine);
		expect((await usdcOf(second.payer.address)) - (before[1] as bigint)).toBe(total - nine);
		await expectBooksMatchChain();
	});
});

describe("held funds of several wallets", () => {
	it("go back to each wallet, its own share, in one refund", async () => {
		const m = await createMerchant();
		const p = await solanaPayment(m.sk, "USDC");
		await cancelPayment(m.sk, p.id);
		const a = await pay(p, 3_000_000n);
		const b = await pay(p, 1_000_000n);
		await detect(p.id);
		const before = [await usdcOf(a.payer.address), await usdcOf(b.payer.address)];
		const r = await refund(m.sk, { payment: p.id, funds: "held" });
		expect(r.solana?.splits).toEqual([
			{ recipient: a.payer.address, amount: "3000000" },
			{ recipient: b.payer.address, amount: "1000000" },
		]);
		expect((await settleRefund(m.sk, r)).status).toBe("succeeded");
		expect((await usdcOf(a.payer.address)) - (before[0] as bigint)).toBe(3_000_000n);
		expect((await usdcOf(b.payer.address)) - (before[1] as bigint)).toBe(1_000_000n);
		await expectBooksMatchChain();
	});
});

describe("one transaction, two payments", () => {
	it("pays a SOL payment and a USDC payment with one transaction", async () => {
		const m = await createMerchant();
		const a = await solanaPayment(m.sk, "SOL");
		const b = await solanaPayment(m.sk, "USDC");
		const payer = await fundedPayer([{ mint: USDC_MINT, amount: BigInt(b.solana.amount) }]);
		const instructions = [
			...(await transferInstructions({
				payer,
				recipient: a.solana.recipient,
				amount: BigInt(a.solana.amount),
				references: [a.solana.reference],
				memo: a.solana.memo,
			})),
			...(await transferInstructions({
				payer,
				recipient: b.solana.recipient,
				amount: BigInt(b.solana.amount),
				mint: USDC,
				references: [b.solana.reference],
				memo: b.solana.memo,
			})),
		];
		await sendInstructions(payer, instructions);
		await advanceSlots(1);
		await detect(a.id);
		await detect(b.id);
		expect((await getPayment(m.sk, a.id)).status).toBe("succeeded");
		expect((await getPayment(m.sk, b.id)).status).toBe("succeeded");
		await expectBooksMatchChain();
	});
});

describe("one transaction naming two payments in the same token", () => {
	it("pays neither merchant and holds the funds for their sender, who gets them back", async () => {
		const x = await createMerchant("X");
		const v = await createMerchant("V");
		const e = await solanaPayment(x.sk, "USDC", { amount: 100 });
		const f = await solanaPayment(v.sk, "USDC", { amount: 5000 });
		const total = BigInt(e.solana.amount) + BigInt(f.solana.amount);
		const payer = await fundedPayer([{ mint: USDC_MINT, amount: total }]);
		const instructions = [];
		for (const p of [e, f]) {
			instructions.push(
				...(await transferInstructions({
					payer,
					recipient: p.solana.recipient,
					amount: BigInt(p.solana.amount),
					mint: USDC,
					references: [p.solana.reference],
					memo: p.solana.memo,
				})),
			);
		}
		await sendInstructions(payer, instructions);
		await advanceSlots(1);
		await detect(e.id);
		await detect(f.id);
		// One balance change of the settlement account cannot be split by guesswork: had it gone to
		// the first memo's payment, X could have refunded V's money to any wallet.
		expect((await getPayment(x.sk, e.id)).status).toBe("requires_payment");
		expect((await getPayment(v.sk, f.id)).status).toBe("requires_payment");
		const list = await json<{
			data: { id: string; amount: string; sender: string; reason: string }[];
		}>(await admin("GET", "/admin/v1/unattributed_funds"));
		const held = list.data.find((d) => d.sender === payer.address);
		expect(held).toMatchObject({ amount: total.toString(), reason: "several_payments" });
		await expectBooksMatchChain();
	});
});

describe("refund destinations that are not wallets", () => {
	it("refuses the settlement wallet, its token account, a mint and a program as destination", async () => {
		const m = await createMerchant();
		const p = await solanaPayment(m.sk, "USDC");
		await pay(p, BigInt(p.solana.amount) + 1_000_000n);
		await detect(p.id);
		const { findAssociatedTokenPda } = await import("@solana-program/token");
		const { address } = await import("@solana/kit");
		const [ata] = await findAssociatedTokenPda({
			owner: address(env.SOLANA_SETTLEMENT_WALLET),
			mint: address(USDC_MINT),
			tokenProgram: address(TOKEN_PROGRAM),
		});
		for (const destination of [
			env.SOLANA_SETTLEMENT_WALLET,
			ata,
			USDC_MINT,
			TOKEN_PROGRAM,
			"11111111111111111111111111111111",
		]) {
			const res = await call("POST", "/v1/refunds", {
				key: m.sk,
				body: { payment: p.id, funds: "held", destination },
			});
			await expectApiError(res, "parameter_invalid", "destination");
		}
		await expectBooksMatchChain();
	});
});

/**
 * Opens a token account (not the associated one) for the settlement wallet and sends `amount`
 * USDC into it from `payer`, naming `reference` when given; returns the account.
 */
async function strayDeposit(
	payer: KeyPairSigner,
	amount: bigint,
	reference: string | null,
): Promise<string> {
	const mint = address(USDC_MINT);
	const [source] = await findAssociatedTokenPda({
		owner: payer.address,
		mint,
		tokenProgram: address(TOKEN_PROGRAM),
	});
	const stray = await generateKeyPairSigner();
	const rent = await rpc<number>("getMinimumBalanceForRentExemption", [165]);
	const transfer = getTransferCheckedInstruction({
		source,
		mint,
		destination: stray.address,
		authority: payer,
		amount,
		decimals: 6,
	});
	await sendInstructions(payer, [
		getCreateAccountInstruction({
			payer,
			newAccount: stray,
			lamports: BigInt(rent),
			space: 165n,
			programAddress: address(TOKEN_PROGRAM),
		}),
		getInitializeAccount3Instruction({
			account: stray.address,
			mint,
			owner: address(env.SOLANA_SETTLEMENT_WALLET),
		}),
		reference
			? {
					...transfer,
					accounts: [
						...transfer.accounts,
						{ address: address(reference), role: AccountRole.READONLY },
					],
				}
			: transfer,
	]);
	return stray.address;
}

describe("tokens sent to another token account of the settlement wallet", () => {
	it("finds them at expiry by the payment's references, holds them, and sends them back from where they are", async () => {
		const m = await createMerchant();
		const p = await solanaPayment(m.sk, "USDC");
		const amount = BigInt(p.solana.amount);
		const payer = await fundedPayer([{ mint: USDC_MINT, amount }]);
		// The payer's wallet opens a token account for the settlement wallet and pays into it.
		const strayAccount = await strayDeposit(payer, amount, p.solana.reference);
		await advanceSlots(1);
		await detect(p.id);
		expect((await getPayment(m.sk, p.id)).status).toBe("requires_payment");
		await fireDueJobs(p.id, ["expire", "final_look"]);
		const list = await json<{
			data: { id: string; amount: string; account: string; reason: string; payment: string }[];
		}>(await admin("GET", "/admin/v1/unattributed_funds"));
		const held = list.data.find((d) => d.account === strayAccount) as { id: string };
		expect(held).toMatchObject({
			amount: amount.toString(),
			reason: "non_associated_account",
			payment: p.id,
		});
		await expectBooksMatchChain();
		await sendBack(held.id);
		const after = await json<{ data: { id: string; status: string }[] }>(
			await admin("GET", "/admin/v1/unattributed_funds"),
		);
		expect(after.data.find((d) => d.id === held.id)?.status).toBe("refunded");
		await expectBooksMatchChain();
	});
});

describe("tokens in a token account of the settlement wallet that no payment's look reaches", () => {
	it("are booked at the next treasury check, linked to the payment they name, and never twice", async () => {
		const { checkTreasury } = await import("../../src/services/treasury");
		const m = await createMerchant();
		const p = await solanaPayment(m.sk, "USDC");
		const payer = await fundedPayer([{ mint: USDC_MINT, amount: 10_000_000n }]);
		const named = await strayDeposit(payer, 2_000_000n, p.solana.reference);
		const anonymous = await strayDeposit(payer, 1_000n, null);
		await advanceSlots(1);
		// The minute cron's treasury check finds both long before the payment's final look.
		await checkTreasury(env as never, Math.floor(Date.now() / 1000));
		const held = async () =>
			(
				await json<{
					data: { id: string; account: string; amount: string; payment: string | null }[];
				}>(await admin("GET", "/admin/v1/unattributed_funds?limit=100"))
			).data.filter((d) => d.account === named || d.account === anonymous);
		expect(await held()).toEqual(
			expect.arrayContaining([
				expect.objectContaining({ account: named, amount: "2000000", payment: p.id }),
				expect.objectContaining({ account: anonymous, amount: "1000", payment: null }),
			]),
		);
		await expectBooksMatchChain();
		// The payment's own look at expiry finds the same deposit: booked once.
		await fireDueJobs(p.id, ["expire", "final_look"]);
		await checkTreasury(env as never, Math.floor(Date.now() / 1000));
		expect(await held()).toHaveLength(2);
		await expectBooksMatchChain();
		// Both go back to their sender, from the accounts they reached (the chain is shared with
		// the suite's other files, whose books must still match it).
		const before = await usdcOf(payer.address);
		for (const deposit of await held()) await sendBack(deposit.id);
		expect(await usdcOf(payer.address)).toBe(before + 2_001_000n);
		await expectBooksMatchChain();
	});
});

describe("amounts the ledger cannot hold", () => {
	it("keeps an inflow of 2^63 base units out of the ledger and out of any payment, and sends it back whole", async () => {
		const m = await createMerchant();
		const p = await solanaPayment(m.sk, "USDC");
		const huge = 2n ** 63n + 5n;
		const payer = await fundedPayer([{ mint: USDC_MINT, amount: huge }]);
		await pay(p, huge, { payer });
		await detect(p.id);
		expect((await getPayment(m.sk, p.id)).status).toBe("requires_payment");
		const list = await json<{
			data: { id: string; amount: string; sender: string; reason: string }[];
		}>(await admin("GET", "/admin/v1/unattributed_funds"));
		const held = list.data.find((d) => d.sender === payer.address) as { id: string };
		expect(held).toMatchObject({ amount: huge.toString(), reason: "amount_too_large" });
		await sendBack(held.id);
		await expectBooksMatchChain();
	});
});

describe("exact amounts", () => {
	it("books a payment of more than 2^53 lamports to the lamport", async () => {
		const m = await createMerchant();
		const p = await solanaPayment(m.sk, "SOL");
		const payer = await generateKeyPairSigner();
		const huge = 2n ** 53n + 3n;
		await rpc("requestAirdrop", [payer.address, (huge + 10_000_000_000n).toString()]);
		await advanceSlots(1);
		await pay(p, huge, { payer });
		await detect(p.id);
		const paid = await getPayment(m.sk, p.id);
		expect(paid.status).toBe("succeeded");
		expect(paid.solana.amount_received).toBe(huge.toString());
		expect(paid.solana.amount_excess).toBe((huge - BigInt(p.solana.amount)).toString());
		await expectBooksMatchChain();
	});
});
