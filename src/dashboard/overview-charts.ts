import { currencyExponent, isSupportedCurrency } from "../domain/money";
import type { AnalyticsSummary } from "../services/analytics";
import type { ChartSpec } from "./chart-spec";

/** Colours that stay apart for the common colour-vision deficiencies (Okabe–Ito). */
const COLORS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442"];
const METHOD_LABELS: Record<string, string> = { solana: "Solana", card: "Card" };

export interface OverviewInput {
	/** The window grouped by day. */
	daily: AnalyticsSummary;
	byMethod: AnalyticsSummary;
	byToken: AnalyticsSummary;
	/** One summary per week of the window (grouped by method), oldest first. */
	weeks: AnalyticsSummary[];
}

const daySeconds = (day: string) => Date.parse(`${day}T00:00:00Z`) / 1000;

/** The currency the charts are drawn in: the one asked for if it has volume, else the largest. */
export function chartCurrency(totals: AnalyticsSummary["totals"], wanted?: string): string | null {
	const currencies = Object.entries(totals.volume)
		.filter(([cur]) => isSupportedCurrency(cur))
		.sort((a, b) => b[1] - a[1]);
	if (wanted && currencies.some(([cur]) => cur === wanted)) return wanted;
	return currencies[0]?.[0] ?? null;
}

/**
 * The overview's charts from analytics summaries: volume per week by method, success rate and
 * refunds per day, and the method and token mix of succeeded payments. Money series are in one
 * currency (never summed across currencies).
 */
export function overviewCharts(input: OverviewInput, currency: string): ChartSpec[] {
	const money = { kind: "money" as const, currency, exponent: currencyExponent(currency) };
	const days = input.daily.groups.map((g) => daySeconds(g.key));
	const methods = input.byMethod.groups.map((g) => g.key);
	const tokens = input.byToken.groups.filter((g) => g.succeeded > 0);
	return [
		{
			id: "volume",
			title: `Volume per week by method (${currency.toUpperCase()})`,
			kind: "time",
			x: input.weeks.map((w) => daySeconds(w.from)),
			series: methods.map((method, i) => ({
				label: METHOD_LABELS[method] ?? method,
				values: input.weeks.map(
					(w) => w.groups.find((g) => g.key === method)?.volume[currency] ?? 0,
				),
				color: COLORS[i % COLORS.length] as string,
			})),
			unit: money,
			style: "line",
		},
		{
			id: "success",
			title: "Success rate per day",
			kind: "time",
			x: days,
			series: [
				{
					label: "Succeeded",
					values: input.daily.groups.map((g) => g.success_rate),
					color: COLORS[2] as string,
				},
			],
			unit: { kind: "ratio" },
			style: "line",
		},
		{
			id: "methods",
			title: "Succeeded payments by method",
			kind: "category",
			x: methods.map((_, i) => i),
			categories: methods.map((m) => METHOD_LABELS[m] ?? m),
			series: [
				{
					label: "Payments",
					values: input.byMethod.groups.map((g) => g.succeeded),
					color: COLORS[0] as string,
				},
			],
			unit: { kind: "count" },
			style: "bars",
		},
		{
			id: "tokens",
			title: "Succeeded crypto payments by token",
			kind: "category",
			x: tokens.map((_, i) => i),
			categories: tokens.map((g) => g.key),
			series: [
				{ label: "Payments", values: tokens.map((g) => g.succeeded), color: COLORS[1] as string },
			],
			unit: { kind: "count" },
			style: "bars",
		},
		{
			id: "refunds",
			title: `Refunded per day (${currency.toUpperCase()})`,
			kind: "time",
			x: days,
			series: [
				{
					label: "Refunded",
					values: input.daily.groups.map((g) => g.refunded[currency] ?? 0),
					color: COLORS[5] as string,
				},
			],
			unit: money,
			style: "line",
		},
	];
}
