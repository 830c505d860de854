import { isId } from "../domain/ids";
import { listAuditLog } from "../services/audit";
import { allow } from "./access";
import { type DashboardApp, sessionOf } from "./context";
import { renderPage, when } from "./layout";

/** The audit log of this mode: who (person and role, or API key) did what, newest first. */
export function registerAudit(app: DashboardApp): void {
	app.get("/dashboard/audit", allow("audit.read"), async (c) => {
		const session = sessionOf(c);
		const cursor = c.req.query("starting_after");
		const page = await listAuditLog(c.env, session, {
			limit: 50,
			starting_after: cursor && isId("auditLog", cursor) ? cursor : undefined,
		});
		return renderPage(
			c,
			{ title: "Audit log", session, section: "audit" },
			<>
				<h1>Audit log ({session.livemode ? "live" : "test"} mode)</h1>
				<p class="muted">
					Every change, and who made it: a person and their role in the dashboard, or an API key.
					Sign-ins, invitations, roles and passkeys appear in both modes. Also GET /v1/audit_log.
				</p>
				<table id="audit">
					<thead>
						<tr>
							<th>When</th>
							<th>Action</th>
							<th>Who</th>
							<th>Object</th>
							<th>Details</th>
						</tr>
					</thead>
					<tbody>
						{page.data.map((e) => (
							<tr data-entry={e.id} data-action={e.action}>
								<td>{when(e.created)}</td>
								<td class="mono">{e.action}</td>
								<td class="actor" data-actor={e.actor.id ?? ""}>
									{e.actor.type === "user" ? "person" : e.actor.type.replace("_", " ")}{" "}
									<span class="mono">{e.actor.id ?? "—"}</span>
									{e.actor.role ? ` (${e.actor.role})` : ""}
								</td>
								<td class="mono">{e.object_id ?? "—"}</td>
								<td>
									<pre class="mono">{JSON.stringify(e.details)}</pre>
								</td>
							</tr>
						))}
					</tbody>
				</table>
				{page.has_more ? (
					<nav class="pager">
						<a href={`/dashboard/audit?starting_after=${page.data.at(-1)?.id ?? ""}`}>Older →</a>
					</nav>
				) : null}
			</>,
		);
	});
}
