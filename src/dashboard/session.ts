import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { errors as joseErrors, jwtVerify, SignJWT } from "jose";
import { timingSafeEqualText } from "../lib/crypto";
import type { AppEnv } from "../types";

/** The merchant's dashboard session: a signed JWT in a cookie scoped to /dashboard. */
export const DASHBOARD_COOKIE = "sp_dashboard";
export const DASHBOARD_SESSION_TTL_SECONDS = 8 * 60 * 60;
const AUDIENCE = "dashboard";
/** A token of another kind signed with SESSION_SECRET's material must never pass for this one. */
const TYPE = "dashboard-session+jwt";

export interface DashboardSession {
	merchantId: string;
	livemode: boolean;
	/** The API key signed in with: revoking or expiring it ends the session. */
	keyId: string;
	jti: string;
	/** Unix seconds. */
	expiresAt: number;
	/** Bound to this session: every state-changing form carries it. */
	csrf: string;
}

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

/** Signs a session for the key's merchant and mode and sets it as the dashboard cookie. */
export async function startDashboardSession(
	c: Context<AppEnv>,
	who: { merchantId: string; livemode: boolean; keyId: string },
): Promise<DashboardSession> {
	const now = nowSeconds();
	const jti = crypto.randomUUID();
	const expiresAt = now + DASHBOARD_SESSION_TTL_SECONDS;
	const token = await new SignJWT({ livemode: who.livemode, key: who.keyId })
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
	return { ...who, jti, expiresAt, csrf: await csrfFor(c.env.SESSION_SECRET, jti) };
}

/** The claims of the cookie's token when it verifies (signature, type, issuer, audience, expiry). */
async function verifiedClaims(c: Context<AppEnv>): Promise<Omit<DashboardSession, "csrf"> | null> {
	const token = getCookie(c, DASHBOARD_COOKIE);
	if (!token) return null;
	try {
		const { payload } = await jwtVerify(token, await derivedKey(c.env.SESSION_SECRET), {
			algorithms: ["HS256"],
			typ: TYPE,
			issuer: c.env.PUBLIC_BASE_URL,
			audience: AUDIENCE,
			requiredClaims: ["sub", "jti", "exp"],
		});
		const { sub, jti, exp, livemode, key } = payload;
		if (
			typeof sub !== "string" ||
			typeof jti !== "string" ||
			typeof exp !== "number" ||
			typeof livemode !== "boolean" ||
			typeof key !== "string"
		) {
			return null;
		}
		return { merchantId: sub, livemode, keyId: key, jti, expiresAt: exp };
	} catch (err) {
		if (err instanceof joseErrors.JOSEError) return null;
		throw err;
	}
}

/**
 * The session in the request's cookie, or null: no cookie, a forged, expired or revoked token, or
 * a key that has since been revoked, has expired (a rolled key past its grace) or is not the
 * merchant's. One query checks the revocation list and the key together.
 */
export async function readDashboardSession(c: Context<AppEnv>): Promise<DashboardSession | null> {
	const claims = await verifiedClaims(c);
	if (!claims) return null;
	const row = await c.env.DB.prepare(
		`SELECT merchant_id, livemode, type, revoked_at, expires_at,
		   EXISTS (SELECT 1 FROM revoked_sessions WHERE jti = ?1) AS session_revoked
		 FROM api_keys WHERE id = ?2`,
	)
		.bind(claims.jti, claims.keyId)
		.first<{
			merchant_id: string;
			livemode: number;
			type: string;
			revoked_at: number | null;
			expires_at: number | null;
			session_revoked: number;
		}>();
	if (
		!row ||
		row.session_revoked === 1 ||
		row.merchant_id !== claims.merchantId ||
		(row.livemode === 1) !== claims.livemode ||
		row.type !== "secret" ||
		row.revoked_at !== null ||
		(row.expires_at !== null && row.expires_at <= nowSeconds())
	) {
		return null;
	}
	return { ...claims, csrf: await csrfFor(c.env.SESSION_SECRET, claims.jti) };
}

/**
 * Revokes the request's session, if any: its id is refused until the token would have expired.
 * The cookie is left to the caller (a new sign-in replaces it).
 */
export async function revokeDashboardSession(c: Context<AppEnv>): Promise<void> {
	const claims = await verifiedClaims(c);
	if (!claims) return;
	await c.env.DB.batch([
		c.env.DB.prepare("INSERT OR IGNORE INTO revoked_sessions (jti, expires_at) VALUES (?, ?)").bind(
			claims.jti,
			claims.expiresAt,
		),
		// Housekeeping on the way: revocations of tokens that have expired are no longer needed.
		c.env.DB.prepare("DELETE FROM revoked_sessions WHERE expires_at < ?").bind(nowSeconds()),
	]);
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
