import type { Context, Hono } from "hono";
import { ApiError } from "../lib/errors";
import type { AppEnv } from "../types";
import type { DashboardSession } from "./session";

export type DashboardContext = Context<AppEnv>;
export type DashboardApp = Hono<AppEnv>;

/** The session the middleware established for this request (pages behind sign-in only). */
const sessions = new WeakMap<Request, DashboardSession>();

/** A page-level refusal rendered as an HTML page with this status (CSRF, session ended). */
export class PageError extends Error {
	constructor(
		readonly status: 400 | 401 | 403 | 404 | 409 | 422 | 429,
		readonly title: string,
		message: string,
	) {
		super(message);
		this.name = "PageError";
	}
}

/** The request's session when it has one (error pages show the navigation only then). */
export function maybeSessionOf(c: DashboardContext): DashboardSession | null {
	return sessions.get(c.req.raw) ?? null;
}

export function rememberSession(c: DashboardContext, session: DashboardSession): void {
	sessions.set(c.req.raw, session);
}

export function sessionOf(c: DashboardContext): DashboardSession {
	const session = sessions.get(c.req.raw);
	// The middleware runs before every page behind sign-in; reaching here without it is a bug.
	if (!session) throw new Error("dashboard page reached without a session");
	return session;
}

const forms = new WeakMap<Request, URLSearchParams>();

/**
 * The POSTed form (application/x-www-form-urlencoded, the only encoding the dashboard's forms
 * use), read once and kept for the handler after the CSRF check.
 */
export async function readForm(c: DashboardContext): Promise<URLSearchParams> {
	const cached = forms.get(c.req.raw);
	if (cached) return cached;
	const type = c.req.header("Content-Type") ?? "";
	if (!/^application\/x-www-form-urlencoded\b/i.test(type)) {
		throw new ApiError(
			"body_invalid",
			"Dashboard forms are sent as application/x-www-form-urlencoded.",
		);
	}
	const form = new URLSearchParams(await c.req.text());
	forms.set(c.req.raw, form);
	return form;
}

/** A form field, trimmed; empty means absent. */
export function field(form: URLSearchParams, name: string): string | undefined {
	const value = form.get(name)?.trim();
	return value === undefined || value === "" ? undefined : value;
}

/** After a POST, the page to look at next (303: the browser GETs it, so a reload posts nothing). */
export function seeOther(c: DashboardContext, path: string) {
	c.header("Cache-Control", "no-store");
	return c.redirect(path, 303);
}

/** Where to go after signing in: a dashboard page of this origin, nothing else. */
export function safeNext(next: string | undefined | null): string {
	return next && /^\/dashboard(\/[A-Za-z0-9_\-/?=&%.]*)?$/.test(next) && !next.startsWith("//")
		? next
		: "/dashboard";
}
