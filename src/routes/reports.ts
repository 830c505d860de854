import { z } from "@hono/zod-openapi";
import { REPORT_TYPES } from "../domain/reports";
import { ApiError, notFound } from "../lib/errors";
import { getReport, listReports, openReportFile, requestReport } from "../services/reports";
import type { App } from "../types";
import { apiRoute, jsonBody } from "./define";
import { errorResponses, IdempotencyHeaderSchema, ListQuerySchema, listSchema } from "./schemas";

const DateSchema = z
	.string()
	.regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date in the form YYYY-MM-DD")
	.openapi({ example: "2026-11-24", description: "A UTC date, inclusive." });

export const ReportSchema = z
	.object({
		id: z.string().openapi({ example: "rpt_01JD4X7K3M9ZQ8W6V5T4S3R2P1N0M9" }),
		object: z.literal("report"),
		livemode: z.boolean(),
		type: z.enum(REPORT_TYPES),
		from: z.string().openapi({ example: "2026-11-24" }),
		to: z.string().openapi({ example: "2026-11-24" }),
		status: z.enum(["pending", "ready", "failed"]),
		formats: z.array(z.enum(["csv", "json"])),
		rows: z.number().int().nullable(),
		size_bytes: z.number().int().nullable().openapi({ description: "CSV and JSON together." }),
		created: z.number().int(),
		ready_at: z.number().int().nullable(),
		failure_reason: z.string().nullable().optional(),
	})
	.openapi("Report");

const tags = ["Reports"];
const IdParam = z.object({ id: z.string().openapi({ param: { name: "id", in: "path" } }) });
const json = <T extends z.ZodTypeAny>(schema: T, description: string) => ({
	description,
	content: { "application/json": { schema } },
});

const list = apiRoute({
	method: "get",
	path: "/v1/reports",
	tags,
	summary: "List reports, newest first",
	request: { query: ListQuerySchema },
	responses: {
		200: json(listSchema(ReportSchema, "ReportList"), "A page of reports"),
		...errorResponses(400, 401),
	},
});

const create = apiRoute({
	method: "post",
	path: "/v1/reports",
	tags,
	summary: "Request a report of a period",
	description:
		"Builds the report at once (`status: ready`), or, past 31 days or 5,000 rows, records it `pending` and builds it in the background; `report.ready` is sent when its files can be downloaded.",
	request: {
		headers: IdempotencyHeaderSchema,
		body: jsonBody(
			z.object({ type: z.enum(REPORT_TYPES), from: DateSchema, to: DateSchema }).strict(),
		),
	},
	responses: {
		200: json(ReportSchema, "The report, ready"),
		202: json(ReportSchema, "The report, pending: built in the background"),
		...errorResponses(400, 401, 409, 422),
	},
});

const retrieve = apiRoute({
	method: "get",
	path: "/v1/reports/{id}",
	tags,
	summary: "Retrieve a report",
	request: { params: IdParam },
	responses: { 200: json(ReportSchema, "The report"), ...errorResponses(401, 404) },
});

const download = apiRoute({
	method: "get",
	path: "/v1/reports/{id}/download",
	tags,
	summary: "Download a report's file",
	request: {
		params: IdParam,
		query: z.object({ format: z.enum(["csv", "json"]).default("csv") }),
	},
	responses: {
		200: {
			description: "The file, as an attachment",
			content: {
				"text/csv": { schema: z.string() },
				"application/json": { schema: z.string() },
			},
		},
		...errorResponses(400, 401, 404, 409),
	},
});

export function registerReports(app: App): void {
	app.openapi(list, async (c) => {
		const query = c.req.valid("query");
		const auth = c.get("auth");
		const page = await listReports(c.env, {
			merchantId: auth.merchantId,
			livemode: auth.livemode,
			limit: query.limit,
			...(query.starting_after !== undefined ? { startingAfter: query.starting_after } : {}),
			...(query.ending_before !== undefined ? { endingBefore: query.ending_before } : {}),
		});
		return c.json({ object: "list" as const, ...page, url: "/v1/reports" }, 200);
	});

	app.openapi(create, async (c) => {
		const body = c.req.valid("json");
		const auth = c.get("auth");
		const report = await requestReport(
			c.env,
			{ merchantId: auth.merchantId, livemode: auth.livemode, ...body },
			Math.floor(Date.now() / 1000),
		);
		return report.status === "pending" ? c.json(report, 202) : c.json(report, 200);
	});

	app.openapi(retrieve, async (c) => {
		const { id } = c.req.valid("param");
		const auth = c.get("auth");
		const report = await getReport(c.env, {
			merchantId: auth.merchantId,
			livemode: auth.livemode,
			id,
		});
		if (!report) throw notFound("report", id);
		return c.json(report, 200);
	});

	app.openapi(download, async (c) => {
		const { id } = c.req.valid("param");
		const { format } = c.req.valid("query");
		const auth = c.get("auth");
		const owner = { merchantId: auth.merchantId, livemode: auth.livemode };
		const report = await getReport(c.env, { ...owner, id });
		if (!report) throw notFound("report", id);
		if (report.status !== "ready") {
			throw new ApiError(
				"resource_conflict",
				report.status === "pending"
					? "The report is still being built; download it once it is ready (event report.ready)."
					: "The report failed and has no file; request it again.",
			);
		}
		const file = await openReportFile(c.env, { ...owner, id, format });
		if (!file) throw notFound("report file", id);
		return c.body(file.body, 200, {
			"Content-Type": file.contentType,
			"Content-Disposition": `attachment; filename="${file.filename}"`,
			"Content-Length": String(file.size),
		});
	});
}

/** The shapes these operations answer with, for their tests and clients. */
export type ReportResponse = z.infer<typeof ReportSchema>;
