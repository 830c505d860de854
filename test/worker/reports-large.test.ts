import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { postTransfer } from "../../src/db/ledger";
import { CURRENCIES } from "../../src/domain/currencies";
import { accounts } from "../../src/domain/ledger";
import { buildReport } from "../../src/services/reports";
import { createMerchant, createPayment } from "./helpers/api";

const today = () => new Date().toISOString().slice(0, 10);
const ROWS = 24_000;

describe("a report larger than one R2 part", () => {
	it("streams past 5 MiB in fixed-size parts: every row once, in order, sizes recorded exactly", async () => {
		const m = await createMerchant();
		const p = await createPayment(m.sk, { amount: 1_999, description: "x".repeat(120) });
		// Copies of the projected payment under ids of the same millisecond, numbered in order.
		const prefix = p.id.slice(0, 14);
		await env.DB.prepare(
			`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
			 INSERT INTO payments (id, merchant_id, livemode, status, amount, currency, amount_received,
			   amount_refunded, version, expires_at, created, updated, customer_id, data)
			 SELECT ?2 || printf('%020d', i), merchant_id, livemode, status, amount, currency,
			   amount_received, amount_refunded, version, expires_at, created, updated, customer_id,
			   replace(data, id, ?2 || printf('%020d', i))
			 FROM payments, n WHERE payments.id = ?3`,
		)
			.bind(ROWS, prefix, p.id)
			.run();

		const report = await buildReport(
			env,
			{
				merchantId: m.merchant.id,
				livemode: false,
				type: "transactions",
				from: today(),
				to: today(),
			},
			Math.floor(Date.now() / 1000),
		);
		expect(report.rows).toBe(ROWS + 1);
		const csv = await env.REPORTS_BUCKET?.get(`reports/${m.merchant.id}/test/${report.id}.csv`);
		const json = await env.REPORTS_BUCKET?.get(`reports/${m.merchant.id}/test/${report.id}.json`);
		expect(csv?.size).toBeGreaterThan(5 * 1024 * 1024);
		expect((csv?.size ?? 0) + (json?.size ?? 0)).toBe(report.size_bytes);
		expect(csv?.httpMetadata?.contentType).toBe("text/csv; charset=utf-8");

		const lines = ((await csv?.text()) ?? "").split("\r\n");
		expect(lines).toHaveLength(ROWS + 3); // header, rows, and the empty string after the last CRLF
		const ids = lines.slice(1, -1).map((l) => l.split(",")[1]);
		const expected = [
			...Array.from({ length: ROWS }, (_, i) => `${prefix}${String(i + 1).padStart(20, "0")}`),
			p.id,
		].sort();
		expect(ids).toEqual(expected);
		const file = JSON.parse((await json?.text()) ?? "{}") as {
			data: { id: string }[];
			rows: number;
		};
		expect(file.rows).toBe(ROWS + 1);
		expect(file.data.map((r) => r.id)).toEqual(expected);
	});
});

describe("a settlement of a merchant with many accounts", () => {
	it("reads the merchant's account range past 90 accounts (D1 binds at most 100 parameters): 46 currencies, 92 accounts, reconciled", async () => {
		const m = await createMerchant();
		const currencies = Object.keys(CURRENCIES).slice(0, 46);
		const now = Math.floor(Date.now() / 1000);
		for (const currency of currencies) {
			await postTransfer(env.DB, {
				id: `many-${m.merchant.id}-${currency}`,
				kind: "adjustment",
				reference: m.merchant.id,
				livemode: false,
				created: now,
				postings: [
					{
						account: accounts.merchantAvailable(m.merchant.id, false, currency),
						currency,
						amount: 100n,
					},
					{
						account: accounts.merchantPending(m.merchant.id, false, currency),
						currency,
						amount: 1n,
					},
					{ account: accounts.settlement(false, "stripe", currency), currency, amount: -101n },
				],
			});
		}
		const report = await buildReport(
			env,
			{
				merchantId: m.merchant.id,
				livemode: false,
				type: "settlement",
				from: today(),
				to: today(),
			},
			now,
		);
		const file = JSON.parse(
			(await (
				await env.REPORTS_BUCKET?.get(`reports/${m.merchant.id}/test/${report.id}.json`)
			)?.text()) ?? "{}",
		) as { reconciled: unknown; data: Record<string, unknown>[] };
		expect(file.reconciled).toBe(true);
		expect(file.data.map((l) => l.currency)).toEqual([...currencies].sort());
		for (const line of file.data)
			expect(line).toMatchObject({
				opening_balance: "0",
				adjustments: "101",
				closing_balance: "101",
				ledger_balance: "101",
			});
	});
});
