import { membershipsOf } from "../db/members";
import { passkeysOf, removePasskey } from "../db/passkeys";
import { steppedUpRecently } from "../domain/roles";
import { auditAccount } from "../services/audit";
import { newRecoveryCodes, unusedRecoveryCodes } from "../services/recovery-codes";
import { actorOf, stepUp } from "./access";
import { type DashboardApp, field, PageError, readForm, seeOther, sessionOf } from "./context";
import { ActionButton, Csrf, renderPage, when } from "./layout";
import {
	type DashboardSession,
	endOtherSessions,
	endRecoverySessions,
	inRecoveryWindow,
	recordStepUp,
	revokeDashboardSession,
	startDashboardSession,
} from "./session";

// A person's own account: passkeys, recovery codes, the merchants they belong to, and the mode.
// Every role has it; a secret-key session has no person and sees only the mode switch.

function personOf(session: DashboardSession): string {
	if (session.subject.kind !== "user") {
		throw new PageError(
			403,
			"No person signed in",
			"This session was opened with a test secret key. Sign in with a passkey for your account.",
		);
	}
	return session.subject.userId;
}

export function registerAccount(app: DashboardApp): void {
	app.get("/dashboard/account", async (c) => {
		const session = sessionOf(c);
		if (session.subject.kind !== "user") {
			return renderPage(
				c,
				{ title: "Account", session, section: "account" },
				<section class="card">
					<h1>Account</h1>
					<p>
						This session was opened with a test secret key, as the admin role without a person. Sign
						in with a passkey to manage an account of your own.
					</p>
				</section>,
			);
		}
		const userId = session.subject.userId;
		const [passkeys, codes, memberships] = await Promise.all([
			passkeysOf(c.env.DB, userId),
			unusedRecoveryCodes(c.env.DB, userId),
			membershipsOf(c.env.DB, userId),
		]);
		const recovered = c.req.query("recovered") !== undefined;
		// The page's script asks for a passkey assertion before registering, unless the session
		// may add one without it (fresh step-up, or minutes after a recovery-code sign-in).
		const addNeedsStepUp =
			!steppedUpRecently(session.steppedUpAt, Math.floor(Date.now() / 1000)) &&
			!inRecoveryWindow(session);
		return renderPage(
			c,
			{ title: "Account", session, section: "account" },
			<>
				<h1>{session.email}</h1>
				{recovered ? (
					<p class="notice" role="status" id="recovered-notice">
						You signed in with a recovery code; it will not work again. Register a new passkey now.
					</p>
				) : null}
				{c.req.query("ended") !== undefined ? (
					<p class="notice ok" role="status">
						Your other sessions have ended.
					</p>
				) : null}
				{c.req.query("added") !== undefined ? (
					<p class="notice ok" role="status">
						Passkey added.
					</p>
				) : null}
				<section class="card" id="passkeys">
					<h2>Passkeys</h2>
					<p class="notice error" role="alert" id="join-error" hidden />
					<table>
						<tbody>
							{passkeys.map((p) => (
								<tr data-passkey={p.id}>
									<td>
										{p.name}
										{session.subject.kind === "user" && session.subject.passkeyId === p.id ? (
											<div class="muted">signed in with this passkey</div>
										) : null}
									</td>
									<td>added {when(p.created)}</td>
									<td>last used {when(p.last_used_at)}</td>
									<td>
										<ActionButton
											session={session}
											action={`/dashboard/account/passkeys/${p.id}/remove`}
											label="Remove"
										/>
									</td>
								</tr>
							))}
						</tbody>
					</table>
					<form
						method="post"
						action="/dashboard/auth/register/verify"
						data-passkey="register"
						data-kind="add"
						data-csrf={session.csrf}
						data-step-up={addNeedsStepUp ? "1" : undefined}
					>
						<label for="passkey-name">Name</label>
						<input id="passkey-name" name="name" value="Another passkey" maxlength={60} />
						<button type="submit" id="add-passkey">
							Add a passkey
						</button>
					</form>
				</section>
				<section class="card" id="recovery">
					<h2>Recovery codes</h2>
					<p>{codes} unused. New codes replace all the old ones.</p>
					<form method="post" action="/dashboard/account/recovery-codes">
						<Csrf session={session} />
						<button type="submit" class="secondary">
							Make new recovery codes
						</button>
					</form>
				</section>
				<section class="card" id="sessions">
					<h2>Sessions</h2>
					<p>Ends every other session of yours, in every browser; this one stays.</p>
					<form method="post" action="/dashboard/account/sessions/end-others">
						<Csrf session={session} />
						<button type="submit" class="secondary" id="end-other-sessions">
							Sign out everywhere else
						</button>
					</form>
				</section>
				<section class="card" id="memberships">
					<h2>Accounts you belong to</h2>
					<table>
						<tbody>
							{memberships.map((m) => (
								<tr data-merchant={m.merchant_id}>
									<td>{m.name}</td>
									<td>{m.role}</td>
									<td>
										{m.merchant_id === session.merchantId ? (
											"current"
										) : (
											<form class="inline" method="post" action="/dashboard/account/switch">
												<Csrf session={session} />
												<input type="hidden" name="merchant" value={m.merchant_id} />
												<button type="submit" class="secondary">
													Switch
												</button>
											</form>
										)}
									</td>
								</tr>
							))}
						</tbody>
					</table>
				</section>
			</>,
		);
	});

	// Removing a passkey always needs a fresh assertion: a stolen cookie or a recovery sign-in
	// cannot take the owner's passkeys away.
	app.post("/dashboard/account/passkeys/:id/remove", stepUp(), async (c) => {
		const session = sessionOf(c);
		const userId = personOf(session);
		const removed = await removePasskey(c.env.DB, userId, c.req.param("id"));
		if (!removed) throw new PageError(404, "Not found", "No such passkey on your account.");
		await auditAccount(c.env, {
			merchant_id: session.merchantId,
			action: "passkey.removed",
			actor: actorOf(session),
			object_id: removed.id,
			details: { name: removed.name },
		});
		// Sessions signed in with it end at their next request (this one too, if it was this one).
		return seeOther(c, "/dashboard/account");
	});

	app.post("/dashboard/account/recovery-codes", stepUp(), async (c) => {
		const session = sessionOf(c);
		const userId = personOf(session);
		const { codes, statements } = await newRecoveryCodes(c.env.DB, userId);
		await c.env.DB.batch(statements);
		// Every session opened with an old code ends (this one, if it is one, is signed again).
		await endRecoverySessions(c, session);
		await auditAccount(c.env, {
			merchant_id: session.merchantId,
			action: "recovery_codes.replaced",
			actor: actorOf(session),
			object_id: userId,
			details: { count: codes.length, recovery_sessions_ended: true },
		});
		return renderPage(
			c,
			{ title: "New recovery codes", session, section: "account" },
			<section class="card">
				<h1>New recovery codes</h1>
				<p class="notice" role="status">
					Shown once. The old codes no longer work.
				</p>
				<pre class="secret" id="recovery-codes">
					{codes.join("\n")}
				</pre>
				<p>
					<a href="/dashboard/account">Back to your account</a>
				</p>
			</section>,
		);
	});

	app.post("/dashboard/account/sessions/end-others", stepUp(), async (c) => {
		const session = sessionOf(c);
		const userId = personOf(session);
		await endOtherSessions(c, session);
		await auditAccount(c.env, {
			merchant_id: session.merchantId,
			action: "sessions.ended",
			actor: actorOf(session),
			object_id: userId,
			details: { scope: "others" },
		});
		return seeOther(c, "/dashboard/account?ended=1");
	});

	app.post("/dashboard/account/switch", async (c) => {
		const session = sessionOf(c);
		const userId = personOf(session);
		const wanted = field(await readForm(c), "merchant");
		const membership = (await membershipsOf(c.env.DB, userId)).find(
			(m) => m.merchant_id === wanted,
		);
		if (!membership) throw new PageError(404, "Not found", "You are not a member of that account.");
		await revokeDashboardSession(c);
		await startDashboardSession(c, {
			merchantId: membership.merchant_id,
			livemode: false,
			subject: session.subject,
			role: membership.role,
		});
		return seeOther(c, "/dashboard");
	});

	// Test and live mode: a person switches freely; a test secret key never opens live mode.
	app.post("/dashboard/mode", async (c) => {
		const session = sessionOf(c);
		const live = field(await readForm(c), "mode") === "live";
		if (live && session.subject.kind !== "user") {
			throw new PageError(
				403,
				"Live mode needs a passkey",
				"Live mode is opened by signing in with a passkey, never with a secret key.",
			);
		}
		await revokeDashboardSession(c);
		const next = await startDashboardSession(c, {
			merchantId: session.merchantId,
			livemode: live,
			subject: session.subject,
			role: session.role,
		});
		// The same person in the same browser: a recent passkey check still counts.
		if (session.steppedUpAt !== null) await recordStepUp(c.env.DB, next, session.steppedUpAt);
		return seeOther(c, "/dashboard");
	});
}
