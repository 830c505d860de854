import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { getPlatformProxy } from "wrangler";
import { addDays } from "../src/domain/reports";
import { dayStartMs } from "../src/domain/rollups";
import type { Env } from "../src/env";
import { getAnalyticsSummary } from "../src/services/analytics";
import { buildReport } from "../src/services/reports";
import { runRollups } from "../src/services/rollups";
import { writeResult } from "./lib/report.js";
import { summarize } from "./lib/stats.js";

// `npm run bench:rollups`: does the cost of a rollup run, a daily report and an analytics summary
// stay flat as history grows? For each history size a fresh local D1 (wrangler's, through
// getPlatformProxy) gets the schema, then that many payments over the days before, 2,500 a day
// across 20 merchants (so 100,000 is 40 days and 1,000,000 is 400), with refunds, conversions and events in proportion, seeded by recursive-CTE
// INSERT … SELECT. The rollups are backfilled; then one merchant's day of 5,000 payments lands
// and is measured: the rollup run that absorbs it, the day's transactions report (buildReport),
// and 30- and 366-day summaries. Time and D1 rows read (result meta) for each.

const { values: args } = parseArgs({
	options: {
		history: { type: "string", default: "100000,1000000" },
		"day-payments": { type: "string", default: "5000" },
		repeat: { type: "string", default: "5" },
		"no-write": { type: "boolean", default: false },
	},
	strict: true,
});
const HISTORIES = args.history.split(",").map(Number);
const DAY_PAYMENTS = Number(args["day-payments"]);
const REPEAT = Number(args.repeat);
/** History grows in length at a fixed density, so every window holds the same activity. */
const PER_DAY = 2_500;
const MERCHANTS = 20;
const DAY = "2026-11-24";
const HARD_STOP_MS = 9 * 60 * 1000;

setTimeout(() => {
	process.stderr.write("[rollups] hard stop: over 9 minutes\n");
	process.exit(1);
}, HARD_STOP_MS).unref();
const say = (line: string) => process.stdout.write(`[rollups] ${line}\n`);

// ── D1 cost accounting: every statement's meta.rows_read / rows_written ─────────────────────

interface Meter {
	reads: number;
	writes: number;
	queries: number;
}

/** A D1Database that adds up the rows each statement read and wrote. */
function metered(db: D1Database, meter: Meter): D1Database {
	const count = (meta: { rows_read?: number; rows_written?: number } | undefined) => {
		meter.queries++;
		meter.reads += meta?.rows_read ?? 0;
		meter.writes += meta?.rows_written ?? 0;
	};
	const wrap = (stmt: D1PreparedStatement): D1PreparedStatement => {
		const w = {
			inner: stmt,
			bind: (...values: unknown[]) => wrap(stmt.bind(...values)),
			all: async () => {
				const r = await stmt.all();
				count(r.meta);
				return r;
			},
			run: async () => {
				const r = await stmt.run();
				count(r.meta);
				return r;
			},
			// first() reports no meta: the same query through all(), first row.
			first: async (column?: string) => {
				const r = await stmt.all<Record<string, unknown>>();
				count(r.meta);
				const row = r.results[0] ?? null;
				return column ? (row?.[column] ?? null) : row;
			},
			raw: (options?: { columnNames?: boolean }) => stmt.raw(options as never),
		};
		return w as unknown as D1PreparedStatement;
	};
	return {
		prepare: (sql: string) => wrap(db.prepare(sql)),
		batch: async (stmts: D1PreparedStatement[]) => {
			const results = await db.batch(
				stmts.map((s) => (s as unknown as { inner: D1PreparedStatement }).inner),
			);
			for (const r of results) count(r.meta);
			return results;
		},
		exec: (sql: string) => db.exec(sql),
		dump: () => db.dump(),
		withSession: () => db.withSession(),
	} as unknown as D1Database;
}

async function measure<T>(env: Env, task: (env: Env) => Promise<T>) {
	const meter: Meter = { reads: 0, writes: 0, queries: 0 };
	const started = performance.now();
	const value = await task({ ...env, DB: metered(env.DB, meter) });
	return { ms: Math.round((performance.now() - started) * 10) / 10, ...meter, value };
}

// ── seeding by recursive CTE ────────────────────────────────────────────────────────────────

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** SQL for a creation-sortable id (src/domain/ids.ts) of `ms`, unique by `seq` and `salt`. */
function idSql(prefix: string, ms: string, seq: string, salt: number): string {
	const time = Array.from(
		{ length: 10 },
		(_, i) => `substr('${ALPHABET}', ((${ms}) / ${32 ** (9 - i)}) % 32 + 1, 1)`,
	).join(" || ");
	return `'${prefix}_' || ${time} || printf('%d%019d', ${salt}, ${seq})`;
}

const MERCHANT = (n: string) => `'mch_bench' || printf('%02d', ${n})`;

/**
 * Inserts `count` payments created evenly over [startMs, startMs + spanMs), with their refunds
 * (1 in 20 succeeded payments, half refunded two hours later), conversions (every succeeded
 * crypto payment, a minute later) and events (one per payment, refund and conversion).
 */
async function seed(
	db: D1Database,
	o: { count: number; startMs: number; spanMs: number; merchant: string | null; salt: number },
) {
	const merchant = o.merchant ? `'${o.merchant}'` : MERCHANT(`i % ${MERCHANTS}`);
	const ms = `${o.startMs} + (i * ${o.spanMs}) / ${o.count}`;
	const source = `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${o.count - 1}),
	  s AS (SELECT i, ${ms} AS ms, ${merchant} AS merchant,
	    CASE WHEN i % 20 < 16 THEN 'succeeded' WHEN i % 20 < 18 THEN 'expired' WHEN i % 20 = 18 THEN 'canceled' ELSE 'failed' END AS status,
	    CASE WHEN i % 5 < 3 THEN 'card' ELSE 'solana' END AS method,
	    CASE WHEN i % 5 = 3 THEN 'SOL' ELSE 'USDC' END AS token,
	    1000 + (i * 7919) % 99000 AS amount FROM n)`;
	const payId = idSql("pay", "ms", "i", o.salt);
	const payment = `SELECT ${payId} AS id, merchant, ms, status, method, token, amount, ms / 1000 AS created,
	  CASE WHEN status = 'succeeded' THEN amount ELSE 0 END AS received,
	  CASE WHEN method = 'card' AND status = 'succeeded' THEN amount * 29 / 1000 + 30 ELSE 0 END AS fee,
	  CASE WHEN i % 2 = 0 THEN 'cus_bench' || printf('%06d', i % 40000) END AS customer,
	  CASE WHEN status = 'succeeded' AND i % 20 = 0 THEN amount / 2 ELSE 0 END AS refunded, i FROM s`;
	const data = `json_object('id', id, 'object', 'payment', 'livemode', json('false'), 'status', status,
	  'amount', amount, 'currency', 'usd', 'amount_received', received, 'amount_refunded', refunded,
	  'payment_method_types', json_array(method), 'created', created,
	  'succeeded_at', CASE WHEN status = 'succeeded' THEN created + 5 + i % 90 END,
	  'customer', customer, 'metadata', json_object('order', 'ord_' || i),
	  'card', CASE WHEN method = 'card' THEN json_object('payment_intent', 'pi_' || id, 'intent_status', status, 'fee', fee, 'amount_received', received) END,
	  'solana', CASE WHEN method = 'solana' THEN json_object('token', token, 'decimals', CASE token WHEN 'SOL' THEN 9 ELSE 6 END, 'amount', CAST(amount * 10000 AS TEXT), 'signature', CASE WHEN status = 'succeeded' THEN 'sig' || id END) END)`;
	const statements = [
		`INSERT INTO payments (id, merchant_id, livemode, status, amount, currency, amount_received,
		   amount_refunded, version, expires_at, created, updated, data, customer_id)
		 ${source} SELECT id, merchant, 0, status, amount, 'usd', received, refunded, 3, created + 3600,
		   created, created, ${data}, customer FROM (${payment})`,
		`INSERT INTO events (id, merchant_id, livemode, type, object_id, object_version, data, created, published)
		 ${source} SELECT ${idSql("evt", "ms + 5000", "i", o.salt)}, merchant, 0, 'payment.' || status, id, 3, '{}', created, created
		 FROM (${payment})`,
		`INSERT INTO refunds (id, merchant_id, livemode, payment_id, status, amount, currency, version, created, updated, data)
		 ${source} SELECT ${idSql("re", "ms + 7200000", "i", o.salt)} AS rid, merchant, 0, id, 'succeeded', refunded, 'usd', 2,
		   created + 7200, created + 7200,
		   json_object('id', ${idSql("re", "ms + 7200000", "i", o.salt)}, 'object', 'refund', 'livemode', json('false'),
		     'status', 'succeeded', 'funds', 'received', 'amount', refunded, 'currency', 'usd', 'reason', NULL,
		     'metadata', json_object(), 'payment', id, 'processor', CASE method WHEN 'card' THEN 'stripe' ELSE 'solana' END,
		     'failure_reason', NULL, 'created', created + 7200, 'updated', created + 7200,
		     'card', CASE WHEN method = 'card' THEN json_object('charge', 'ch_' || id, 'stripe_refund', 're_s' || i, 'stripe_status', 'succeeded') END,
		     'solana', CASE WHEN method = 'solana' THEN json_object('token', token, 'decimals', CASE token WHEN 'SOL' THEN 9 ELSE 6 END,
		       'amount', CAST(refunded * 10000 AS TEXT), 'signature', 'rsig' || id, 'network_fee', '5000') END)
		 FROM (${payment}) WHERE refunded > 0`,
		`INSERT INTO events (id, merchant_id, livemode, type, object_id, object_version, data, created, published)
		 SELECT ${idSql("evt", "created * 1000", "rowid", o.salt + 1)}, merchant_id, 0, 'refund.succeeded', id, 2, '{}', created, created
		 FROM refunds WHERE id >= ${idSqlBound("re", o.startMs + 7_200_000)} AND id < ${idSqlBound("re", o.startMs + o.spanMs + 7_200_000)}
		   AND (${o.merchant ? `merchant_id = '${o.merchant}'` : "1"})`,
		`INSERT INTO conversions (id, merchant_id, livemode, payment_id, status, policy, from_currency, from_token,
		   from_amount, to_currency, to_token, to_amount, spread_bps, fee, created)
		 ${source} SELECT ${idSql("conv", "ms + 60000", "i", o.salt)}, merchant, 0, id, 'completed', 'locked', lower(token), token,
		   CAST(amount * 10000 AS TEXT), 'usd', NULL, CAST(amount - amount * 3 / 1000 AS TEXT), 30,
		   CAST(amount * 3 / 1000 AS TEXT), created + 60
		 FROM (${payment}) WHERE method = 'solana' AND status = 'succeeded'`,
		`INSERT INTO events (id, merchant_id, livemode, type, object_id, object_version, data, created, published)
		 SELECT ${idSql("evt", "created * 1000 + 1", "rowid", o.salt + 2)}, merchant_id, 0, 'conversion.completed', id, NULL, '{}', created, created
		 FROM conversions WHERE id >= ${idSqlBound("conv", o.startMs + 60_000)} AND id < ${idSqlBound("conv", o.startMs + o.spanMs + 60_000)}
		   AND (${o.merchant ? `merchant_id = '${o.merchant}'` : "1"})`,
	];
	for (const sql of statements) await db.prepare(sql).run();
}

/** The lowest id of a kind at `ms`, as a SQL literal (lowestIdAt without importing the Worker's ids). */
function idSqlBound(prefix: string, ms: number): string {
	let out = "";
	let rest = ms;
	for (let i = 0; i < 10; i++) {
		out = ALPHABET[rest % 32] + out;
		rest = Math.floor(rest / 32);
	}
	return `'${prefix}_${out}'`;
}

// ── one history size ────────────────────────────────────────────────────────────────────────

async function runOne(history: number, salt: number) {
	const dir = mkdtempSync(join(tmpdir(), "bench-rollups-"));
	try {
		execFileSync(
			"npx",
			["wrangler", "d1", "migrations", "apply", "DB", "--local", "--persist-to", dir],
			{ stdio: "ignore", env: { ...process.env, CI: "1" } },
		);
		const proxy = await getPlatformProxy<Env>({
			configPath: "wrangler.toml",
			persist: { path: join(dir, "v3") },
		});
		try {
			return await measureHistory(proxy.env, history, salt);
		} finally {
			await proxy.dispose();
		}
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
}

async function measureHistory(env: Env, history: number, salt: number) {
	const db = env.DB;
	await db
		.prepare(
			`INSERT INTO merchants (id, name, email, metadata, created)
			 WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${MERCHANTS - 1})
			 SELECT ${MERCHANT("i")}, 'Bench ' || i, NULL, '{}', 0 FROM n`,
		)
		.run();
	const dayStart = dayStartMs(DAY);
	const historyDays = Math.ceil(history / PER_DAY);
	const historyStart = dayStartMs(addDays(DAY, -historyDays));
	let t = performance.now();
	await seed(db, {
		count: history,
		startMs: historyStart,
		spanMs: dayStart - historyStart,
		merchant: null,
		salt,
	});
	const seedS = (performance.now() - t) / 1000;
	say(`${history.toLocaleString("en")} payments of history seeded in ${seedS.toFixed(1)} s`);

	t = performance.now();
	let backfillDays = 0;
	for (;;) {
		// Bigger steps than the minute cron's, through the same code: fewer round trips.
		const run = await runRollups(env, 0, { events: 200_000, days: 570 });
		backfillDays += run.days;
		if (run.days === 0) break;
	}
	const backfillS = (performance.now() - t) / 1000;
	say(`backfill: ${backfillDays} merchant-days rebuilt in ${backfillS.toFixed(1)} s`);

	const before = await db.prepare("SELECT seq FROM rollup_watermarks").first<{ seq: number }>();
	await seed(db, {
		count: DAY_PAYMENTS,
		startMs: dayStart,
		spanMs: 12 * 3600 * 1000,
		merchant: "mch_bench00",
		salt: salt + 5,
	});
	const events = await db
		.prepare("SELECT COUNT(*) AS n FROM events WHERE rowid > ?")
		.bind(before?.seq ?? 0)
		.first<{ n: number }>();

	// The run that absorbs the day, then the same rebuild again (watermark put back) for spread.
	const rollup = [];
	for (let i = 0; i < REPEAT; i++) {
		await db
			.prepare("UPDATE rollup_watermarks SET seq = ?")
			.bind(before?.seq ?? 0)
			.run();
		rollup.push(await measure(env, (e) => runRollups(e, 0)));
	}
	const idle = await measure(env, (e) => runRollups(e, 0));
	const report = [];
	for (let i = 0; i < REPEAT; i++) {
		const spec = { merchantId: "mch_bench00", livemode: false, type: "transactions" as const };
		report.push(await measure(env, (e) => buildReport(e, { ...spec, from: DAY, to: DAY }, 0)));
	}
	const summary = async (days: number) => {
		const out = [];
		for (let i = 0; i < REPEAT; i++) {
			const q = { merchantId: "mch_bench00", livemode: false, to: DAY, groupBy: "day" as const };
			out.push(
				await measure(env, (e) =>
					getAnalyticsSummary(e, { ...q, from: addDays(DAY, -(days - 1)) }),
				),
			);
		}
		return out;
	};
	const summary30 = await summary(30);
	const summary366 = await summary(366);
	const check = summary30[0]?.value.groups.at(-1);
	say(`day ${DAY}: ${check?.payments} payments, ${check?.succeeded} succeeded in the summary`);
	return {
		history,
		seed_s: Math.round(seedS * 10) / 10,
		backfill_s: Math.round(backfillS * 10) / 10,
		backfill_days: backfillDays,
		day_events: events?.n ?? 0,
		rollup: rollup.map(({ value, ...r }) => ({ ...r, days: value.days })),
		idle: { ms: idle.ms, reads: idle.reads, writes: idle.writes },
		report: report.map(({ value, ...r }) => ({ ...r, rows: value.rows, status: value.status })),
		summary_30: summary30.map(({ value: _v, ...r }) => r),
		summary_366: summary366.map(({ value: _v, ...r }) => r),
		day_check: { payments: check?.payments, succeeded: check?.succeeded },
	};
}

// ── main ────────────────────────────────────────────────────────────────────────────────────

const results: Awaited<ReturnType<typeof runOne>>[] = [];
for (const [i, history] of HISTORIES.entries()) results.push(await runOne(history, i * 10));

const med = (xs: { ms: number }[]) => summarize(xs.map((x) => x.ms)).median;
const reads = (xs: { reads: number }[]) => xs[0]?.reads ?? 0;
const rows = results.flatMap((r) => [
	[
		r.history.toLocaleString("en"),
		"rollup run (the day's 5,000 payments)",
		med(r.rollup),
		reads(r.rollup),
	],
	[r.history.toLocaleString("en"), "rollup run, nothing new", r.idle.ms, r.idle.reads],
	[r.history.toLocaleString("en"), "daily transactions report", med(r.report), reads(r.report)],
	[
		r.history.toLocaleString("en"),
		"summary, 30 days by day",
		med(r.summary_30),
		reads(r.summary_30),
	],
	[
		r.history.toLocaleString("en"),
		"summary, 366 days by day",
		med(r.summary_366),
		reads(r.summary_366),
	],
]);
const [small, large] = results;
const flat = (pick: (r: (typeof results)[number]) => number) =>
	small && large ? pick(large) <= pick(small) * 1.05 : false;
const targets = [
	{
		name: "rollup run rows read independent of history",
		met: flat((r) => reads(r.rollup)),
		detail: `${reads(small?.rollup ?? [])} vs ${reads(large?.rollup ?? [])} rows read`,
	},
	{
		name: "daily report rows read independent of history",
		met: flat((r) => reads(r.report)),
		detail: `${reads(small?.report ?? [])} vs ${reads(large?.report ?? [])} rows read`,
	},
	{
		name: "30-day summary rows read independent of history",
		met: flat((r) => reads(r.summary_30)),
		detail: `${reads(small?.summary_30 ?? [])} vs ${reads(large?.summary_30 ?? [])} rows read`,
	},
];
for (const row of rows) say(row.join(" | "));
for (const target of targets)
	say(`${target.met ? "met" : "MISSED"}: ${target.name} (${target.detail})`);
if (!args["no-write"]) {
	writeResult({
		name: "rollups",
		title: `Rollups, daily report and analytics summary at ${HISTORIES.map((h) => h.toLocaleString("en")).join(" vs ")} payments of history`,
		targets,
		tables: [
			{
				title: `One merchant's day of ${DAY_PAYMENTS.toLocaleString("en")} payments (local D1, median of ${REPEAT})`,
				columns: ["history (payments)", "operation", "median ms", "D1 rows read"],
				rows,
				notes: [
					`History: ${PER_DAY.toLocaleString("en")} payments a day over the days before, across ${MERCHANTS} merchants, with refunds (1 in 20 succeeded payments), conversions (every succeeded crypto payment) and one event per object.`,
					"Rows read are the sums of D1's meta.rows_read over every statement of the operation.",
					`A summary reads the rollup rows of its window: the 366-day one covers ${results.map((r) => `${Math.min(366, Math.ceil(r.history / PER_DAY) + 1)} days of activity at ${r.history.toLocaleString("en")}`).join(" and ")} payments of history, so it grows with the active days in its window, not with the history behind it.`,
					...results.map(
						(r) =>
							`Backfill at ${r.history.toLocaleString("en")}: ${r.backfill_days.toLocaleString("en")} merchant-days rebuilt from the whole event log in ${r.backfill_s} s (seeded in ${r.seed_s} s).`,
					),
				],
			},
		],
		data: {
			settings: { histories: HISTORIES, day_payments: DAY_PAYMENTS, repeat: REPEAT },
			results,
		},
	});
}
process.exit(0);
