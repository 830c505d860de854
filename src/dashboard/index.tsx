import { Hono } from "hono";
import { ApiError } from "../lib/errors";
import { log } from "../lib/log";
import type { App, AppEnv } from "../types";
import { StepUpRequired } from "./access";
import { registerAccount } from "./account";
import { registerAudit } from "./audit";
import { registerPasskeySignIn } from "./auth-api";
import { jsonAuthApp } from "./auth-limits";
import { registerBalancePages } from "./balances";
import {
	type DashboardContext,
	field,
	maybeSessionOf,
	PageError,
	readForm,
	rememberSession,
} from "./context";
import { registerJoin } from "./join";
import { registerKeys } from "./keys";
import { ASSET_PREFIX, DASHBOARD_ASSETS, renderPage } from "./layout";
import { registerOverview } from "./overview";
import { registerPaymentDetail } from "./payment-detail";
import { registerPaymentPages } from "./payments";
import { registerPayoutsPages } from "./payouts";
import { registerPasskeyRegistration } from "./registration";
import { registerReportPages } from "./reports";
import { registerRules } from "./rules";
import { csrfMatches, type DashboardSession, readDashboardSession, sameOrigin } from "./session";
import { registerSettingsPages } from "./settings";
import { crossOrigin, registerSignIn } from "./sign-in";
import { registerTeam } from "./team";
import { registerWebhooks } from "./webhooks";

/**
 * The merchant dashboard at /dashboard: server-rendered pages behind a session cookie obtained
 * with a passkey (or, in test mode, a test secret key). Every page is scoped to the session's
 * merchant and mode and checked against the person's role; every POST carries the session's CSRF
 * token and comes from this origin; sensitive actions need a recent passkey assertion.
 */
export function registerDashboard(app: App): void {
	const dash = new Hono<AppEnv>();
	dash.onError(renderError);

	// Content-hashed names: a deploy changes the name, so browsers may cache them forever.
	dash.get(`${ASSET_PREFIX}:file`, (c) => {
		const asset = DASHBOARD_ASSETS[c.req.param("file")];
		if (!asset) throw new ApiError("route_not_found", "No such dashboard asset.");
		c.header("Content-Type", asset.type);
		c.header("X-Content-Type-Options", "nosniff");
		c.header("Cache-Control", "public, max-age=31536000, immutable");
		return c.body(asset.body);
	});

	// The passkey ceremonies answer JSON in the API's error shape; their own checks, no form CSRF.
	const auth = jsonAuthApp();
	registerPasskeySignIn(auth);
	registerPasskeyRegistration(auth);
	app.route("/", auth);

	registerSignIn(dash);
	registerJoin(dash);
	dash.use("/dashboard", requireSession);
	dash.use("/dashboard/*", requireSession);
	registerOverview(dash);
	registerPaymentPages(dash);
	registerPaymentDetail(dash);
	registerBalancePages(dash);
	registerPayoutsPages(dash);
	registerWebhooks(dash);
	registerKeys(dash);
	registerRules(dash);
	registerReportPages(dash);
	registerAudit(dash);
	registerTeam(dash);
	registerSettingsPages(dash);
	registerAccount(dash);
	dash.all("/dashboard/*", () => {
		throw new PageError(404, "Not found", "There is no such page in the dashboard.");
	});

	app.route("/", dash);
}

async function requireSession(c: DashboardContext, next: () => Promise<void>) {
	const session = await readDashboardSession(c);
	if (!session) {
		if (c.req.method === "GET" || c.req.method === "HEAD") {
			const url = new URL(c.req.url);
			const back = encodeURIComponent(url.pathname + url.search);
			c.header("Cache-Control", "no-store");
			return c.redirect(`/dashboard/sign-in?next=${back}`, 303);
		}
		throw new PageError(401, "Signed out", "Your session has ended. Sign in again.");
	}
	if (c.req.method !== "GET" && c.req.method !== "HEAD") {
		// A cross-site form carries neither this origin nor the session's token.
		if (!sameOrigin(c)) throw crossOrigin();
		if (!csrfMatches(session, field(await readForm(c), "csrf"))) {
			throw new PageError(403, "Form expired", "The form has expired; reload the page and retry.");
		}
	}
	rememberSession(c, session);
	await next();
}

const API_STATUS_TITLES: Record<number, string> = {
	400: "Check the form",
	401: "Signed out",
	404: "Not found",
	409: "Conflict",
	422: "Not accepted",
	429: "Too many requests",
	503: "Unavailable",
};

/** Errors as pages: the refusal's message for known errors, a request id for the rest. */
function renderError(err: Error, c: DashboardContext) {
	const session = maybeSessionOf(c);
	if (err instanceof StepUpRequired && session) return renderStepUp(c, session, err);
	if (err instanceof PageError || err instanceof ApiError) {
		const status = err.status;
		const title =
			err instanceof PageError ? err.title : (API_STATUS_TITLES[err.status] ?? "Refused");
		return renderPage(
			c,
			{ title, session, status },
			<section class="card">
				<h1>{title}</h1>
				<p class="notice error" role="alert">
					{err.message}
				</p>
				<p>
					<a href={session ? "/dashboard" : "/dashboard/sign-in"}>Back to the dashboard</a>
				</p>
			</section>,
		);
	}
	const requestId = c.get("requestId") ?? "req_unknown";
	log("error", "dashboard error", {
		request_id: requestId,
		path: c.req.path,
		error: `${err.name}: ${err.message}`,
		stack: err.stack,
	});
	return renderPage(
		c,
		{ title: "Something went wrong", session, status: 500 },
		<section class="card">
			<h1>Something went wrong</h1>
			<p class="notice error" role="alert">
				An internal error occurred. Retry in a moment; quote {requestId} if it persists.
			</p>
		</section>,
	);
}

/**
 * The step-up page: confirm with a passkey, then the same form is sent again (the script does
 * both). A secret-key session has no passkey: it is told to sign in with one.
 */
function renderStepUp(c: DashboardContext, session: DashboardSession, err: StepUpRequired) {
	return renderPage(
		c,
		{ title: "Confirm it's you", session, status: 403 },
		<section class="card signin" id="step-up">
			<h1>Confirm it's you</h1>
			{err.keySession ? (
				<p class="notice error" role="alert">
					This action needs a passkey check, and a test secret key session has no passkey. Sign in
					with a passkey to do it.
				</p>
			) : (
				<>
					<p>
						This action needs a passkey check in the last five minutes. Confirm with your passkey
						and it is sent again as you filled it in.
					</p>
					<p class="notice error" role="alert" id="join-error" hidden />
					<form method="post" action={err.action} data-passkey="step-up" data-csrf={session.csrf}>
						<input type="hidden" name="csrf" value={session.csrf} />
						{err.fields.map(([name, value]) => (
							<input type="hidden" name={name} value={value} />
						))}
						<button type="submit" id="step-up-confirm">
							Confirm with your passkey
						</button>
					</form>
				</>
			)}
			<p>
				<a href="/dashboard">Cancel</a>
			</p>
		</section>,
	);
}
