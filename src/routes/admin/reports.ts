import { z } from "@hono/zod-openapi";
import { periodProblem } from "../../domain/reports";
import { ApiError } from "../../lib/errors";
import { summaryByMerchant, summaryCsv, summaryLines } from "../../services/report-summary";
import type { App } from "../../types";
import { adminRoute } from "../define";
import { errorResponses } from "../schemas";

const Amounts = z
	.record(z.string(), z.string())
	.openapi({ description: "Per currency: decimal integer strings of the smallest unit." });

const SummarySchema = z
	.object({
		object: z.literal("operator_summary"),
		from: z.string(),
		to: z.string(),
		data: z.array(
			z.object({
				merchant: z.string(),
				merchant_name: z.string().nullable(),
				livemode: z.boolean(),
				payments: z.number().int().openapi({ description: "Payments created in the period." }),
				succeeded: z.number().int(),
				volume: Amounts,
				refunds: z.number().int().openapi({ description: "Refunds that succeeded." }),
				refunded: Amounts,
				fees: Amounts.openapi({ description: "Fees the gateway earned on payments." }),
				conversion_spread: Amounts,
			}),
		),
	})
	.openapi("OperatorSummary");

const DateSchema = z
	.string()
	.openapi({ example: "2026-11-24", description: "UTC date, inclusive." });

const summary = adminRoute({
	method: "get",
	path: "/admin/v1/reports/summary",
	tags: ["Admin"],
	summary: "Activity of every merchant over a period, as JSON or CSV",
	request: {
		query: z.object({
			from: DateSchema,
			to: DateSchema,
			format: z.enum(["json", "csv"]).default("json"),
		}),
	},
	responses: {
		200: {
			description: "The summary",
			content: {
				"application/json": { schema: SummarySchema },
				"text/csv": { schema: z.string() },
			},
		},
		...errorResponses(400, 401),
	},
});

export function registerAdminReports(app: App): void {
	app.openapi(summary, async (c) => {
		const { from, to, format } = c.req.valid("query");
		const problem = periodProblem(from, to, Math.floor(Date.now() / 1000));
		if (problem)
			throw new ApiError(
				"parameter_invalid",
				`'${problem.param}' ${problem.message}.`,
				problem.param,
			);
		const lines = await summaryLines(c.env, from, to);
		if (format === "csv") {
			return c.body(summaryCsv(c.env, lines), 200, {
				"Content-Type": "text/csv; charset=utf-8",
				"Content-Disposition": `attachment; filename="summary-${from}-${to}.csv"`,
			});
		}
		return c.json(
			{ object: "operator_summary" as const, from, to, data: summaryByMerchant(lines) },
			200,
		);
	});
}

/** The shapes these operations answer with, for their tests and clients. */
export type ReportSummaryResponse = z.infer<typeof SummarySchema>;
