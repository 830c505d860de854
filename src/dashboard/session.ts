import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { errors as joseErrors, SignJWT } from "jose";
import {
	bumpRecoveryGeneration,
	bumpSessionGeneration,
	keySessionState,
	personSessionState,
	revokeDashboardSessionRecord,
	sessionGenerations,
	upsertStepUp,
} from "../db/sessions";
import { isRole, type Role } from "../domain/roles";
import { timingSafeEqualText } from "../lib/crypto";
import { verifySessionToken } from "../lib/jwt";
import type { AppEnv } from "../types";

/** The merchant's dashboard session: a signed JWT in a cookie scoped to /dashboard. */
export const DASHBOARD_COOKIE = "sp_dashboard";
export const DASHBOARD_SESSION_TTL_SECONDS = 8 * 60 * 60;
const AUDIENCE = "dashboard";
/** A token of another kind signed with SESSION_SECRET's material must never pass for this one. */
const TYPE = "dashboard-session+jwt";

/** Who signed in: a person with a passkey (or a recovery code), or a test-mode secret key. */
export type SessionSubject =
	| {
			kind: "user";
			userId: string;
			/** The passkey signed in with; null for a recovery-code sign-in. */
			passkeyId: string | null;
			/** Unix seconds of the recovery-code sign-in this session came from, if it did. */
			recoveredAt?: number | null;
	  }
	| { kind: "key"; keyId: string };

export interface DashboardSession {
	merchantId: string;
	livemode: boolean;
	subject: SessionSubject;
	/** The person's role at the merchant, read from the membership on every request. */
	role: Role;
	/** The person's email (null for a key session). */
	email: string | null;
	/** Unix seconds of the last passkey assertion in this session (sign-in or step-up), or null. */
	steppedUpAt: number | null;
	jti: string;
	/** Unix seconds. */
	expiresAt: number;
	/** Bound to this session: every state-changing form carries it. */
	csrf: string;
}

/**
 * A secret-key session (test mode only) acts as an admin: it can do what the key can do through the
 * API, but never manage the team nor pass a step-up (it has no passkey to assert).
 */
export const KEY_SESSION_ROLE: Role = "admin";

type Claims = Pick<
	DashboardSession,
	"merchantId" | "livemode" | "subject" | "jti" | "expiresAt"
> & {
	role: Role | null;
	/** The person's session and recovery generations when the session was signed (absent: 0). */
	gen: number;
	rgen: number;
};

const keys = new Map<string, Promise<CryptoKey>>();
const encoder = new TextEncoder();

/**
 * An HMAC key derived from SESSION_SECRET for dashboard sessions only: a payer session or a
 * checkout token (signed with the secret itself) does not verify under it, nor the reverse.
 */
function derivedKey(secret: string): Promise<CryptoKey> {
	let key = keys.get(secret);
	if (!key) {
		key = (async () => {
			const root = await crypto.subtle.importKey(
				"raw",
				encoder.encode(secret),
				{ name: "HMAC", hash: "SHA-256" },
				false,
				["sign"],
			);
			const bytes = await crypto.subtle.sign(
				"HMAC",
				root,
				encoder.encode("streampayments/dashboard-session/v1"),
			);
			return crypto.subtle.importKey("raw", bytes, { name: "HMAC", hash: "SHA-256" }, false, [
				"sign",
				"verify",
			]);
		})();
		keys.set(secret, key);
	}
	return key;
}

function base64Url(bytes: ArrayBuffer): string {
	let text = "";
	for (const b of new Uint8Array(bytes)) text += String.fromCharCode(b);
	return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

async function csrfFor(secret: string, jti: string): Promise<string> {
	const mac = await crypto.subtle.sign(
		"HMAC",
		await derivedKey(secret),
		encoder.encode(`csrf:${jti}`),
	);
	return base64Url(mac);
}

function isHttps(c: Context<AppEnv>): boolean {
	return (
		new URL(c.req.url).protocol === "https:" || new URL(c.env.PUBLIC_BASE_URL).protocol === "https:"
	);
}

function cookieOptions(c: Context<AppEnv>) {
	return {
		httpOnly: true,
		secure: isHttps(c),
		sameSite: "Strict",
		path: "/dashboard",
	} as const;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/**
 * Signs a session for a person (or, in test mode, a secret key) at one merchant in one mode and
 * sets it as the dashboard cookie. The token names the user and the role at sign-in; the role that
 * counts is the membership's at each request.
 */
export async function startDashboardSession(
	c: Context<AppEnv>,
	who: { merchantId: string; livemode: boolean; subject: SessionSubject; role: Role },
): Promise<{ jti: string; expiresAt: number }> {
	const now = nowSeconds();
	const jti = crypto.randomUUID();
	const expiresAt = now + DASHBOARD_SESSION_TTL_SECONDS;
	// A person's session carries their current generations: bumping one ends the sessions before.
	const generations =
		who.subject.kind === "user" ? await sessionGenerations(c.env.DB, who.subject.userId) : null;
	const claims =
		who.subject.kind === "user"
			? {
					livemode: who.livemode,
					usr: who.subject.userId,
					role: who.role,
					psk: who.subject.passkeyId,
					gen: generations?.gen ?? 0,
					rgen: generations?.rgen ?? 0,
					...(who.subject.passkeyId === null && typeof who.subject.recoveredAt === "number"
						? { rat: who.subject.recoveredAt }
						: {}),
				}
			: { livemode: who.livemode, key: who.subject.keyId };
	const token = await new SignJWT(claims)
		.setProtectedHeader({ alg: "HS256", typ: TYPE })
		.setSubject(who.merchantId)
		.setIssuer(c.env.PUBLIC_BASE_URL)
		.setAudience(AUDIENCE)
		.setIssuedAt(now)
		.setExpirationTime(expiresAt)
		.setJti(jti)
		.sign(await derivedKey(c.env.SESSION_SECRET));
	setCookie(c, DASHBOARD_COOKIE, token, {
		...cookieOptions(c),
		maxAge: DASHBOARD_SESSION_TTL_SECONDS,
	});
	return { jti, expiresAt };
}

/** The claims of the cookie's token when it verifies (signature, type, issuer, audience, expiry). */
async function verifiedClaims(c: Context<AppEnv>): Promise<Claims | null> {
	const token = getCookie(c, DASHBOARD_COOKIE);
	if (!token) return null;
	try {
		const payload = await verifySessionToken(
			c.env,
			token,
			await derivedKey(c.env.SESSION_SECRET),
			TYPE,
			AUDIENCE,
		);
		const { sub, jti, exp, livemode, key, usr, role, psk, gen, rgen, rat } = payload;
		if (
			typeof sub !== "string" ||
			typeof jti !== "string" ||
			typeof exp !== "number" ||
			typeof livemode !== "boolean"
		) {
			return null;
		}
		const base = {
			merchantId: sub,
			livemode,
			jti,
			expiresAt: exp,
			gen: typeof gen === "number" ? gen : 0,
			rgen: typeof rgen === "number" ? rgen : 0,
		};
		if (typeof usr === "string" && isRole(role) && (psk === null || typeof psk === "string")) {
			const recoveredAt = psk === null && typeof rat === "number" ? rat : null;
			return { ...base, subject: { kind: "user", userId: usr, passkeyId: psk, recoveredAt }, role };
		}
		if (typeof key === "string")
			return { ...base, subject: { kind: "key", keyId: key }, role: null };
		return null;
	} catch (err) {
		if (err instanceof joseErrors.JOSEError) return null;
		throw err;
	}
}

/**
 * The session in the request's cookie, or null: no cookie, a forged, expired or revoked token; for
 * a person, a membership that is gone (removed from the team, or the user removed) or a passkey
 * signed in with that has been removed; for a key, a key since revoked, expired or not the
 * merchant's. One query checks the revocation list and the rest together.
 */
export async function readDashboardSession(c: Context<AppEnv>): Promise<DashboardSession | null> {
	const claims = await verifiedClaims(c);
	if (!claims) return null;
	const csrf = await csrfFor(c.env.SESSION_SECRET, claims.jti);
	if (claims.subject.kind === "user") {
		const row = await personSessionState(c.env.DB, {
			jti: claims.jti,
			userId: claims.subject.userId,
			merchantId: claims.merchantId,
			passkeyId: claims.subject.passkeyId,
		});
		if (!row || row.session_revoked === 1 || row.passkey_kept !== 1) return null;
		// Ended by "sign out everywhere else" (or a recovery registration), or, for a recovery-code
		// session, by new recovery codes.
		if (row.session_generation !== claims.gen) return null;
		if (claims.subject.passkeyId === null && row.recovery_generation !== claims.rgen) return null;
		const { gen: _gen, rgen: _rgen, ...rest } = claims;
		return {
			...rest,
			role: row.role,
			email: row.email,
			steppedUpAt: row.stepped_up_at,
			csrf,
		};
	}
	const row = await keySessionState(c.env.DB, { jti: claims.jti, keyId: claims.subject.keyId });
	if (
		!row ||
		row.session_revoked === 1 ||
		row.merchant_id !== claims.merchantId ||
		// Key sessions are a test-mode convenience only; a live key never opens the dashboard.
		row.livemode !== 0 ||
		claims.livemode ||
		row.type !== "secret" ||
		row.revoked_at !== null ||
		(row.expires_at !== null && row.expires_at <= nowSeconds())
	) {
		return null;
	}
	const { gen: _gen, rgen: _rgen, ...rest } = claims;
	return { ...rest, role: KEY_SESSION_ROLE, email: null, steppedUpAt: null, csrf };
}

/** Records a passkey assertion in this session: sensitive actions are allowed for five minutes. */
export async function recordStepUp(
	db: D1Database,
	session: { jti: string; expiresAt: number },
	at = nowSeconds(),
): Promise<void> {
	await upsertStepUp(db, session, at);
}

/**
 * Revokes the request's session, if any: its id is refused until the token would have expired.
 * The cookie is left to the caller (a new sign-in replaces it).
 */
export async function revokeDashboardSession(c: Context<AppEnv>): Promise<void> {
	const claims = await verifiedClaims(c);
	if (!claims) return;
	await revokeDashboardSessionRecord(c.env.DB, claims, nowSeconds());
}

/** Signs out: revokes the session and clears the cookie. */
export async function endDashboardSession(c: Context<AppEnv>): Promise<void> {
	await revokeDashboardSession(c);
	if (getCookie(c, DASHBOARD_COOKIE) !== undefined)
		deleteCookie(c, DASHBOARD_COOKIE, cookieOptions(c));
}

/** The form's CSRF token matches the session's (constant-time). */
export function csrfMatches(session: DashboardSession, submitted: string | undefined): boolean {
	return submitted !== undefined && timingSafeEqualText(submitted, session.csrf);
}

/**
 * The request comes from a page of the gateway itself: its Origin is the gateway's (as configured,
 * or as this request reached it). A missing or `null` Origin is refused: browsers send one on
 * every POST from the dashboard's pages (their referrer policy is same-origin).
 */
export function sameOrigin(c: Context<AppEnv>): boolean {
	const origin = c.req.header("Origin");
	if (!origin || origin === "null") return false;
	return origin === new URL(c.req.url).origin || origin === new URL(c.env.PUBLIC_BASE_URL).origin;
}

/** How long after a recovery-code sign-in its session may register a passkey without a step-up. */
export const RECOVERY_REGISTRATION_WINDOW_SECONDS = 10 * 60;

/**
 * A session opened with a recovery code within the window, with no passkey registered since: the
 * one case where adding a passkey needs no step-up (the person lost their passkeys).
 */
export function inRecoveryWindow(session: DashboardSession, now = nowSeconds()): boolean {
	return (
		session.subject.kind === "user" &&
		session.subject.passkeyId === null &&
		typeof session.subject.recoveredAt === "number" &&
		now - session.subject.recoveredAt <= RECOVERY_REGISTRATION_WINDOW_SECONDS
	);
}

/**
 * Ends every other session of the request's person (their generation moves on) and re-signs this
 * one, as `subject` (by default the same), keeping its recent step-up if it had one.
 */
export async function endOtherSessions(
	c: Context<AppEnv>,
	session: DashboardSession,
	subject: SessionSubject = session.subject,
	keepStepUp = true,
): Promise<void> {
	if (session.subject.kind !== "user") return;
	await bumpSessionGeneration(c.env.DB, session.subject.userId);
	await revokeDashboardSession(c);
	const next = await startDashboardSession(c, {
		merchantId: session.merchantId,
		livemode: session.livemode,
		subject,
		role: session.role,
	});
	if (keepStepUp && session.steppedUpAt !== null)
		await recordStepUp(c.env.DB, next, session.steppedUpAt);
}

/**
 * Ends every session of the person opened with a recovery code, but the request's own (re-signed
 * under the new generation) if it is one.
 */
export async function endRecoverySessions(
	c: Context<AppEnv>,
	session: DashboardSession,
): Promise<void> {
	if (session.subject.kind !== "user") return;
	await bumpRecoveryGeneration(c.env.DB, session.subject.userId);
	if (session.subject.passkeyId !== null) return;
	await revokeDashboardSession(c);
	const next = await startDashboardSession(c, {
		merchantId: session.merchantId,
		livemode: session.livemode,
		subject: session.subject,
		role: session.role,
	});
	if (session.steppedUpAt !== null) await recordStepUp(c.env.DB, next, session.steppedUpAt);
}
