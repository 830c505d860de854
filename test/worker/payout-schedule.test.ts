import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CRON_DAILY, runScheduled } from "../../src/cron/scheduled";
import { accounts } from "../../src/domain/ledger";
import type { PayoutSchedulePageMessage } from "../../src/domain/queue-messages";
import type { PayoutItemResponse } from "../../src/routes/payout-transactions";
import { runPayoutSchedulePage } from "../../src/services/payout-schedule";
import { createPayout } from "../../src/services/payouts";
import { call, createMerchant, expectApiError, json, type ListJson } from "./helpers/api";
import { accountBalance, expectLedgerBalanced } from "./helpers/ledger";
import { captureLogs } from "./helpers/logs";
import {
	automaticPayouts,
	balanceTransfer,
	deliverPayouts,
	insertDestination,
	insertMerchants,
	MONDAY,
	MONDAY_RUN_MS,
	postTransfers,
	recordingEnv,
	runRows,
} from "./helpers/payout-schedule";
import { USDC_MINT } from "./helpers/solana";

interface PayoutSettings {
	payout_schedule: { interval: string; weekly_anchor: string | null };
	payout_minimums: Record<string, string>;
}

const settings = (key: string, body: unknown) => call("POST", "/v1/settings", { key, body });

describe("payout settings", () => {
	it("are manual with no minimums until changed", async () => {
		const m = await createMerchant();
		const got = await json<PayoutSettings>(await call("GET", "/v1/settings", { key: m.sk }));
		expect(got.payout_schedule).toEqual({ interval: "manual", weekly_anchor: null });
		expect(got.payout_minimums).toEqual({});
	});

	it("keep a weekly schedule's weekday, Monday when none is given", async () => {
		const m = await createMerchant();
		const weekly = await settings(m.sk, { payout_schedule: { interval: "weekly" } });
		expect(weekly.status).toBe(200);
		expect((await json<PayoutSettings>(weekly)).payout_schedule).toEqual({
			interval: "weekly",
			weekly_anchor: "monday",
		});
		const friday = await settings(m.sk, {
			payout_schedule: { interval: "weekly", weekly_anchor: "friday" },
		});
		expect((await json<PayoutSettings>(friday)).payout_schedule.weekly_anchor).toBe("friday");
		const daily = await settings(m.sk, { payout_schedule: { interval: "daily" } });
		expect((await json<PayoutSettings>(daily)).payout_schedule).toEqual({
			interval: "daily",
			weekly_anchor: null,
		});
		// Other settings are left as they were.
		const again = await json<PayoutSettings & { extra_funds: string }>(
			await call("GET", "/v1/settings", { key: m.sk }),
		);
		expect(again.payout_schedule.interval).toBe("daily");
		expect(again.extra_funds).toBe("refund");
	});

	it("refuse an unknown interval or weekday, and a weekday on a daily schedule", async () => {
		const m = await createMerchant();
		await expectApiError(
			await settings(m.sk, { payout_schedule: { interval: "hourly" } }),
			"parameter_invalid",
			"payout_schedule[interval]",
		);
		await expectApiError(
			await settings(m.sk, { payout_schedule: { interval: "weekly", weekly_anchor: "funday" } }),
			"parameter_invalid",
			"payout_schedule[weekly_anchor]",
		);
		await expectApiError(
			await settings(m.sk, { payout_schedule: { interval: "daily", weekly_anchor: "monday" } }),
			"parameter_invalid",
			"payout_schedule[weekly_anchor]",
		);
		const got = await json<PayoutSettings>(await call("GET", "/v1/settings", { key: m.sk }));
		expect(got.payout_schedule.interval).toBe("manual");
	});

	it("key minimums by ledger currency, amounts as decimal strings", async () => {
		const m = await createMerchant();
		const res = await settings(m.sk, {
			payout_minimums: { usd: 5000, SOL: "100000000", usdc: "1000000" },
		});
		expect(res.status).toBe(200);
		expect((await json<PayoutSettings>(res)).payout_minimums).toEqual({
			usd: "5000",
			sol: "100000000",
			[USDC_MINT]: "1000000",
		});
		// A token named by its mint is the same currency.
		const byMint = await settings(m.sk, {
			payout_minimums: { [USDC_MINT]: "18446744073709551615" },
		});
		expect((await json<PayoutSettings>(byMint)).payout_minimums).toEqual({
			[USDC_MINT]: "18446744073709551615",
		});
		const cleared = await settings(m.sk, { payout_minimums: null });
		expect((await json<PayoutSettings>(cleared)).payout_minimums).toEqual({});
	});

	it("refuse a minimum in an unknown currency, negative, fractional, too large or named twice", async () => {
		const m = await createMerchant();
		await settings(m.sk, { payout_minimums: { usd: "100" } });
		const cases: [Record<string, unknown>, string][] = [
			[{ doge: "1" }, "payout_minimums[doge]"],
			[{ USD: "1" }, "payout_minimums[USD]"],
			[{ usd: "-5" }, "payout_minimums[usd]"],
			[{ usd: -5 }, "payout_minimums[usd]"],
			[{ usd: "1.5" }, "payout_minimums[usd]"],
			[{ usd: "1e3" }, "payout_minimums[usd]"],
			[{ sol: "18446744073709551616" }, "payout_minimums[sol]"],
			[{ sol: "1", SOL: "2" }, "payout_minimums[SOL]"],
		];
		for (const [body, param] of cases)
			await expectApiError(
				await settings(m.sk, { payout_minimums: body }),
				"parameter_invalid",
				param,
			);
		await expectApiError(
			await settings(m.sk, { payout_minimums: { usd: 1.5 } }),
			"parameter_invalid",
			"payout_minimums[usd]",
		);
		// Nothing refused was stored.
		const got = await json<PayoutSettings>(await call("GET", "/v1/settings", { key: m.sk }));
		expect(got.payout_minimums).toEqual({ usd: "100" });
	});
});

const DAY_MS = 86_400_000;
const dateOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const usd = (merchantId: string) =>
	accountBalance(accounts.merchantAvailable(merchantId, false, "usd"));
const isPage = (b: unknown): b is PayoutSchedulePageMessage =>
	(b as { kind?: string } | null)?.kind === "schedule_page";

/**
 * The daily cron at 00:10 UTC on the day of `runMs`, then every page it leads to, delivered to the
 * payouts consumer one by one as the queue would.
 */
async function runDay(runMs: number): Promise<{ pages: PayoutSchedulePageMessage[] }> {
	const rec = recordingEnv();
	await runScheduled(
		createScheduledController({ cron: CRON_DAILY, scheduledTime: runMs }),
		rec.env,
	);
	const started = rec.sent.filter(isPage);
	expect(started).toEqual([
		{ kind: "schedule_page", date: dateOf(runMs), interval: "daily", after: null },
	]);
	const pages: PayoutSchedulePageMessage[] = [];
	let next = 0;
	while (next < rec.sent.length) {
		const body = rec.sent[next++];
		if (!isPage(body)) continue;
		pages.push(body);
		const result = await deliverPayouts(rec.env, [body]);
		expect(result.explicitAcks).toHaveLength(1);
	}
	return { pages };
}

/** One page of one merchant, at the service (a page's merchants are those after `after`). */
function pageOf(merchantId: string, date: string): PayoutSchedulePageMessage {
	return { kind: "schedule_page", date, interval: "daily", after: merchantId.slice(0, -1) };
}

describe("automatic payouts: itemised", () => {
	it("itemise every transfer since the last one, an earlier manual payout's debit too, summing to the payout", async () => {
		const m = await createMerchant();
		await settings(m.sk, { payout_schedule: { interval: "daily" } });
		await insertDestination(m.merchant.id);
		const id = m.merchant.id;
		await postTransfers([balanceTransfer(id, 1_000n), balanceTransfer(id, 2_500n)]);
		await postTransfers([balanceTransfer(id, -300n, { kind: "refund", reference: "re_sched_1" })]);
		const manual = await createPayout(env, {
			merchantId: id,
			livemode: false,
			amount: 700n,
			currency: "usd",
			automatic: false,
		});
		await postTransfers([balanceTransfer(id, 400n)]);
		expect(await usd(id)).toBe(2_900n);

		const rec = recordingEnv();
		const now = Math.floor(MONDAY_RUN_MS / 1000);
		const result = await runPayoutSchedulePage(rec.env, pageOf(id, MONDAY), { now, pageSize: 1 });
		expect(result.created).toHaveLength(1);
		const payoutId = result.created[0]?.payoutId as string;
		const [payout] = await automaticPayouts([id]);
		expect(payout).toMatchObject({ id: payoutId, amount: "2900", currency: "usd" });
		expect(await usd(id)).toBe(0n);

		// Two at a time, newest first, through every page.
		const items: PayoutItemResponse[] = [];
		let after: string | undefined;
		for (let page = 0; page < 10; page++) {
			const res = await call(
				"GET",
				`/v1/payouts/${payoutId}/transactions?limit=2${after ? `&starting_after=${encodeURIComponent(after)}` : ""}`,
				{ key: m.sk },
			);
			expect(res.status).toBe(200);
			const body = await json<ListJson<PayoutItemResponse>>(res);
			expect(body.data.length).toBeLessThanOrEqual(2);
			items.push(...body.data);
			if (!body.has_more) break;
			after = body.data[body.data.length - 1]?.id;
		}
		expect(items).toHaveLength(6);
		expect(new Set(items.map((i) => i.id)).size).toBe(6);
		const own = items.filter((i) => i.source === payoutId);
		const paid = items.filter((i) => i.source !== payoutId);
		expect(own).toEqual([
			expect.objectContaining({ type: "payout", amount: "-2900", currency: "usd" }),
		]);
		expect(paid.reduce((s, i) => s + BigInt(i.amount), 0n)).toBe(2_900n);
		expect(items.reduce((s, i) => s + BigInt(i.amount), 0n)).toBe(0n);
		expect(paid.map((i) => [i.type, i.amount]).sort()).toEqual(
			[
				["payment", "1000"],
				["payment", "2500"],
				["payment", "400"],
				["payout", "-700"],
				["refund", "-300"],
			].sort(),
		);
		expect(paid.find((i) => i.amount === "-700")?.source).toBe(manual.id);
		for (const item of items)
			expect(item).toMatchObject({ object: "payout_item", currency: "usd" });

		// Backwards from the oldest gives the newer ones; a cursor of another payout is refused.
		const oldest = items[items.length - 1]?.id as string;
		const back = await json<ListJson<PayoutItemResponse>>(
			await call(
				"GET",
				`/v1/payouts/${payoutId}/transactions?limit=2&ending_before=${encodeURIComponent(oldest)}`,
				{ key: m.sk },
			),
		);
		expect(back.data.map((i) => i.id)).toEqual(items.slice(-3, -1).map((i) => i.id));
		await expectApiError(
			await call("GET", `/v1/payouts/${payoutId}/transactions?starting_after=nope`, {
				key: m.sk,
			}),
			"parameter_invalid",
			"starting_after",
		);
		// Another merchant's payout is unknown to this one; a manual payout itemises nothing.
		const other = await createMerchant();
		await expectApiError(
			await call("GET", `/v1/payouts/${payoutId}/transactions`, { key: other.sk }),
			"resource_missing",
			"id",
		);
		const none = await json<ListJson<PayoutItemResponse>>(
			await call("GET", `/v1/payouts/${manual.id}/transactions`, { key: m.sk }),
		);
		expect(none).toMatchObject({ object: "list", data: [], has_more: false });
		await expectLedgerBalanced();
	});

	it("take only the oldest transfers one payout holds, and the rest the next day, never a mismatch", async () => {
		const [id] = (await insertMerchants([{ payout_schedule: { interval: "daily" } }])) as [string];
		await insertDestination(id);
		await postTransfers([100n, 200n, 300n, 400n, 500n].map((a) => balanceTransfer(id, a)));
		const rec = recordingEnv();
		const monday = Math.floor(MONDAY_RUN_MS / 1000);
		const first = await runPayoutSchedulePage(rec.env, pageOf(id, MONDAY), {
			now: monday,
			pageSize: 1,
			itemLimit: 3,
		});
		expect(first.created).toHaveLength(1);
		expect(await usd(id)).toBe(900n);
		const tuesday = dateOf(MONDAY_RUN_MS + DAY_MS);
		const second = await runPayoutSchedulePage(rec.env, pageOf(id, tuesday), {
			now: monday + 86_400,
			pageSize: 1,
			itemLimit: 3,
		});
		expect(second.created).toHaveLength(1);
		expect(await usd(id)).toBe(0n);
		const payouts = await automaticPayouts([id]);
		const amounts = new Map(payouts.map((p) => [p.id, p.amount]));
		expect(amounts.get(first.created[0]?.payoutId as string)).toBe("600");
		expect(amounts.get(second.created[0]?.payoutId as string)).toBe("900");
		for (const p of payouts) {
			const { results } = await env.DB.prepare(
				"SELECT CAST(amount AS INTEGER) AS amount, transfer_id FROM payout_items WHERE payout_id = ? AND transfer_id NOT LIKE ?",
			)
				.bind(p.id, `${p.id}:%`)
				.all<{ amount: number }>();
			expect(results.reduce((s, r) => s + BigInt(r.amount), 0n)).toBe(BigInt(p.amount));
		}
		await expectLedgerBalanced();
	});
});

describe("automatic payouts: returned funds", () => {
	it("a canceled automatic payout's money goes out with the next day's payout, itemised as its return", async () => {
		const m = await createMerchant();
		await settings(m.sk, { payout_schedule: { interval: "daily" } });
		await insertDestination(m.merchant.id);
		const id = m.merchant.id;
		await postTransfers([balanceTransfer(id, 1_500n)]);
		const rec = recordingEnv();
		const monday = Math.floor(MONDAY_RUN_MS / 1000);
		const first = await runPayoutSchedulePage(rec.env, pageOf(id, MONDAY), {
			now: monday,
			pageSize: 1,
		});
		const firstId = first.created[0]?.payoutId as string;
		const cancel = await call("POST", `/v1/payouts/${firstId}/cancel`, { key: m.sk });
		expect(cancel.status).toBe(200);
		expect(await usd(id)).toBe(1_500n);
		await postTransfers([balanceTransfer(id, 500n)]);

		const second = await runPayoutSchedulePage(
			rec.env,
			pageOf(id, dateOf(MONDAY_RUN_MS + DAY_MS)),
			{ now: monday + 86_400, pageSize: 1 },
		);
		const secondId = second.created[0]?.payoutId as string;
		const items = await json<ListJson<PayoutItemResponse>>(
			await call("GET", `/v1/payouts/${secondId}/transactions?limit=10`, { key: m.sk }),
		);
		const whose = (source: string) =>
			source === firstId ? "canceled" : source === secondId ? "own" : "payment";
		expect(items.data.map((i) => `${i.type} ${i.amount} ${whose(i.source)}`).sort()).toEqual([
			"payment 500 payment",
			"payout -2000 own",
			"payout 1500 canceled",
		]);
		expect((await automaticPayouts([id])).find((p) => p.id === secondId)?.amount).toBe("2000");
		await expectLedgerBalanced();
	});
});

describe("automatic payouts: once per day", () => {
	it("a page delivered twice at once creates one payout", async () => {
		const [id] = (await insertMerchants([{ payout_schedule: { interval: "daily" } }])) as [string];
		await insertDestination(id);
		await postTransfers([balanceTransfer(id, 5_000n)]);
		const rec = recordingEnv();
		const now = Math.floor(MONDAY_RUN_MS / 1000);
		const page = pageOf(id, MONDAY);
		const results = await Promise.all([
			runPayoutSchedulePage(rec.env, page, { now, pageSize: 1 }),
			runPayoutSchedulePage(rec.env, page, { now, pageSize: 1 }),
		]);
		expect(results.flatMap((r) => r.created)).toHaveLength(1);
		expect(results.flatMap((r) => r.errors)).toEqual([]);
		expect(await automaticPayouts([id])).toHaveLength(1);
		expect(await usd(id)).toBe(0n);
		// New funds the same day wait for the next day: the day's payout is made.
		await postTransfers([balanceTransfer(id, 1_000n)]);
		const again = await runPayoutSchedulePage(rec.env, page, { now, pageSize: 1 });
		expect(again.created).toEqual([]);
		expect(await automaticPayouts([id])).toHaveLength(1);
		expect(await usd(id)).toBe(1_000n);
		await expectLedgerBalanced();
	});
});

describe("automatic payouts: a page in trouble", () => {
	it("is retried before its next page is sent, and given up visibly at the last attempt", async () => {
		// The first merchant's settings cannot be read as a minimum (written around the API): that
		// merchant fails, the second is paid, and the page is retried without starting the next one.
		const [broken, fine] = (await insertMerchants([
			{ payout_schedule: { interval: "daily" }, payout_minimums: { usd: "lots" } },
			{ payout_schedule: { interval: "daily" } },
		])) as [string, string];
		for (const id of [broken, fine]) {
			await insertDestination(id);
			await postTransfers([balanceTransfer(id, 2_000n)]);
		}
		const logs = captureLogs();
		try {
			const date = "2026-12-09";
			const page: PayoutSchedulePageMessage = {
				kind: "schedule_page",
				date,
				interval: "daily",
				// Both merchants' ids share their time part: start before the smaller one.
				after: [broken, fine].sort()[0]?.slice(0, -1) ?? null,
			};
			const rec = recordingEnv();
			const first = await deliverPayouts(rec.env, [page], 1);
			expect(first.retryMessages).toHaveLength(1);
			expect(first.explicitAcks).toEqual([]);
			expect(rec.sent.filter(isPage)).toEqual([]);
			expect((await automaticPayouts([broken, fine])).map((p) => p.merchant_id)).toEqual([fine]);

			// The last attempt: the rest of the day goes on (next page sent) and the give-up is recorded.
			const last = await deliverPayouts(rec.env, [page], 5);
			expect(last.explicitAcks).toHaveLength(1);
			expect(rec.sent.filter(isPage)).toEqual([{ ...page, interval: "weekly", after: null }]);
			const failure = await env.DB.prepare(
				"SELECT queue, error FROM queue_failures WHERE body LIKE ? ORDER BY id DESC LIMIT 1",
			)
				.bind(`%${date}%`)
				.first<{ queue: string; error: string }>();
			expect(failure?.queue).toBe("payouts");
			expect(failure?.error).toContain(broken);
			expect(logs.find("error", "queue message given up")).toHaveLength(1);
			// The paid merchant was paid once across both deliveries.
			expect(await automaticPayouts([broken, fine])).toHaveLength(1);
			await expectLedgerBalanced();
		} finally {
			// Mended, so later runs of this suite's days are not troubled by it.
			await env.DB.prepare("UPDATE merchants SET settings = ? WHERE id = ?")
				.bind(JSON.stringify({ payout_schedule: { interval: "manual" } }), broken)
				.run();
		}
	});
});

describe("automatic payouts: the daily run", () => {
	it("pages through 250 merchants and creates exactly the due payouts, once, however often a page comes", async () => {
		// Per group of five: daily at its minimum (paid), daily below its minimum, weekly on Monday
		// (paid: the run is a Monday), weekly on Friday (not due), daily without a destination.
		const groups = ["daily", "short", "monday", "friday", "nowhere"] as const;
		const plan = Array.from({ length: 250 }, (_, i) => groups[i % 5] as (typeof groups)[number]);
		const ids = await insertMerchants(
			plan.map((g) =>
				g === "monday" || g === "friday"
					? { payout_schedule: { interval: "weekly", weekly_anchor: g } }
					: { payout_schedule: { interval: "daily" }, payout_minimums: { usd: "1000" } },
			),
		);
		// Merchants without a schedule are not read at all.
		await insertMerchants(Array.from({ length: 30 }, () => ({})));
		const amountOf = (i: number) => (plan[i] === "short" ? 999n : 1_000n + BigInt(i));
		await postTransfers(ids.map((id, i) => balanceTransfer(id, amountOf(i))));
		for (const [i, id] of ids.entries()) if (plan[i] !== "nowhere") await insertDestination(id);

		const { pages } = await runDay(MONDAY_RUN_MS);
		// 150 daily merchants and 100 weekly ones (others' merchants of this suite may add pages).
		expect(pages.filter((p) => p.interval === "daily").length).toBeGreaterThanOrEqual(2);
		expect(pages.filter((p) => p.interval === "weekly").length).toBeGreaterThanOrEqual(2);

		const due = ids.filter((_, i) => plan[i] === "daily" || plan[i] === "monday");
		const payouts = await automaticPayouts(ids);
		expect(payouts.map((p) => p.merchant_id).sort()).toEqual([...due].sort());
		for (const p of payouts) {
			const i = ids.indexOf(p.merchant_id);
			expect(p).toMatchObject({ currency: "usd", amount: amountOf(i).toString() });
		}
		const rows = (await runRows(MONDAY)).filter((r) => ids.includes(r.merchant_id));
		const outcome = (g: (typeof groups)[number]) =>
			rows.filter((r) => plan[ids.indexOf(r.merchant_id)] === g).map((r) => [r.outcome, r.reason]);
		expect(outcome("daily")).toEqual(Array(50).fill(["created", null]));
		expect(outcome("monday")).toEqual(Array(50).fill(["created", null]));
		expect(outcome("short")).toEqual(Array(50).fill(["skipped", "below_minimum"]));
		expect(outcome("nowhere")).toEqual(Array(50).fill(["skipped", "no_destination"]));
		expect(outcome("friday")).toEqual([]);
		for (const [i, id] of ids.entries())
			expect(await usd(id), plan[i]).toBe(
				plan[i] === "daily" || plan[i] === "monday" ? 0n : amountOf(i),
			);

		// More money comes in, and every page of the day is delivered again, two at once: nothing new.
		await postTransfers(due.map((id) => balanceTransfer(id, 5_000n)));
		const rec = recordingEnv();
		for (const page of pages) {
			const results = await Promise.all([
				deliverPayouts(rec.env, [page], 2),
				deliverPayouts(rec.env, [page], 2),
			]);
			for (const r of results) expect(r.explicitAcks).toHaveLength(1);
		}
		expect(await automaticPayouts(ids)).toHaveLength(100);
		for (const id of due) expect(await usd(id)).toBe(5_000n);
		await expectLedgerBalanced();
	}, 120_000);
});
