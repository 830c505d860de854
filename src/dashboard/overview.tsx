import { rebuildStatements } from "../db/rollups";
import { getAnalyticsSummary } from "../services/analytics";
import { allow } from "./access";
import { type DashboardApp, sessionOf } from "./context";
import { money, renderPage } from "./layout";
import { chartCurrency, overviewCharts } from "./overview-charts";

/** The overview covers the last 30 UTC days, today included. */
const WINDOW_DAYS = 30;
const DAY_MS = 86_400_000;

const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** Monday-to-Sunday weeks overlapping the window, clipped to it, oldest first. */
function weeksOf(from: string, to: string): { from: string; to: string }[] {
	const weeks: { from: string; to: string }[] = [];
	let start = Date.parse(`${from}T00:00:00Z`);
	const end = Date.parse(`${to}T00:00:00Z`);
	while (start <= end) {
		const weekday = (new Date(start).getUTCDay() + 6) % 7;
		const sunday = Math.min(start + (6 - weekday) * DAY_MS, end);
		weeks.push({ from: utcDay(start), to: utcDay(sunday) });
		start = sunday + DAY_MS;
	}
	return weeks;
}

function moneyList(byCurrency: Record<string, number>): string {
	const entries = Object.entries(byCurrency).filter(([, v]) => v !== 0);
	if (entries.length === 0) return "—";
	return entries.map(([cur, v]) => money(v, cur)).join(" · ");
}

export function registerOverview(app: DashboardApp): void {
	app.get("/dashboard", allow("analytics.read"), async (c) => {
		const session = sessionOf(c);
		const now = Date.now();
		const to = utcDay(now);
		const from = utcDay(now - (WINDOW_DAYS - 1) * DAY_MS);
		const owner = { merchantId: session.merchantId, livemode: session.livemode };
		// Today is rebuilt from the payments themselves on every view (one bounded D1 batch), so the
		// overview agrees with the payments list; earlier days come from the minute's rollups.
		await c.env.DB.batch(rebuildStatements(c.env.DB, [{ ...owner, day: to }]));
		const asOf = new Date(now).toISOString();
		const summary = (range: { from: string; to: string }, groupBy: "day" | "method" | "token") =>
			getAnalyticsSummary(c.env, { ...owner, ...range, groupBy });
		// Each summary is one D1 batch over the rollups; the weekly ones split volume by method.
		const [daily, byMethod, byToken, ...weeks] = await Promise.all([
			summary({ from, to }, "day"),
			summary({ from, to }, "method"),
			summary({ from, to }, "token"),
			...weeksOf(from, to).map((week) => summary(week, "method")),
		]);
		const totals = daily.totals;
		const currency = chartCurrency(totals, c.req.query("currency"));
		const charts = currency ? overviewCharts({ daily, byMethod, byToken, weeks }, currency) : [];
		const rate = totals.success_rate;
		return renderPage(
			c,
			{
				title: "Overview",
				session,
				section: "overview",
				...(charts.length > 0 ? { data: { charts } } : {}),
			},
			<>
				<h1>
					Overview <span class="muted">{`${from} – ${to} (UTC)`}</span>
				</h1>
				<p class="muted" id="as-of">
					As of <time datetime={asOf}>{`${asOf.slice(11, 19)} UTC`}</time>: today's figures are
					current; earlier days are refreshed every minute.
				</p>
				<div class="stats" id="totals">
					<div class="stat">
						<b>{moneyList(totals.volume)}</b>
						<span>Volume</span>
					</div>
					<div class="stat">
						<b>{totals.payments}</b>
						<span>Payments ({totals.succeeded} succeeded)</span>
					</div>
					<div class="stat">
						<b>{rate === null ? "—" : `${(rate * 100).toFixed(1)}%`}</b>
						<span>Success rate</span>
					</div>
					<div class="stat">
						<b>{moneyList(totals.refunded)}</b>
						<span>Refunded ({totals.refunds})</span>
					</div>
					<div class="stat">
						<b>{moneyList(totals.net_settled)}</b>
						<span>Net settled</span>
					</div>
				</div>
				{charts.length === 0 ? (
					<p class="empty" id="overview-empty">
						No succeeded payments in the last {WINDOW_DAYS} days yet. Charts appear here once
						payments come in.
					</p>
				) : (
					<>
						{Object.keys(totals.volume).length > 1 ? (
							<p class="muted">
								Charts in {currency?.toUpperCase()}. Other currencies:{" "}
								{Object.keys(totals.volume)
									.filter((cur) => cur !== currency)
									.map((cur) => (
										<>
											<a href={`/dashboard?currency=${cur}`}>{cur.toUpperCase()}</a>{" "}
										</>
									))}
							</p>
						) : null}
						<div class="grid">
							{charts.map((chart) => (
								<section class="card">
									<h2>{chart.title}</h2>
									<div class="chart" id={`chart-${chart.id}`} data-chart={chart.id}>
										{chart.series.length === 0 || chart.x.length === 0 ? (
											<p class="muted">Nothing to show yet.</p>
										) : null}
									</div>
								</section>
							))}
						</div>
					</>
				)}
			</>,
		);
	});
}
