import { listMembers } from "../db/members";
import { isId } from "../domain/ids";
import { isRole, ROLE_DESCRIPTIONS, ROLES, type Role } from "../domain/roles";
import { notFound } from "../lib/errors";
import { auditAccount } from "../services/audit";
import { createInvitation, listInvitations, revokeInvitation } from "../services/invitations";
import { getMerchant } from "../services/merchants";
import {
	changeRole,
	hasHiddenCharacters,
	isEmail,
	type MemberChange,
	normalEmail,
	removeMember,
} from "../services/team";
import { actorOf, allow, stepUp } from "./access";
import { attemptAllowed } from "./auth-limits";
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

// The merchant's team: members and their roles, and open invitations. Owners change it (with a
// passkey check); admins see it.

function roleOf(form: URLSearchParams): Role {
	const role = field(form, "role");
	if (!isRole(role)) throw new PageError(400, "Check the form", "Choose one of the roles.");
	return role;
}

function RoleSelect(props: { name: string; selected?: Role; label: string; id?: string }) {
	return (
		<select name={props.name} aria-label={props.label} id={props.id}>
			{ROLES.map((r) => (
				<option value={r} selected={r === props.selected}>
					{r}
				</option>
			))}
		</select>
	);
}

function unwrapChange(change: MemberChange, userId: string) {
	if (change.ok) return change;
	if (change.reason === "not_found") throw notFound("member", userId);
	throw new PageError(409, "Conflict", "The account must keep at least one owner.");
}

/** Audits the invitations withdrawn because the person who sent them lost the right to invite. */
async function withdrawnEntries(
	c: DashboardContext,
	session: DashboardSession,
	ids: string[],
	inviter: string,
	reason: "inviter_removed" | "inviter_role_changed",
) {
	for (const id of ids) {
		await teamEntry(c, session, "invitation.revoked", id, { inviter, reason });
	}
}

async function teamEntry(
	c: DashboardContext,
	session: DashboardSession,
	action: string,
	objectId: string,
	details: Record<string, unknown>,
) {
	await auditAccount(c.env, {
		merchant_id: session.merchantId,
		action,
		actor: actorOf(session),
		object_id: objectId,
		details: { via: "dashboard", ...details },
	});
}

export function registerTeam(app: DashboardApp): void {
	app.get("/dashboard/team", allow("team.read"), async (c) => {
		const session = sessionOf(c);
		const [members, invitations] = await Promise.all([
			listMembers(c.env.DB, session.merchantId),
			listInvitations(c.env.DB, session.merchantId),
		]);
		const owner = session.role === "owner" && session.subject.kind === "user";
		return renderPage(
			c,
			{ title: "Team", session, section: "team" },
			<>
				<h1>Team</h1>
				<dl class="facts card">
					{ROLES.map((r) => (
						<>
							<dt>{r}</dt>
							<dd>{ROLE_DESCRIPTIONS[r]}</dd>
						</>
					))}
				</dl>
				<table id="members">
					<thead>
						<tr>
							<th>Person</th>
							<th>Role</th>
							<th class="num">Passkeys</th>
							<th>Last sign-in</th>
							<th>Joined</th>
							{owner ? <th>Actions</th> : null}
						</tr>
					</thead>
					<tbody>
						{members.map((m) => (
							<tr data-member={m.user} data-email={m.email}>
								<td>
									{m.email}
									<div class="mono muted">{m.user}</div>
								</td>
								<td class="role">{m.role}</td>
								<td class="num">{m.passkeys}</td>
								<td>{when(m.last_sign_in)}</td>
								<td>{when(m.created)}</td>
								{owner ? (
									<td>
										<form
											class="inline"
											method="post"
											action={`/dashboard/team/members/${m.user}/role`}
										>
											<Csrf session={session} />
											<RoleSelect name="role" selected={m.role} label={`Role of ${m.email}`} />
											<button type="submit" class="secondary">
												Change role
											</button>
										</form>
										<ActionButton
											session={session}
											action={`/dashboard/team/members/${m.user}/remove`}
											label="Remove"
										/>
									</td>
								) : null}
							</tr>
						))}
					</tbody>
				</table>
				<h2>Open invitations</h2>
				{invitations.length === 0 ? (
					<p class="empty">None.</p>
				) : (
					<table id="invitations">
						<thead>
							<tr>
								<th>Email</th>
								<th>Role</th>
								<th>Expires</th>
								{owner ? <th /> : null}
							</tr>
						</thead>
						<tbody>
							{invitations.map((i) => (
								<tr data-invitation={i.id}>
									<td>{i.email}</td>
									<td>{i.role}</td>
									<td>{when(i.expires_at)}</td>
									{owner ? (
										<td>
											<ActionButton
												session={session}
												action={`/dashboard/team/invitations/${i.id}/revoke`}
												label="Withdraw"
											/>
										</td>
									) : null}
								</tr>
							))}
						</tbody>
					</table>
				)}
				{owner ? (
					<form method="post" action="/dashboard/team/invitations" id="invite-form" class="card">
						<h2>Invite someone</h2>
						<Csrf session={session} />
						<label for="invite-email">Email</label>
						<input id="invite-email" name="email" type="email" required />
						<label for="invite-role">Role</label>
						<RoleSelect name="role" selected="analyst" label="Role" id="invite-role" />
						<p>
							<button type="submit" id="invite-submit">
								Create invitation
							</button>
						</p>
					</form>
				) : (
					<p class="muted">Only owners invite people and change roles.</p>
				)}
			</>,
		);
	});

	app.post("/dashboard/team/invitations", allow("team.write"), stepUp(), async (c) => {
		const session = sessionOf(c);
		const form = await readForm(c);
		const raw = field(form, "email") ?? "";
		if (hasHiddenCharacters(raw)) {
			throw new PageError(
				400,
				"Check the form",
				"The email address contains invisible or control characters. Type it again.",
			);
		}
		const email = normalEmail(raw);
		if (!isEmail(email)) throw new PageError(400, "Check the form", "Enter an email address.");
		const role = roleOf(form);
		if (!(await attemptAllowed(c, `inviter:${session.merchantId}`))) {
			c.header("Retry-After", "60");
			throw new PageError(429, "Too many invitations", "Wait a minute before inviting again.");
		}
		const merchant = await getMerchant(c.env.DB, session.merchantId);
		const created = await createInvitation(c.env, {
			merchantId: session.merchantId,
			merchantName: merchant?.name ?? "a merchant",
			email,
			role,
			invitedBy: session.subject.kind === "user" ? session.subject.userId : "api_key",
		});
		await teamEntry(c, session, "invitation.created", created.invitation.id, {
			email,
			role,
			emailed: created.emailed,
		});
		// The link carries the invitation's secret: on this response only, never again.
		return renderPage(
			c,
			{ title: "Invitation created", session, section: "team" },
			<section class="card" id="invitation-created">
				<h1>Invitation for {email}</h1>
				<p class="notice ok" role="status">
					{created.emailed
						? `Emailed to ${email}. The link is also here, once: it works once, for 7 days, as ${role}.`
						: `No email is configured on this gateway: send this link to ${email} yourself. It is shown once, works once, for 7 days, as ${role}.`}
				</p>
				<p class="secret" id="invitation-url">
					{created.url}
				</p>
				<p>
					<a href="/dashboard/team">Back to the team</a>
				</p>
			</section>,
		);
	});

	app.post("/dashboard/team/invitations/:id/revoke", allow("team.write"), stepUp(), async (c) => {
		const session = sessionOf(c);
		const id = c.req.param("id");
		if (!isId("invitation", id) || !(await revokeInvitation(c.env.DB, session.merchantId, id))) {
			throw notFound("invitation", id);
		}
		await teamEntry(c, session, "invitation.revoked", id, {});
		return seeOther(c, "/dashboard/team");
	});

	app.post("/dashboard/team/members/:user/role", allow("team.write"), stepUp(), async (c) => {
		const session = sessionOf(c);
		const userId = c.req.param("user");
		const role = roleOf(await readForm(c));
		const { before, withdrawn } = unwrapChange(
			await changeRole(c.env.DB, session.merchantId, userId, role),
			userId,
		);
		await teamEntry(c, session, "member.role_changed", userId, { from: before, to: role });
		await withdrawnEntries(c, session, withdrawn, userId, "inviter_role_changed");
		return seeOther(c, "/dashboard/team");
	});

	app.post("/dashboard/team/members/:user/remove", allow("team.write"), stepUp(), async (c) => {
		const session = sessionOf(c);
		const userId = c.req.param("user");
		const { before, withdrawn } = unwrapChange(
			await removeMember(c.env.DB, session.merchantId, userId),
			userId,
		);
		await teamEntry(c, session, "member.removed", userId, { role: before });
		await withdrawnEntries(c, session, withdrawn, userId, "inviter_removed");
		// Their sessions end at their next request: the membership they stand on is gone.
		return seeOther(c, "/dashboard/team");
	});
}
