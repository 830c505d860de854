import { notFound } from "../lib/errors";
import { forgetApiKeys } from "../middleware/api-key-cache";
import {
	type ApiKeyJson,
	type KeyChange,
	keyChangeRefusal,
	listKeys,
	MAX_ROLL_GRACE_SECONDS,
	revokeKey,
	rollKey,
} from "../services/merchants";
import { allow, auditDashboard, stepUp } from "./access";
import {
	type DashboardApp,
	type DashboardContext,
	field,
	PageError,
	readForm,
	seeOther,
	sessionOf,
} from "./context";
import { ActionButton, Csrf, renderPage, when } from "./layout";
import type { DashboardSession } from "./session";

/** Grace periods offered when rolling: how long the old key keeps working. */
const GRACE_CHOICES = [
	[0, "none: the old key stops now"],
	[60 * 60, "1 hour"],
	[24 * 60 * 60, "24 hours"],
	[MAX_ROLL_GRACE_SECONDS, "7 days"],
] as const;

function keyState(key: ApiKeyJson, now: number): string {
	if (key.revoked_at !== null) return `revoked ${when(key.revoked_at)}`;
	if (key.expires_at !== null && key.expires_at <= now) return `expired ${when(key.expires_at)}`;
	if (key.expires_at !== null) return `expires ${when(key.expires_at)}`;
	return "active";
}

/** The merchant's keys of the session's mode; another mode's key is not found here. */
async function modeKeys(c: DashboardContext, session: DashboardSession): Promise<ApiKeyJson[]> {
	const keys = await listKeys(c.env.DB, session.merchantId);
	return keys.filter((k) => k.livemode === session.livemode);
}

async function ownKey(c: DashboardContext, session: DashboardSession): Promise<ApiKeyJson> {
	const id = c.req.param("id") ?? "";
	const key = (await modeKeys(c, session)).find((k) => k.id === id);
	if (!key) throw notFound("API key", id);
	return key;
}

function unwrap<T>(change: KeyChange<T>, id: string): T {
	if (change.ok) return change.value;
	if (change.reason === "not_found") throw notFound("API key", id);
	throw new PageError(409, "Conflict", keyChangeRefusal(change, id));
}

/**
 * A key change holds at once in this isolate: cached key lookups are dropped before the write and
 * after it (a request in between may have cached the row being replaced), as the admin API does.
 */
async function withoutCachedKeys<T>(write: () => Promise<T>): Promise<T> {
	forgetApiKeys();
	try {
		return await write();
	} finally {
		forgetApiKeys();
	}
}

function auditKeyChangeInDashboard(
	c: DashboardContext,
	session: DashboardSession,
	verb: "rolled" | "revoked",
	key: ApiKeyJson,
	extra: Record<string, unknown> = {},
) {
	return auditDashboard(c.env, session, `api_key.${verb}`, key.id, {
		type: key.type,
		redacted: key.redacted,
		...extra,
	});
}

export function registerKeys(app: DashboardApp): void {
	app.get("/dashboard/keys", allow("keys.read"), async (c) => {
		const session = sessionOf(c);
		const keys = await modeKeys(c, session);
		const now = Math.floor(Date.now() / 1000);
		return renderPage(
			c,
			{ title: "API keys", session, section: "keys" },
			<>
				<h1>API keys ({session.livemode ? "live" : "test"} mode)</h1>
				<p class="muted">
					Rolling makes a new key and keeps the old one working for the grace period. Revoking stops
					a key at once, and ends dashboard sessions signed in with it. Both ask you to confirm with
					your passkey if you have not in the last five minutes.
				</p>
				<table id="keys">
					<thead>
						<tr>
							<th>Key</th>
							<th>Type</th>
							<th>State</th>
							<th>Last used</th>
							<th>Created</th>
							<th>Actions</th>
						</tr>
					</thead>
					<tbody>
						{keys.map((k) => {
							const usable = k.revoked_at === null && (k.expires_at === null || k.expires_at > now);
							return (
								<tr data-key={k.id}>
									<td>
										<span class="mono">{k.redacted}</span>
										<div class="mono muted">{k.id}</div>
										{session.subject.kind === "key" && k.id === session.subject.keyId ? (
											<div class="muted">signed in with this key</div>
										) : null}
									</td>
									<td>{k.type}</td>
									<td>{keyState(k, now)}</td>
									<td>{when(k.last_used_at)}</td>
									<td>{when(k.created)}</td>
									<td>
										{usable ? (
											<>
												{/* A key is rolled once: its successor is the one to roll next. */}
												{k.rolled_to === null ? (
													<form
														class="inline"
														method="post"
														action={`/dashboard/keys/${k.id}/roll`}
													>
														<Csrf session={session} />
														<select name="grace" aria-label={`Grace period for ${k.redacted}`}>
															{GRACE_CHOICES.map(([seconds, label]) => (
																<option value={String(seconds)} selected={seconds === 24 * 60 * 60}>
																	{label}
																</option>
															))}
														</select>
														<button type="submit" class="secondary">
															Roll
														</button>
													</form>
												) : null}
												<ActionButton
													session={session}
													action={`/dashboard/keys/${k.id}/revoke`}
													label="Revoke"
												/>
											</>
										) : null}
									</td>
								</tr>
							);
						})}
					</tbody>
				</table>
			</>,
		);
	});

	app.post("/dashboard/keys/:id/roll", allow("keys.write"), stepUp(), async (c) => {
		const session = sessionOf(c);
		const key = await ownKey(c, session);
		const grace = Number(field(await readForm(c), "grace") ?? "86400");
		if (!GRACE_CHOICES.some(([seconds]) => seconds === grace)) {
			throw new PageError(400, "Check the form", "Choose one of the offered grace periods.");
		}
		const rolled = unwrap(
			await withoutCachedKeys(() => rollKey(c.env.DB, session.merchantId, key.id, grace)),
			key.id,
		);
		await auditKeyChangeInDashboard(c, session, "rolled", rolled.previous, {
			rolled_to: rolled.key.id,
			expires_at: rolled.previous.expires_at,
		});
		// The new secret is shown on this response only: it is stored as a hash, never again readable.
		return renderPage(
			c,
			{ title: "Key rolled", session, section: "keys" },
			<section class="card">
				<h1>New {rolled.key.type} key</h1>
				<p class="notice ok" role="status">
					Copy it now: it is shown once. The old key {rolled.previous.redacted}{" "}
					{rolled.previous.expires_at !== null &&
					rolled.previous.expires_at > Math.floor(Date.now() / 1000)
						? `keeps working until ${when(rolled.previous.expires_at)}`
						: "has stopped working"}
					.
				</p>
				<p class="secret" id="new-secret">
					{rolled.key.secret}
				</p>
				<p>
					<a href="/dashboard/keys">Back to API keys</a>
				</p>
			</section>,
		);
	});

	app.post("/dashboard/keys/:id/revoke", allow("keys.write"), stepUp(), async (c) => {
		const session = sessionOf(c);
		const key = await ownKey(c, session);
		const revoked = unwrap(
			await withoutCachedKeys(() => revokeKey(c.env.DB, session.merchantId, key.id)),
			key.id,
		);
		await auditKeyChangeInDashboard(c, session, "revoked", revoked);
		// Revoking the key this session stands on ends the session: the next page asks to sign in.
		return seeOther(c, "/dashboard/keys");
	});
}
