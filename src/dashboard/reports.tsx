import { isId } from "../domain/ids";
import { notFound } from "../lib/errors";
import { listReports, openReportFile, type Report, requestReport } from "../services/reports";
import { allow, auditDashboard } from "./access";
import { type DashboardApp, field, PageError, readForm, seeOther, sessionOf } from "./context";
import { newFormToken, onceByFormToken } from "./form-once";
import { Csrf, renderPage, Status, when } from "./layout";

const TYPES = [
	["transactions", "Transactions: every payment, refund and conversion"],
	["settlement", "Settlement: opening and closing balances with the movements between"],
] as const;

function utcDay(offsetDays: number): string {
	return new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);
}

function sizeText(report: Report): string {
	if (report.size_bytes === null) return "—";
	return report.size_bytes < 1024
		? `${report.size_bytes} B`
		: `${(report.size_bytes / 1024).toFixed(1)} KB`;
}

/** The merchant's reports in this mode: list, download (CSV or JSON) and a form to request one. */
export function registerReportPages(app: DashboardApp): void {
	app.get("/dashboard/reports", allow("reports.read"), async (c) => {
		const session = sessionOf(c);
		const cursor = c.req.query("starting_after");
		const page = await listReports(c.env, {
			merchantId: session.merchantId,
			livemode: session.livemode,
			limit: 25,
			...(cursor && isId("report", cursor) ? { startingAfter: cursor } : {}),
		});
		const created = c.req.query("created");
		return renderPage(
			c,
			{ title: "Reports", session, section: "reports" },
			<>
				<h1>Reports</h1>
				{created && isId("report", created) ? (
					<p class="notice ok" role="status" id="report-notice">
						Report {created} requested.
					</p>
				) : null}
				<form method="post" action="/dashboard/reports" class="filters card" id="report-form">
					<Csrf session={session} />
					<input type="hidden" name="form_token" value={newFormToken()} />
					<div>
						<label for="report-type">Report</label>
						<select id="report-type" name="type">
							{TYPES.map(([value, label]) => (
								<option value={value}>{label}</option>
							))}
						</select>
					</div>
					<div>
						<label for="report-from">From (UTC)</label>
						<input id="report-from" name="from" type="date" required value={utcDay(-30)} />
					</div>
					<div>
						<label for="report-to">To (UTC, inclusive)</label>
						<input id="report-to" name="to" type="date" required value={utcDay(0)} />
					</div>
					<button type="submit">Generate report</button>
				</form>
				{page.data.length === 0 ? (
					<p class="empty" id="no-reports">
						No reports yet.
					</p>
				) : (
					<table id="reports">
						<thead>
							<tr>
								<th>Report</th>
								<th>Period</th>
								<th>Status</th>
								<th class="num">Rows</th>
								<th class="num">Size</th>
								<th>Created</th>
								<th>Download</th>
							</tr>
						</thead>
						<tbody>
							{page.data.map((r) => (
								<tr data-report={r.id}>
									<td>
										{r.type}
										<div class="mono muted">{r.id}</div>
									</td>
									<td>
										{r.from} – {r.to}
									</td>
									<td>
										<Status value={r.status} />
										{r.failure_reason ? <div class="muted">{r.failure_reason}</div> : null}
									</td>
									<td class="num">{r.rows ?? "—"}</td>
									<td class="num">{sizeText(r)}</td>
									<td>{when(r.created)}</td>
									<td>
										{r.status === "ready"
											? r.formats.map((f) => (
													<>
														<a href={`/dashboard/reports/${r.id}/download?format=${f}`}>
															{f.toUpperCase()}
														</a>{" "}
													</>
												))
											: "—"}
									</td>
								</tr>
							))}
						</tbody>
					</table>
				)}
				{page.has_more ? (
					<nav class="pager">
						<a href={`/dashboard/reports?starting_after=${page.data.at(-1)?.id ?? ""}`}>
							Older reports →
						</a>
					</nav>
				) : null}
			</>,
		);
	});

	app.post("/dashboard/reports", allow("reports.read"), async (c) => {
		const session = sessionOf(c);
		const form = await readForm(c);
		const type = field(form, "type");
		if (type !== "transactions" && type !== "settlement") {
			throw new PageError(400, "Check the form", "Choose a report type.");
		}
		const from = field(form, "from") ?? "";
		const to = field(form, "to") ?? "";
		// The same service and checks as POST /v1/reports: small periods are built now, large
		// ones by the reports queue (the list shows them pending until then). Once per form, so a
		// double submit makes one report.
		const outcome = await onceByFormToken(
			c.env,
			session,
			{ kind: "report", formToken: field(form, "form_token"), request: `${type}\n${from}\n${to}` },
			async () =>
				(
					await requestReport(
						c.env,
						{ merchantId: session.merchantId, livemode: session.livemode, type, from, to },
						Math.floor(Date.now() / 1000),
					)
				).id,
		);
		if (outcome.state === "in_progress") return seeOther(c, "/dashboard/reports");
		if (outcome.state === "created") {
			await auditDashboard(c.env, session, "report.created", outcome.id, { type, from, to });
		}
		return seeOther(c, `/dashboard/reports?created=${outcome.id}`);
	});

	app.get("/dashboard/reports/:id/download", allow("reports.read"), async (c) => {
		const session = sessionOf(c);
		const id = c.req.param("id");
		const format = c.req.query("format") === "json" ? "json" : "csv";
		const file = await openReportFile(c.env, {
			merchantId: session.merchantId,
			livemode: session.livemode,
			id,
			format,
		});
		// Another merchant's or mode's report, or one not ready, is not found.
		if (!file) throw notFound("report", id);
		return new Response(file.body, {
			headers: {
				"Content-Type": file.contentType,
				"Content-Length": String(file.size),
				"Content-Disposition": `attachment; filename="${file.filename}"`,
				"Cache-Control": "no-store",
				"X-Content-Type-Options": "nosniff",
			},
		});
	});
}
