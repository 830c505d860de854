import {
	createExecutionContext,
	createMessageBatch,
	createScheduledController,
	getQueueResult,
	waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { merchantBalance, postTransfer } from "../../src/db/ledger";
import { accounts } from "../../src/domain/ledger";
import type { SolanaPaymentDetails } from "../../src/domain/payment";
import type { RefundJson } from "../../src/domain/refund";
import worker from "../../src/index";
import { buildDailyReports } from "../../src/services/report-daily";
import { buildReport, type Report } from "../../src/services/reports";
import {
	ADMIN_TOKEN,
	call,
	createMerchant,
	createPayment,
	json,
	type ListJson,
	type PaymentJson,
} from "./helpers/api";
import { expectLedgerBalanced } from "./helpers/ledger";
import { recordConversionMessages } from "./helpers/objects";
import { payTransferRequestInFull } from "./helpers/solana";
import { deliverAll, stripe } from "./helpers/stripe";

type Merchant = Awaited<ReturnType<typeof createMerchant>>;
type SolanaPayment = PaymentJson & { solana: SolanaPaymentDetails };

const DAY_MS = 86_400_000;
const today = () => new Date().toISOString().slice(0, 10);
const iso = (s: number) => new Date(s * 1000).toISOString().replace(".000Z", "Z");
const dayAfter = (date: string, n = 1) =>
	new Date(Date.parse(`${date}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);
let seq = 0;

/** Runs one queue's consumer on messages, as the queue would deliver them. */
async function consume(queue: string, bodies: unknown[], withEnv: Cloudflare.Env = env) {
	const batch = createMessageBatch(
		queue,
		bodies.map((body) => ({ id: `settle-${++seq}`, timestamp: new Date(), attempts: 1, body })),
	);
	const ctx = createExecutionContext();
	await worker.queue(batch, withEnv, ctx);
	return getQueueResult(batch, ctx);
}

/** A queue stand-in that records what is sent, so no background delivery races a test. */
function recorder() {
	const sent: unknown[] = [];
	const queue = {
		send: async (body: unknown) => void sent.push(body),
		sendBatch: async (messages: { body: unknown }[]) => {
			for (const m of messages) sent.push(m.body);
		},
	} as unknown as Queue<unknown>;
	return { sent, queue };
}

async function paidCard(m: Merchant, amount: number) {
	const p = await createPayment(m.sk, { amount, payment_method_types: ["card"] });
	const opened = await call("POST", `/checkout/${p.id}/card`, { body: {} });
	const { client_secret } = await json<{ client_secret: string }>(opened);
	const intentId = client_secret.slice(0, client_secret.indexOf("_secret_"));
	await stripe.paymentIntents.confirm(intentId, { payment_method: "pm_card_visa" });
	await deliverAll(intentId);
	return p;
}

async function refund(m: Merchant, payment: string, amount: number) {
	const res = await call("POST", "/v1/refunds", { key: m.sk, body: { payment, amount } });
	const created = await json<RefundJson>(res);
	await consume("refunds", [{ kind: "refund", refund_id: created.id }]);
}

/** A $25.00 SOL payment paid in full; its conversion message is kept for the test to deliver. */
async function paidSol(m: Merchant) {
	const p = (await createPayment(m.sk, {
		payment_method_types: ["solana"],
		solana: { token: "SOL" },
	})) as SolanaPayment;
	const messages = await recordConversionMessages(p.id);
	await payTransferRequestInFull(p);
	return { p, messages };
}

async function settlementFile(m: Merchant, id: string, format: "csv" | "json") {
	const res = await call("GET", `/v1/reports/${id}/download?format=${format}`, { key: m.sk });
	expect(res.status).toBe(200);
	return format === "csv" ? res.text() : res.json();
}

/** The merchant's balance per currency (available + pending), as the ledger has it now. */
async function ledgerBalances(m: Merchant): Promise<Record<string, string>> {
	const balance = await merchantBalance(env.DB, m.merchant.id, false);
	const out: Record<string, bigint> = {};
	for (const row of [...balance.available, ...balance.pending])
		out[row.currency] = (out[row.currency] ?? 0n) + row.amount;
	return Object.fromEntries(Object.entries(out).map(([c, v]) => [c, v.toString()]));
}

describe("settlement report", () => {
	it("reconciles with the ledger exactly after card payments, a refund and a conversion", async () => {
		const m = await createMerchant();
		const update = await call("POST", `/admin/v1/merchants/${m.merchant.id}`, {
			key: ADMIN_TOKEN,
			body: { settings: { settlement_currency: "usd" } },
		});
		expect(update.status).toBe(200);
		const card = await paidCard(m, 10_000);
		await refund(m, card.id, 4_000);
		const { p: sol, messages } = await paidSol(m);
		expect(messages).toEqual([{ kind: "payment_succeeded", payment_id: sol.id }]);
		await consume("conversions", messages);

		const res = await call("POST", "/v1/reports", {
			key: m.sk,
			body: { type: "settlement", from: today(), to: today() },
		});
		const report = await json<Report>(res);
		expect(report).toMatchObject({ status: "ready", rows: 2 });

		const paid = await json<SolanaPayment>(
			await call("GET", `/v1/payments/${sol.id}`, { key: m.sk }),
		);
		const lamports = BigInt(paid.solana.amount_received);
		const fee = BigInt(paid.solana.quote.fee);
		// The conversion: 166,666,667 lamports sold for $25.00, 7 cents of spread kept.
		const file = (await settlementFile(m, report.id, "json")) as {
			reconciled: unknown;
			opening_source: unknown;
			data: Record<string, unknown>[];
		};
		expect(file.reconciled).toBe(true);
		expect(file.opening_source).toBe("ledger");
		expect(file.data).toEqual([
			{
				currency: "sol",
				opening_balance: "0",
				opening_balance_decimal: "0.000000000",
				payments: lamports.toString(),
				payments_decimal: expect.any(String),
				refunds: "0",
				refunds_decimal: "0.000000000",
				fees: (-fee).toString(),
				fees_decimal: expect.any(String),
				conversions_in: "0",
				conversions_in_decimal: "0.000000000",
				conversions_out: (-(lamports - fee)).toString(),
				conversions_out_decimal: expect.any(String),
				adjustments: "0",
				adjustments_decimal: "0.000000000",
				payouts: "0",
				payouts_decimal: "0.000000000",
				payouts_returned: "0",
				payouts_returned_decimal: "0.000000000",
				closing_balance: "0",
				closing_balance_decimal: "0.000000000",
				ledger_balance: "0",
				ledger_balance_decimal: "0.000000000",
				difference: "0",
				difference_decimal: "0.000000000",
				payouts_paid: "0",
				payouts_paid_decimal: "0.000000000",
				payouts_in_transit: "0",
				payouts_in_transit_decimal: "0.000000000",
				reconciled: true,
			},
			{
				currency: "usd",
				opening_balance: "0",
				opening_balance_decimal: "0.00",
				payments: "10000",
				payments_decimal: "100.00",
				refunds: "-4000",
				refunds_decimal: "-40.00",
				// Stripe's 320 on the card payment, the gateway's 7 of spread on the conversion.
				fees: "-327",
				fees_decimal: "-3.27",
				conversions_in: "2500",
				conversions_in_decimal: "25.00",
				conversions_out: "0",
				conversions_out_decimal: "0.00",
				adjustments: "0",
				adjustments_decimal: "0.00",
				payouts: "0",
				payouts_decimal: "0.00",
				payouts_returned: "0",
				payouts_returned_decimal: "0.00",
				closing_balance: "8173",
				closing_balance_decimal: "81.73",
				ledger_balance: "8173",
				ledger_balance_decimal: "81.73",
				difference: "0",
				difference_decimal: "0.00",
				payouts_paid: "0",
				payouts_paid_decimal: "0.00",
				payouts_in_transit: "0",
				payouts_in_transit_decimal: "0.00",
				reconciled: true,
			},
		]);
		// The closing balances are the ledger's: what GET /v1/balances shows, summed.
		expect(await ledgerBalances(m)).toEqual({ sol: "0", usd: "8173" });
		await expectLedgerBalanced();

		const csv = (await settlementFile(m, report.id, "csv")) as string;
		expect(csv.split("\r\n")[0]).toBe(
			"currency,opening_balance,opening_balance_decimal,payments,payments_decimal,refunds,refunds_decimal,fees,fees_decimal,conversions_in,conversions_in_decimal,conversions_out,conversions_out_decimal,adjustments,adjustments_decimal,payouts,payouts_decimal,payouts_returned,payouts_returned_decimal,closing_balance,closing_balance_decimal,ledger_balance,ledger_balance_decimal,difference,difference_decimal,payouts_paid,payouts_paid_decimal,payouts_in_transit,payouts_in_transit_decimal,reconciled",
		);
		expect(csv.split("\r\n")[2]).toBe(
			"usd,0,0.00,10000,100.00,-4000,-40.00,-327,-3.27,2500,25.00,0,0.00,0,0.00,0,0.00,0,0.00,8173,81.73,8173,81.73,0,0.00,0,0.00,0,0.00,true",
		);
		expect(csv.endsWith("\r\n")).toBe(true);

		// The same day's transactions: the SOL payment's token columns and its conversion.
		const tx = await json<Report>(
			await call("POST", "/v1/reports", {
				key: m.sk,
				body: { type: "transactions", from: today(), to: today() },
			}),
		);
		const conversion = (
			await json<ListJson<{ id: string; created: number }>>(
				await call("GET", `/v1/conversions?payment=${sol.id}`, { key: m.sk }),
			)
		).data[0] as { id: string; created: number };
		const lines = ((await settlementFile(m, tx.id, "csv")) as string).split("\r\n");
		const dec9 = (v: bigint) => `${v / 10n ** 9n}.${(v % 10n ** 9n).toString().padStart(9, "0")}`;
		expect(lines).toContain(
			`payment,${sol.id},${iso(paid.created)},succeeded,solana,2500,25.00,usd,0,0.00,2500,25.00,SOL,${lamports},${dec9(lamports)},${fee},${dec9(fee)},${paid.solana.signature},${sol.id},,,`,
		);
		const price = lamports - fee;
		expect(lines).toContain(
			`conversion,${conversion.id},${iso(conversion.created)},completed,conversion,2500,25.00,usd,7,0.07,2493,24.93,SOL,-${price},-${dec9(price)},,,,${sol.id},,,`,
		);
		expect(tx.rows).toBe(4);
	});
});

describe("daily reports", () => {
	it("are scheduled per active merchant by the 00:10 cron, built by the queue once however often it runs", async () => {
		const active = await createMerchant();
		const idle = await createMerchant();
		const card = await paidCard(active, 5_000);
		// A report's own report.ready event is no activity: the idle merchant gets no daily reports.
		const asked = await call("POST", "/v1/reports", {
			key: idle.sk,
			body: { type: "settlement", from: today(), to: today() },
		});
		expect(asked.status).toBe(200);
		const q = recorder();
		const cronEnv = { ...env, REPORTS_QUEUE: q.queue };
		const fireAt = Date.parse(`${dayAfter(today())}T00:10:00Z`);
		for (let run = 0; run < 2; run++) {
			const ctx = createExecutionContext();
			await worker.scheduled(
				createScheduledController({ cron: "10 0 * * *", scheduledTime: fireAt }),
				cronEnv,
				ctx,
			);
			await waitOnExecutionContext(ctx);
		}
		const mine = { kind: "daily", merchant_id: active.merchant.id, livemode: false, date: today() };
		expect(q.sent.filter((s) => JSON.stringify(s) === JSON.stringify(mine))).toHaveLength(2);
		expect(q.sent).not.toContainEqual(expect.objectContaining({ merchant_id: idle.merchant.id }));

		// Both deliveries (the cron ran twice) build the same two reports, once.
		for (const body of [mine, mine]) {
			const result = await consume("reports", [body]);
			expect(result.explicitAcks).toHaveLength(1);
		}
		const list = await json<ListJson<Report>>(await call("GET", "/v1/reports", { key: active.sk }));
		expect(list.data.map((r) => [r.type, r.from, r.to, r.status])).toEqual([
			["transactions", today(), today(), "ready"],
			["settlement", today(), today(), "ready"],
		]);
		const transactions = list.data[0] as Report;
		const csv = (await settlementFile(active, transactions.id, "csv")) as string;
		expect(csv.split("\r\n").filter((l) => l.startsWith("payment,"))).toEqual([
			expect.stringContaining(`payment,${card.id},`),
		]);
		const { results } = await env.DB.prepare(
			"SELECT object_id FROM events WHERE type = 'report.ready' AND merchant_id = ? ORDER BY object_id",
		)
			.bind(active.merchant.id)
			.all<{ object_id: string }>();
		expect(results.map((r) => r.object_id)).toEqual(list.data.map((r) => r.id).sort());
		const stored = await env.REPORTS_BUCKET?.list({
			prefix: `reports/${active.merchant.id}/test/`,
		});
		expect(stored?.objects).toHaveLength(4);
	});

	it("opens a settlement from the previous day's closing and shows a late, back-dated posting as a difference", async () => {
		const m = await createMerchant();
		await paidCard(m, 3_000);
		const { usd: balance } = await ledgerBalances(m);
		const plus100 = (BigInt(balance as string) + 100n).toString();
		const tomorrow = dayAfter(today());
		const nextMidnight = Math.floor(Date.parse(`${tomorrow}T00:00:00Z`) / 1000);
		// A statement of the day asked for before the day ended is not one to open from.
		const early = await call("POST", "/v1/reports", {
			key: m.sk,
			body: { type: "settlement", from: today(), to: today() },
		});
		expect(early.status).toBe(200);
		// The day's reports, built as the queue does after the day is over.
		await buildDailyReports(
			env,
			{ merchantId: m.merchant.id, livemode: false, date: today() },
			nextMidnight + 600,
		);
		const [daily] = (
			await json<ListJson<Report>>(await call("GET", "/v1/reports?limit=5", { key: m.sk }))
		).data.filter((r) => r.type === "settlement");

		const spec = { merchantId: m.merchant.id, livemode: false, type: "settlement" as const };
		const next = await buildReport(
			env,
			{ ...spec, from: tomorrow, to: tomorrow },
			nextMidnight + 600,
		);
		const nextFile = JSON.parse(
			(await (
				await env.REPORTS_BUCKET?.get(`reports/${m.merchant.id}/test/${next.id}.json`)
			)?.text()) ?? "{}",
		);
		expect(nextFile.opening_source).toEqual({ report: daily?.id });
		expect(nextFile.reconciled).toBe(true);
		expect(nextFile.data).toEqual([
			expect.objectContaining({
				currency: "usd",
				opening_balance: balance,
				payments: "0",
				closing_balance: balance,
				ledger_balance: balance,
			}),
		]);

		// A correction posted now but dated in the closed day: the next statement shows it.
		await postTransfer(env.DB, {
			id: `late-adjustment-${m.merchant.id}`,
			kind: "adjustment",
			reference: m.merchant.id,
			livemode: false,
			created: nextMidnight - 60,
			postings: [
				{
					account: accounts.merchantAvailable(m.merchant.id, false, "usd"),
					currency: "usd",
					amount: 100n,
				},
				{ account: accounts.settlement(false, "stripe", "usd"), currency: "usd", amount: -100n },
			],
		});
		const after = await buildReport(
			env,
			{ ...spec, from: tomorrow, to: tomorrow },
			nextMidnight + 700,
		);
		const afterFile = JSON.parse(
			(await (
				await env.REPORTS_BUCKET?.get(`reports/${m.merchant.id}/test/${after.id}.json`)
			)?.text()) ?? "{}",
		);
		expect(afterFile.reconciled).toEqual({ difference: { usd: "-100" } });
		expect(afterFile.data).toEqual([
			expect.objectContaining({
				opening_balance: balance,
				closing_balance: balance,
				ledger_balance: plus100,
				difference: "-100",
				reconciled: false,
			}),
		]);
		await expectLedgerBalanced();
	});
});
