import { signUpOpen } from "../config";
import { findApiKeyForSignIn } from "../db/api-keys";
import { membershipsOf } from "../db/members";
import { sha256Hex } from "../lib/crypto";
import { log } from "../lib/log";
import { auditAccount, auditApiChange } from "../services/audit";
import { passkeyOrigin } from "../services/invitations";
import { spendRecoveryCode } from "../services/recovery-codes";
import { findUserByEmail, hasHiddenCharacters, normalEmail } from "../services/team";
import { attemptAllowed } from "./auth-limits";
import {
	type DashboardApp,
	type DashboardContext,
	field,
	PageError,
	readForm,
	safeNext,
	seeOther,
} from "./context";
import { renderPage } from "./layout";
import {
	csrfMatches,
	endDashboardSession,
	KEY_SESSION_ROLE,
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

type KeyCheck =
	| { ok: true; merchantId: string; livemode: boolean; keyId: string }
	| { ok: false; message: string };

/** The same checks as the API's key authentication, and test mode only. */
async function checkSecretKey(db: D1Database, key: string): Promise<KeyCheck> {
	if (!SECRET_KEY.test(key)) {
		return {
			ok: false,
			message: key.startsWith("pk_")
				? "That is a publishable key. Test mode opens with a test secret key (sk_test_…)."
				: "That is not a secret key. Paste a key that starts with sk_test_.",
		};
	}
	if (key.startsWith("sk_live_")) {
		return {
			ok: false,
			message:
				"Live mode is opened with a passkey, never with a secret key. Sign in with your passkey.",
		};
	}
	const row = await findApiKeyForSignIn(db, await sha256Hex(key));
	if (!row || row.revoked_at !== null || row.type !== "secret" || row.livemode !== 0) {
		return { ok: false, message: "Invalid API key." };
	}
	if (row.expires_at !== null && row.expires_at <= Math.floor(Date.now() / 1000)) {
		return { ok: false, message: "This API key has expired. Sign in with its replacement." };
	}
	return { ok: true, merchantId: row.merchant_id, livemode: false, keyId: row.id };
}

function SignInForm(props: {
	next: string;
	error?: string;
	ipHost: string | null;
	signUp: boolean;
}) {
	return (
		<section class="signin card">
			<h1>Sign in to the dashboard</h1>
			{props.error ? (
				<p class="notice error" role="alert" id="sign-in-error">
					{props.error}
				</p>
			) : (
				<p class="notice error" role="alert" id="sign-in-error" hidden />
			)}
			{props.ipHost ? (
				<p class="notice" id="use-localhost">
					Passkeys need a host name, not an IP address:{" "}
					<a href={`${props.ipHost}/dashboard/sign-in`}>open the dashboard on {props.ipHost}</a>.
				</p>
			) : null}
			<form
				method="post"
				action="/dashboard/sign-in/passkey"
				id="passkey-sign-in"
				data-passkey="sign-in"
			>
				<input type="hidden" name="next" value={props.next} />
				<button type="submit" id="passkey-sign-in-button">
					Sign in with a passkey
				</button>
			</form>
			{props.signUp ? (
				<p class="muted">
					New to StreamPayments? <a href="/dashboard/sign-up">Create an account</a>.
				</p>
			) : null}
			<details id="recovery">
				<summary>Lost your passkey? Use a recovery code</summary>
				<form method="post" action="/dashboard/recovery">
					<input type="hidden" name="next" value={props.next} />
					<label for="recovery-email">Email</label>
					<input id="recovery-email" name="email" type="email" autocomplete="username" required />
					<label for="recovery-code">Recovery code</label>
					<input id="recovery-code" name="code" autocomplete="off" spellcheck={false} required />
					<button type="submit" class="secondary">
						Sign in with a recovery code
					</button>
				</form>
			</details>
			<details id="test-key">
				<summary>Local convenience: open test mode with a test secret key</summary>
				<p class="muted">
					Test mode only, as the admin role without a person: no team changes and no step-up
					(rolling keys needs a passkey). Live mode always needs a passkey. The key is checked once
					and never stored in your browser.
				</p>
				<form method="post" action="/dashboard/sign-in">
					<input type="hidden" name="next" value={props.next} />
					<label for="secret-key">Test secret key</label>
					<input
						id="secret-key"
						name="secret_key"
						type="password"
						autocomplete="off"
						spellcheck={false}
						required
						placeholder="sk_test_…"
					/>
					<button type="submit" class="secondary">
						Open test mode
					</button>
				</form>
			</details>
		</section>
	);
}

/** The localhost origin to send a browser to when it reached the dashboard by IP address. */
function ipHostOf(c: DashboardContext): string | null {
	const origin = new URL(c.req.url).origin;
	const better = passkeyOrigin(origin);
	return better === origin ? null : better;
}

function signInPage(c: DashboardContext, next: string, status: 200 | 401 | 429, error?: string) {
	return renderPage(
		c,
		{ title: status === 429 ? "Too many attempts" : "Sign in", session: null, status },
		<SignInForm next={next} error={error} ipHost={ipHostOf(c)} signUp={signUpOpen(c.env)} />,
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
			return signInPage(
				c,
				next,
				429,
				"Too many failed sign-ins from this network. Wait a minute, then try again.",
			);
		}
	}
	return signInPage(c, next, 401, message);
}

/**
 * Sign-in: with a passkey (the page's script and /dashboard/auth/*), with a recovery code, or in
 * test mode only with a test secret key (a local convenience). Sign-out revokes the session's id.
 */
export function registerSignIn(app: DashboardApp): void {
	app.get("/dashboard/sign-in", async (c) => {
		const next = safeNext(c.req.query("next"));
		if (await readDashboardSession(c)) return seeOther(c, next);
		return signInPage(c, next, 200);
	});

	app.post("/dashboard/sign-in", async (c) => {
		if (!sameOrigin(c)) throw crossOrigin();
		const form = await readForm(c);
		const next = safeNext(field(form, "next"));
		const key = field(form, "secret_key");
		if (!key) return refuse(c, next, "Paste your test secret key.");
		const checked = await checkSecretKey(c.env.DB, key);
		if (!checked.ok) return refuse(c, next, checked.message);
		// A new sign-in replaces the browser's previous session.
		await revokeDashboardSession(c);
		const session = await startDashboardSession(c, {
			merchantId: checked.merchantId,
			livemode: false,
			subject: { kind: "key", keyId: checked.keyId },
			role: KEY_SESSION_ROLE,
		});
		await auditApiChange(c.env, checked, "dashboard.signed_in", null, {
			jti: session.jti,
			method: "test_secret_key",
		});
		log("info", "dashboard sign-in", { merchant: checked.merchantId, key: checked.keyId });
		return seeOther(c, next);
	});

	app.post("/dashboard/recovery", async (c) => {
		if (!sameOrigin(c)) throw crossOrigin();
		const form = await readForm(c);
		const next = safeNext(field(form, "next"));
		// Compared in the form stored (NFKC, lower-cased, trimmed); an address hiding characters
		// matches no account.
		const typed = field(form, "email") ?? "";
		const email = hasHiddenCharacters(typed) ? "" : normalEmail(typed);
		const code = field(form, "code") ?? "";
		if (!(await attemptAllowed(c, `email:${email}`))) {
			c.header("Retry-After", "60");
			return signInPage(
				c,
				next,
				429,
				"Too many recovery attempts for this account or from this network. Wait a minute, then try again.",
			);
		}
		const user = email && code ? await findUserByEmail(c.env.DB, email) : null;
		const spent = user ? await spendRecoveryCode(c.env.DB, user.id, code) : false;
		const memberships = user ? await membershipsOf(c.env.DB, user.id) : [];
		const membership = memberships[0];
		if (!user || !spent || !membership) {
			for (const m of user ? memberships : []) {
				await auditAccount(c.env, {
					merchant_id: m.merchant_id,
					action: "dashboard.sign_in_failed",
					// Whoever tried is not the account's person: an anonymous actor, the target named.
					actor: { type: "anonymous", id: null },
					object_id: user?.id ?? null,
					details: {
						method: "recovery_code",
						target_user: user?.id ?? null,
						ip: c.req.header("CF-Connecting-IP") ?? null,
					},
				});
			}
			// The same answer whether or not the email has an account.
			return refuse(c, next, "That email and recovery code do not match an unused code.");
		}
		await revokeDashboardSession(c);
		await startDashboardSession(c, {
			merchantId: membership.merchant_id,
			livemode: false,
			subject: {
				kind: "user",
				userId: user.id,
				passkeyId: null,
				recoveredAt: Math.floor(Date.now() / 1000),
			},
			role: membership.role,
		});
		await auditAccount(c.env, {
			merchant_id: membership.merchant_id,
			action: "dashboard.signed_in",
			actor: { type: "user", id: user.id, role: membership.role },
			object_id: user.id,
			details: { method: "recovery_code" },
		});
		return seeOther(c, "/dashboard/account?recovered=1");
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
