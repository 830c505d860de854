import { sha256Hex } from "../lib/crypto";
import { log } from "../lib/log";
import { auditApiChange } from "../services/audit";
import {
	type DashboardApp,
	type DashboardContext,
	field,
	PageError,
	readForm,
	seeOther,
} from "./context";
import { renderPage } from "./layout";
import {
	csrfMatches,
	endDashboardSession,
	readDashboardSession,
	revokeDashboardSession,
	sameOrigin,
	startDashboardSession,
} from "./session";

export function crossOrigin(): PageError {
	return new PageError(
		403,
		"Request refused",
		"This form was not sent from the dashboard's own pages, so it was refused.",
	);
}

const SECRET_KEY = /^sk_(test|live)_[0-9A-Za-z]{24,128}$/;

/** Where to go after signing in: a dashboard page of this origin, nothing else. */
function safeNext(next: string | undefined): string {
	return next && /^\/dashboard(\/[A-Za-z0-9_\-/?=&%.]*)?$/.test(next) && !next.startsWith("//")
		? next
		: "/dashboard";
}

type KeyCheck =
	| { ok: true; merchantId: string; livemode: boolean; keyId: string }
	| { ok: false; message: string };

/** The same checks as the API's key authentication: shape, hash lookup, revoked, expired, type. */
async function checkSecretKey(db: D1Database, key: string): Promise<KeyCheck> {
	if (!SECRET_KEY.test(key)) {
		return {
			ok: false,
			message: key.startsWith("pk_")
				? "That is a publishable key. Sign in with a secret key (sk_test_… or sk_live_…)."
				: "That is not a secret key. Paste a key that starts with sk_test_ or sk_live_.",
		};
	}
	const row = await db
		.prepare(
			"SELECT id, merchant_id, type, livemode, expires_at, revoked_at FROM api_keys WHERE hash = ?",
		)
		.bind(await sha256Hex(key))
		.first<{
			id: string;
			merchant_id: string;
			type: string;
			livemode: number;
			expires_at: number | null;
			revoked_at: number | null;
		}>();
	if (!row || row.revoked_at !== null || row.type !== "secret") {
		return { ok: false, message: "Invalid API key." };
	}
	if (row.expires_at !== null && row.expires_at <= Math.floor(Date.now() / 1000)) {
		return { ok: false, message: "This API key has expired. Sign in with its replacement." };
	}
	return { ok: true, merchantId: row.merchant_id, livemode: row.livemode === 1, keyId: row.id };
}

function SignInForm(props: { next: string; mode: string | undefined; error?: string }) {
	const mode = props.mode === "live" ? "live" : props.mode === "test" ? "test" : null;
	return (
		<section class="signin card">
			<h1>Sign in to the dashboard</h1>
			{props.error ? (
				<p class="notice error" role="alert" id="sign-in-error">
					{props.error}
				</p>
			) : null}
			<p class="muted">
				{mode
					? `Paste your ${mode}-mode secret key (sk_${mode}_…) to see ${mode} mode.`
					: "Paste a secret key: sk_test_… opens test mode, sk_live_… live mode."}{" "}
				The key is checked once and never stored in your browser.
			</p>
			<form method="post" action="/dashboard/sign-in">
				<input type="hidden" name="next" value={props.next} />
				<label for="secret-key">Secret key</label>
				<input
					id="secret-key"
					name="secret_key"
					type="password"
					autocomplete="off"
					spellcheck={false}
					required
					placeholder={`sk_${mode ?? "test"}_…`}
				/>
				<button type="submit">Sign in</button>
			</form>
		</section>
	);
}

async function refuse(c: DashboardContext, next: string, message: string) {
	// Failed sign-ins count against the same per-IP limit as failed API authentication.
	const limiter = c.env.AUTH_FAILURE_RATE_LIMITER;
	const ip = c.req.header("CF-Connecting-IP");
	if (limiter && ip !== undefined) {
		const { success } = await limiter.limit({ key: ip });
		if (!success) {
			c.header("Retry-After", "60");
			return renderPage(
				c,
				{ title: "Too many attempts", session: null, status: 429 },
				<SignInForm
					next={next}
					mode={undefined}
					error="Too many failed sign-ins from this network. Wait a minute, then try again."
				/>,
			);
		}
	}
	return renderPage(
		c,
		{ title: "Sign in", session: null, status: 401 },
		<SignInForm next={next} mode={undefined} error={message} />,
	);
}

/**
 * Sign-in exchanges a secret key for a short-lived session cookie (the key itself is never kept);
 * sign-out revokes the session's id.
 */
export function registerSignIn(app: DashboardApp): void {
	app.get("/dashboard/sign-in", async (c) => {
		const next = safeNext(c.req.query("next"));
		const mode = c.req.query("mode");
		const session = await readDashboardSession(c);
		// Signed in already, and not asking for the other mode: straight in.
		if (session && (mode === undefined || (mode === "live") === session.livemode)) {
			return seeOther(c, next);
		}
		return renderPage(
			c,
			{ title: "Sign in", session: null },
			<SignInForm next={next} mode={mode} />,
		);
	});

	app.post("/dashboard/sign-in", async (c) => {
		if (!sameOrigin(c)) throw crossOrigin();
		const form = await readForm(c);
		const next = safeNext(field(form, "next"));
		const key = field(form, "secret_key");
		if (!key) return refuse(c, next, "Paste your secret key.");
		const checked = await checkSecretKey(c.env.DB, key);
		if (!checked.ok) return refuse(c, next, checked.message);
		// A new sign-in replaces the browser's previous session (one mode at a time).
		await revokeDashboardSession(c);
		const session = await startDashboardSession(c, checked);
		await auditApiChange(c.env, checked, "dashboard.signed_in", null, { jti: session.jti });
		log("info", "dashboard sign-in", { merchant: checked.merchantId, key: checked.keyId });
		return seeOther(c, next);
	});

	app.post("/dashboard/sign-out", async (c) => {
		if (!sameOrigin(c)) throw crossOrigin();
		const session = await readDashboardSession(c);
		if (session && !csrfMatches(session, field(await readForm(c), "csrf"))) {
			throw new PageError(403, "Form expired", "The form has expired; reload the page.");
		}
		await endDashboardSession(c);
		return seeOther(c, "/dashboard/sign-in");
	});
}
