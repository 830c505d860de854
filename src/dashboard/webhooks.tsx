import { isId } from "../lib/ids";
import { listWebhookAttempts, toApiWebhookAttempt } from "../services/webhook-deliveries";
import {
	listWebhookEndpoints,
	loadWebhookEndpointRow,
	toEndpointRecord,
} from "../services/webhook-endpoints";
import { allow } from "./access";
import { type DashboardApp, sessionOf } from "./context";
import { renderPage, Status, when } from "./layout";

/** Webhook endpoints and each one's attempt log (read-only; endpoints are managed through the API). */
export function registerWebhooks(app: DashboardApp): void {
	app.get("/dashboard/webhooks", allow("webhooks.read"), async (c) => {
		const session = sessionOf(c);
		const { data } = await listWebhookEndpoints(c.env.DB, session, { limit: 100 });
		return renderPage(
			c,
			{ title: "Webhooks", session, section: "webhooks" },
			<>
				<h1>Webhook endpoints</h1>
				{data.length === 0 ? (
					<p class="empty" id="no-endpoints">
						No endpoints. Add one with POST /v1/webhook_endpoints.
					</p>
				) : (
					<table id="endpoints">
						<thead>
							<tr>
								<th>Endpoint</th>
								<th>URL</th>
								<th>Events</th>
								<th>State</th>
								<th>Created</th>
							</tr>
						</thead>
						<tbody>
							{data.map((e) => (
								<tr data-endpoint={e.id}>
									<td>
										<a class="mono" href={`/dashboard/webhooks/${e.id}`}>
											{e.id}
										</a>
									</td>
									<td class="mono">{e.url}</td>
									<td>{e.enabled_events.join(", ")}</td>
									<td>
										{e.disabled ? (
											<Status value="failed" />
										) : e.failing_since ? (
											<Status value="pending" />
										) : (
											<Status value="succeeded" />
										)}{" "}
										{e.disabled
											? `disabled (${e.disabled_reason ?? "by you"})`
											: e.failing_since
												? `failing since ${when(e.failing_since)}`
												: "enabled"}
									</td>
									<td>{when(e.created)}</td>
								</tr>
							))}
						</tbody>
					</table>
				)}
			</>,
		);
	});

	app.get("/dashboard/webhooks/:id", allow("webhooks.read"), async (c) => {
		const session = sessionOf(c);
		const id = c.req.param("id");
		// Another merchant's endpoint, or the other mode's, is not found.
		const endpoint = toEndpointRecord(await loadWebhookEndpointRow(c.env.DB, session, id));
		const cursor = c.req.query("starting_after");
		const page = await listWebhookAttempts(c.env.DB, session, id, {
			limit: 50,
			starting_after: cursor && isId("webhookAttempt", cursor) ? cursor : undefined,
		});
		const attempts = page.data.map(toApiWebhookAttempt);
		return renderPage(
			c,
			{ title: endpoint.id, session, section: "webhooks" },
			<>
				<p>
					<a href="/dashboard/webhooks">← Webhook endpoints</a>
				</p>
				<h1 class="mono">{endpoint.url}</h1>
				<dl class="facts card">
					<dt>Id</dt>
					<dd class="mono">{endpoint.id}</dd>
					<dt>Events</dt>
					<dd>{endpoint.enabled_events.join(", ")}</dd>
					<dt>Description</dt>
					<dd>{endpoint.description ?? "—"}</dd>
					<dt>State</dt>
					<dd>
						{endpoint.disabled ? `disabled (${endpoint.disabled_reason ?? "by you"})` : "enabled"}
					</dd>
				</dl>
				<h2>Attempts</h2>
				{attempts.length === 0 ? (
					<p class="empty">No deliveries yet.</p>
				) : (
					<table id="attempts">
						<thead>
							<tr>
								<th>When</th>
								<th>Event</th>
								<th class="num">Attempt</th>
								<th>Result</th>
								<th class="num">Duration</th>
								<th>Next retry</th>
							</tr>
						</thead>
						<tbody>
							{attempts.map((a) => (
								<tr data-attempt={a.id}>
									<td>{when(a.created)}</td>
									<td>
										{a.event_type} <span class="mono muted">{a.event}</span>
									</td>
									<td class="num">{a.attempt}</td>
									<td>
										<Status value={a.status} /> {a.status_code ?? ""} {a.error ?? ""}
									</td>
									<td class="num">{a.duration_ms === null ? "—" : `${a.duration_ms} ms`}</td>
									<td>{when(a.next_attempt_at)}</td>
								</tr>
							))}
						</tbody>
					</table>
				)}
				{page.has_more ? (
					<nav class="pager">
						<a
							href={`/dashboard/webhooks/${endpoint.id}?starting_after=${attempts.at(-1)?.id ?? ""}`}
						>
							Older attempts →
						</a>
					</nav>
				) : null}
			</>,
		);
	});
}
