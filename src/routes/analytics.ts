import { z } from "@hono/zod-openapi";
import { addDays } from "../domain/reports";
import { ANALYTICS_GROUP_BY, dayOf, daysBetween, isDay } from "../domain/rollups";
import { ApiError } from "../lib/errors";
import { getAnalyticsSummary } from "../services/analytics";
import type { App } from "../types";
import { apiRoute, jsonResponse } from "./define";
import { errorResponses } from "./schemas";

/** Longest window a summary covers, in days (both ends included). */
export const MAX_WINDOW_DAYS = 366;
/** Days covered when `from` is left out: the last 30 days up to `to`. */
const DEFAULT_WINDOW_DAYS = 30;

const dayParam = (description: string) =>
	z
		.string()
		.refine(isDay, "must be a date written YYYY-MM-DD")
		.optional()
		.openapi({ description, example: "2026-11-24" });

const SummaryQuery = z.object({
	from: dayParam("First UTC day of the window, inclusive (default: 29 days before `to`)."),
	to: dayParam("Last UTC day of the window, inclusive (default: today, UTC)."),
	group_by: z
		.enum(ANALYTICS_GROUP_BY)
		.optional()
		.openapi({ description: "Split the window: by period (ISO weeks) or by a dimension." }),
});

const Money = z
	.record(z.string(), z.number().int())
	.openapi({ description: "Minor units per lowercase currency; never summed across currencies." });

const Units = z.record(z.string(), z.string()).openapi({
	description:
		"Per ledger currency (a fiat code, `sol` or a mint): minor or base units as decimal strings.",
});

const Metrics = z.object({
	payments: z.number().int().openapi({ description: "Payments created in the window." }),
	succeeded: z.number().int(),
	failed: z.number().int().openapi({ description: "Failed, expired and canceled." }),
	success_rate: z.number().nullable().openapi({ description: "succeeded / (succeeded + failed)." }),
	volume: Money,
	average_ticket: Money,
	fees: Money,
	refunds: z.number().int().openapi({ description: "Refunds succeeded." }),
	refunded: Money,
	refund_rate: z.number().nullable().openapi({ description: "Refunded / succeeded payments." }),
	conversion_spread: Money,
	net_settled: Money,
	median_confirmation_seconds: z.number().nullable(),
	customers: z.object({ new: z.number().int(), returning: z.number().int() }),
});

const SummarySchema = z
	.object({
		object: z.literal("analytics_summary"),
		livemode: z.boolean(),
		from: z.string(),
		to: z.string(),
		group_by: z.enum(ANALYTICS_GROUP_BY).nullable(),
		totals: Metrics,
		groups: z.array(Metrics.extend({ key: z.string() })),
		payouts: z
			.object({
				count: z.number().int(),
				automatic: z.number().int(),
				paid: Units,
				in_transit: Units.openapi({ description: "Pending or in transit." }),
				returned: Units.openapi({ description: "Failed or canceled: back in the balance." }),
				fees: Units.openapi({ description: "Network fees, by the fee's currency." }),
			})
			.openapi({ description: "Payouts created in the window, by where they are now." }),
	})
	.openapi("AnalyticsSummary");

const summary = apiRoute({
	method: "get",
	path: "/v1/analytics/summary",
	tags: ["Analytics"],
	summary: "Payments, volume, refunds, conversions and customers over a window of UTC days",
	description:
		"Read from daily rollups that the minute cron keeps up to date: figures lag the API by about a minute.",
	request: { query: SummaryQuery },
	responses: {
		200: jsonResponse("The summary", SummarySchema),
		...errorResponses(400, 401),
	},
});

/** The window asked for, with defaults filled in; an inverted or too long window is refused. */
export function resolveWindow(
	query: { from?: string; to?: string },
	nowMs: number,
): { from: string; to: string } {
	const to = query.to ?? dayOf(nowMs);
	const from = query.from ?? addDays(to, -(DEFAULT_WINDOW_DAYS - 1));
	if (from > to) {
		throw new ApiError("parameter_invalid", `Invalid from: must not be after to (${to}).`, "from");
	}
	if (daysBetween(from, to) + 1 > MAX_WINDOW_DAYS) {
		throw new ApiError(
			"parameter_invalid",
			`Invalid from: the window covers at most ${MAX_WINDOW_DAYS} days.`,
			"from",
		);
	}
	return { from, to };
}

export function registerAnalytics(app: App): void {
	app.openapi(summary, async (c) => {
		const query = c.req.valid("query");
		const auth = c.get("auth");
		const { from, to } = resolveWindow(query, Date.now());
		const result = await getAnalyticsSummary(c.env, {
			merchantId: auth.merchantId,
			livemode: auth.livemode,
			from,
			to,
			groupBy: query.group_by ?? null,
		});
		return c.json(result, 200);
	});
}

/** The shapes these operations answer with, for their tests and clients. */
export type AnalyticsSummaryResponse = z.infer<typeof SummarySchema>;
