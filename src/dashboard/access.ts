import { createMiddleware } from "hono/factory";
import { can, homeOf, type Permission, steppedUpRecently } from "../domain/roles";
import type { Env } from "../env";
import { type AuditActor, audit } from "../services/audit";
import type { AppEnv } from "../types";
import { type DashboardContext, PageError, readForm, sessionOf } from "./context";
import type { DashboardSession } from "./session";

// Every dashboard page and action names the permission it needs; the role of the session's
// person (read from the membership on every request) must grant it. Sensitive actions also need
// a passkey assertion within the last five minutes (step-up).

/** Who a dashboard session is, for the audit log: the person and role, or the test-mode key. */
export function actorOf(session: DashboardSession): AuditActor {
	return session.subject.kind === "user"
		? { type: "user", id: session.subject.userId, role: session.role }
		: { type: "api_key", id: session.subject.keyId };
}

/** The owner shape services take (merchant, mode, and a key id: the person's, for a user session). */
export function sessionAuth(session: DashboardSession) {
	return {
		merchantId: session.merchantId,
		livemode: session.livemode,
		keyId: session.subject.kind === "key" ? session.subject.keyId : session.subject.userId,
		keyType: "secret" as const,
	};
}

/** Appends an entry for a dashboard action of this session's person. */
export function auditDashboard(
	env: Pick<Env, "DB">,
	session: DashboardSession,
	action: string,
	objectId: string | null,
	details: Record<string, unknown> = {},
) {
	return audit(env, {
		merchant_id: session.merchantId,
		livemode: session.livemode,
		action,
		actor: actorOf(session),
		object_id: objectId,
		details: { via: "dashboard", ...details },
	});
}

export function forbidden(session: DashboardSession): PageError {
	return new PageError(
		403,
		"Not allowed",
		`Your role (${session.role}) does not allow this. Ask an owner of the account if you need it.`,
	);
}

/** The route needs `permission`; `/dashboard` itself sends a role without it to its own home page. */
export function allow(permission: Permission) {
	return createMiddleware<AppEnv>(async (c, next) => {
		const session = sessionOf(c);
		if (can(session.role, permission)) return next();
		if (c.req.method === "GET" && c.req.path === "/dashboard") {
			c.header("Cache-Control", "no-store");
			return c.redirect(homeOf(session.role), 303);
		}
		throw forbidden(session);
	});
}

/** A refusal that asks for a passkey assertion, then lets the page send the same form again. */
export class StepUpRequired extends Error {
	constructor(
		readonly action: string,
		readonly fields: [string, string][],
		readonly keySession: boolean,
	) {
		super("step-up required");
		this.name = "StepUpRequired";
	}
}

/** Throws StepUpRequired unless this session asserted a passkey within the last five minutes. */
export async function requireStepUp(c: DashboardContext, session: DashboardSession): Promise<void> {
	if (
		session.subject.kind === "user" &&
		steppedUpRecently(session.steppedUpAt, Math.floor(Date.now() / 1000))
	) {
		return;
	}
	const form = await readForm(c);
	// The form is offered again as it was sent (its CSRF token is the session's own).
	const fields = [...form.entries()].filter(([name]) => name !== "csrf");
	throw new StepUpRequired(c.req.path, fields, session.subject.kind === "key");
}

/** Middleware form of requireStepUp, for actions that always need it. */
export function stepUp() {
	return createMiddleware<AppEnv>(async (c, next) => {
		await requireStepUp(c, sessionOf(c));
		await next();
	});
}
