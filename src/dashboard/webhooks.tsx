import { EVENT_TYPES } from "../domain/event-types";
import { isId } from "../domain/ids";
import { can } from "../domain/roles";
import { toApiWebhookEndpoint } from "../domain/webhooks";
import { ApiError } from "../lib/errors";
import { zodToApiError } from "../lib/validation";
import { CreateWebhookEndpointBody } from "../routes/webhook-endpoints";
import { listWebhookAttempts, toApiWebhookAttempt } from "../services/webhook-deliveries";
import {
	createWebhookEndpoint,
	listWebhookEndpoints,
	loadWebhookEndpointRow,
	toEndpointRecord,
} from "../services/webhook-endpoints";
import { allow, auditDashboard, stepUp } from "./access";
import {
	type DashboardApp,
	type DashboardContext,
	field,
	readForm,
	seeOther,
	sessionOf,
} from "./context";
import { newFormToken, onceByFormToken } from "./form-once";
import { Csrf, renderPage, Status, when } from "./layout";
import type { DashboardSession } from "./session";

/** What the add-endpoint form was sent with, to show it again beside a refusal. */
interface EndpointForm {
	url: string;
	events: string;
	description: string;
}

const EMPTY_FORM: EndpointForm = { url: "", events: "*", description: "" };

/** `payment.succeeded, refund.created` or one per line: the event types typed in the form. */
function typedEvents(text: string): string[] {
	return text.split(/[\s,]+/).filter((t) => t !== "");
}

/** The endpoints list, with the add form for roles that may manage webhooks. */
async function endpointsPage(
	c: DashboardContext,
	session: DashboardSession,
	form: { values: EndpointForm; error?: string; status?: 400 | 409 | 422 } = { values: EMPTY_FORM },
) {
	const { data } = await listWebhookEndpoints(c.env.DB, session, { limit: 100 });
	return renderPage(
		c,
		{ title: "Webhooks", session, section: "webhooks", status: form.status ?? 200 },
		<>
			<h1>Webhook endpoints</h1>
			{data.length === 0 ? (
				<p class="empty" id="no-endpoints">
					No endpoints yet.
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
			{can(session.role, "webhooks.write") ? (
				<form method="post" action="/dashboard/webhooks" class="card" id="endpoint-form">
					<h2>Add an endpoint</h2>
					<p class="muted">
						The same checks as POST /v1/webhook_endpoints. Its signing secret is shown once, after
						it is added. Adding one asks you to confirm with your passkey if you have not in the
						last five minutes.
					</p>
					{form.error ? (
						<p class="notice error" role="alert" id="endpoint-error">
							{form.error}
						</p>
					) : null}
					<Csrf session={session} />
					<input type="hidden" name="form_token" value={newFormToken()} />
					<label for="endpoint-url">URL</label>
					<input
						id="endpoint-url"
						name="url"
						type="url"
						required
						maxlength={2048}
						placeholder="https://shop.example/webhooks/streampayments"
						value={form.values.url}
					/>
					<label for="endpoint-events">
						Events (* for every type, or types separated by commas)
					</label>
					<input id="endpoint-events" name="enabled_events" required value={form.values.events} />
					<details>
						<summary class="muted">Event types</summary>
						<p class="mono muted">{EVENT_TYPES.join(", ")}</p>
					</details>
					<label for="endpoint-description">Description (optional)</label>
					<input
						id="endpoint-description"
						name="description"
						maxlength={500}
						value={form.values.description}
					/>
					<p>
						<button type="submit" id="endpoint-submit">
							Add endpoint
						</button>
					</p>
				</form>
			) : null}
		</>,
	);
}

/** Webhook endpoints, each one's attempt log, and adding an endpoint (with a step-up). */
export function registerWebhooks(app: DashboardApp): void {
	app.get("/dashboard/webhooks", allow("webhooks.read"), (c) => endpointsPage(c, sessionOf(c)));

	app.post("/dashboard/webhooks", allow("webhooks.write"), stepUp(), async (c) => {
		const session = sessionOf(c);
		const form = await readForm(c);
		const values: EndpointForm = {
			url: field(form, "url") ?? "",
			events: field(form, "enabled_events") ?? "",
			description: field(form, "description") ?? "",
		};
		// The API's own schema: the same URL, event type and `*` rules, the same messages.
		const parsed = CreateWebhookEndpointBody.safeParse({
			url: values.url,
			enabled_events: typedEvents(values.events),
			...(values.description ? { description: values.description } : {}),
		});
		if (!parsed.success) {
			const error = zodToApiError(parsed.error, "json");
			return endpointsPage(c, session, { values, error: error.message, status: 400 });
		}
		let secret: string | undefined;
		let outcome: Awaited<ReturnType<typeof onceByFormToken>>;
		try {
			// Once per form: a double submit or a resent step-up form adds one endpoint.
			outcome = await onceByFormToken(
				c.env,
				session,
				{
					kind: "webhook_endpoint",
					formToken: field(form, "form_token"),
					request: JSON.stringify(parsed.data),
				},
				async () => {
					const created = await createWebhookEndpoint(c.env, session, parsed.data);
					secret = created.secret;
					return created.endpoint.id;
				},
			);
		} catch (error) {
			// A refused URL, or too many endpoints: the form again, with the service's reason.
			if (!(error instanceof ApiError) || error.status >= 500) throw error;
			const status = error.status === 409 ? 409 : error.status === 422 ? 422 : 400;
			return endpointsPage(c, session, { values, error: error.message, status });
		}
		if (outcome.state === "in_progress") return seeOther(c, "/dashboard/webhooks");
		// A repeat finds the endpoint made the first time; its secret was shown then, never again.
		if (outcome.state === "replayed" || secret === undefined) {
			return seeOther(c, `/dashboard/webhooks/${outcome.id}`);
		}
		const endpoint = toApiWebhookEndpoint(
			toEndpointRecord(await loadWebhookEndpointRow(c.env.DB, session, outcome.id)),
		);
		await auditDashboard(c.env, session, "webhook_endpoint.created", endpoint.id, {
			url: endpoint.url,
			enabled_events: endpoint.enabled_events,
		});
		return renderPage(
			c,
			{ title: "Endpoint added", session, section: "webhooks" },
			<section class="card">
				<h1>Endpoint added</h1>
				<p class="mono">
					<a href={`/dashboard/webhooks/${endpoint.id}`}>{endpoint.id}</a> {endpoint.url}
				</p>
				<p class="notice ok" role="status">
					Copy its signing secret now: it is shown once. Verify each delivery's webhook-signature
					header with it.
				</p>
				<p class="secret" id="endpoint-secret">
					{secret}
				</p>
				<p>
					<a href="/dashboard/webhooks">Back to webhook endpoints</a>
				</p>
			</section>,
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
