import type { Context } from "hono";
import { raw } from "hono/html";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { formatMinorUnits } from "../domain/money";
import { can, type Permission } from "../domain/roles";
import { CLIENT_ASSETS } from "../generated/client-assets";
import { hashText, jsonForScript, setPageSecurityHeaders } from "../lib/html";
import { HtmlPage } from "../lib/page";
import type { AppEnv } from "../types";
import type { DashboardSession } from "./session";
import { DASHBOARD_CSS, UPLOT_CSS } from "./styles";

const SCRIPT = CLIENT_ASSETS["dashboard.js"] ?? { code: "", hash: "missing" };
const CSS = `${UPLOT_CSS}\n${DASHBOARD_CSS}`;
export const ASSET_PREFIX = "/dashboard/assets/";
export const DASHBOARD_ASSETS: Record<string, { type: string; body: string }> = {
	[`dashboard.${SCRIPT.hash}.js`]: { type: "text/javascript; charset=utf-8", body: SCRIPT.code },
	[`dashboard.${hashText(CSS)}.css`]: { type: "text/css; charset=utf-8", body: CSS },
};
const [SCRIPT_PATH, CSS_PATH] = Object.keys(DASHBOARD_ASSETS).map((name) => ASSET_PREFIX + name);

/** The navigation: each page with the permission it needs (a role sees only what it may open). */
export const NAV = [
	["overview", "/dashboard", "Overview", "analytics.read"],
	["payments", "/dashboard/payments", "Payments", "payments.read"],
	["balances", "/dashboard/balances", "Balances", "balances.read"],
	["payouts", "/dashboard/payouts", "Payouts", "payouts.read"],
	["webhooks", "/dashboard/webhooks", "Webhooks", "webhooks.read"],
	["keys", "/dashboard/keys", "API keys", "keys.read"],
	["rules", "/dashboard/rules", "Rules", "rules.read"],
	["reports", "/dashboard/reports", "Reports", "reports.read"],
	["audit", "/dashboard/audit", "Audit log", "audit.read"],
	["team", "/dashboard/team", "Team", "team.read"],
	["settings", "/dashboard/settings", "Settings", "settings.read"],
] as const satisfies readonly (readonly [string, string, string, Permission])[];
export type Section = (typeof NAV)[number][0] | "account";

/**
 * Headers of every dashboard page: a strict CSP (scripts, styles and connections only to this
 * origin, no inline script, forms post only here), never cached, never framed.
 */
export function dashboardHeaders(c: Context<AppEnv>): void {
	setPageSecurityHeaders(c, [
		"default-src 'none'",
		"script-src 'self'",
		"style-src 'self'",
		"img-src 'self' data:",
		"connect-src 'self'",
		"base-uri 'none'",
		"form-action 'self'",
		"frame-ancestors 'none'",
	]);
	c.header("Cache-Control", "no-store");
	c.header("Permissions-Policy", "camera=(), microphone=(), geolocation=()");
}

/** Renders a full page with the headers above. */
export function renderPage(
	c: Context<AppEnv>,
	props: {
		title: string;
		session: DashboardSession | null;
		section?: Section;
		data?: unknown;
		status?: ContentfulStatusCode;
	},
	body: unknown,
) {
	dashboardHeaders(c);
	c.status(props.status ?? 200);
	return c.html(
		<HtmlPage
			lang="en"
			head={
				<>
					{/* Same-origin form posts carry their Origin (checked against CSRF); nothing leaks out. */}
					<meta name="referrer" content="same-origin" />
					<title>{`${props.title} · StreamPayments`}</title>
					<link rel="icon" href="/favicon.svg" />
					<link rel="stylesheet" href={CSS_PATH} />
					{props.data !== undefined ? (
						<script type="application/json" id="dashboard-data">
							{raw(jsonForScript(props.data))}
						</script>
					) : null}
					<script src={SCRIPT_PATH} defer />
				</>
			}
		>
			{props.session ? <TopBar session={props.session} section={props.section} /> : null}
			<main>{body as never}</main>
		</HtmlPage>,
	);
}

function TopBar(props: { session: DashboardSession; section: Section | undefined }) {
	const live = props.session.livemode;
	return (
		<header class="top">
			<a class="brand" href="/dashboard">
				StreamPayments
			</a>
			<nav aria-label="Dashboard">
				{NAV.filter((item) => can(props.session.role, item[3])).map(([id, href, label]) => (
					<a href={href} aria-current={id === props.section ? "page" : undefined}>
						{label}
					</a>
				))}
			</nav>
			<div class="who">
				<span class={`mode ${live ? "live" : "test"}`} id="mode">
					{live ? "Live mode" : "Test mode"}
				</span>
				<a href="/dashboard/account" id="who" data-role={props.session.role}>
					{props.session.email ?? "test secret key"} · {props.session.role}
				</a>
				{live || props.session.subject.kind === "user" ? (
					<form method="post" action="/dashboard/mode">
						<input type="hidden" name="csrf" value={props.session.csrf} />
						<input type="hidden" name="mode" value={live ? "test" : "live"} />
						<button type="submit" class="secondary" id="switch-mode">
							Switch to {live ? "test" : "live"}
						</button>
					</form>
				) : null}
				<form method="post" action="/dashboard/sign-out">
					<input type="hidden" name="csrf" value={props.session.csrf} />
					<button type="submit">Sign out</button>
				</form>
			</div>
		</header>
	);
}

/** A hidden CSRF field for a state-changing form. */
export function Csrf(props: { session: DashboardSession }) {
	return <input type="hidden" name="csrf" value={props.session.csrf} />;
}

/** A one-button form posting to `action` with the session's CSRF token: remove, revoke, withdraw. */
export function ActionButton(props: {
	session: DashboardSession;
	action: string;
	label: string;
	kind?: "danger" | "secondary";
}) {
	return (
		<form class="inline" method="post" action={props.action}>
			<Csrf session={props.session} />
			<button type="submit" class={props.kind ?? "danger"}>
				{props.label}
			</button>
		</form>
	);
}

export function Status(props: { value: string }) {
	return <span class={`status ${props.value}`}>{props.value.replace(/_/g, " ")}</span>;
}

/** "25.00 USD" from minor units. */
export function money(amount: number | bigint, currency: string): string {
	return `${formatMinorUnits(amount, currency)} ${currency.toUpperCase()}`;
}

/** Unix seconds as a UTC timestamp to the second. */
export function when(seconds: number | null | undefined): string {
	if (seconds === null || seconds === undefined) return "—";
	return `${new Date(seconds * 1000).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}
