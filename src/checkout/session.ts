import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { errors as joseErrors, SignJWT } from "jose";
import { isSessionRevoked, revokeCheckoutSession } from "../db/sessions";
import type { Env } from "../env";
import { verifySessionToken } from "../lib/jwt";
import type { AppEnv } from "../types";

/** The payer's session cookie: a signed JWT, scoped to the checkout pages. */
export const SESSION_COOKIE = "sp_session";
export const SESSION_TTL_SECONDS = 12 * 60 * 60;
const AUDIENCE = "checkout";
/**
 * The JWT type header: SESSION_SECRET signs other checkout tokens too, and a token of another
 * kind must never pass for a payer session.
 */
const TYPE = "payer-session+jwt";

export interface PayerSession {
	/** The customer signed in. */
	customer: string;
	merchant: string;
	livemode: boolean;
	/** The wallet that signed in. */
	wallet: string;
	jti: string;
	/** Unix seconds. */
	expiresAt: number;
}

function secretKey(env: Env): Uint8Array {
	return new TextEncoder().encode(env.SESSION_SECRET);
}

const COOKIE_OPTIONS = {
	httpOnly: true,
	// Browsers accept Secure cookies from http://localhost and 127.0.0.1, so local checkouts work.
	secure: true,
	sameSite: "Lax",
	path: "/checkout",
} as const;

/** Signs a session for `customer` and sets it as the `sp_session` cookie. */
export async function startSession(
	c: Context<AppEnv>,
	session: Omit<PayerSession, "jti" | "expiresAt">,
): Promise<PayerSession> {
	const now = Math.floor(Date.now() / 1000);
	const full: PayerSession = {
		...session,
		jti: crypto.randomUUID(),
		expiresAt: now + SESSION_TTL_SECONDS,
	};
	const token = await new SignJWT({
		merchant: full.merchant,
		livemode: full.livemode,
		wallet: full.wallet,
	})
		.setProtectedHeader({ alg: "HS256", typ: TYPE })
		.setSubject(full.customer)
		.setIssuer(c.env.PUBLIC_BASE_URL)
		.setAudience(AUDIENCE)
		.setIssuedAt(now)
		.setExpirationTime(full.expiresAt)
		.setJti(full.jti)
		.sign(secretKey(c.env));
	setCookie(c, SESSION_COOKIE, token, { ...COOKIE_OPTIONS, maxAge: SESSION_TTL_SECONDS });
	return full;
}

/**
 * The session in the request's cookie, or null when there is none or it is invalid, expired or
 * revoked. A forged, expired or foreign token is simply no session.
 */
export async function readSession(c: Context<AppEnv>): Promise<PayerSession | null> {
	const token = getCookie(c, SESSION_COOKIE);
	if (!token) return null;
	let session: PayerSession;
	try {
		const payload = await verifySessionToken(c.env, token, secretKey(c.env), TYPE, AUDIENCE);
		const { sub, jti, exp, merchant, livemode, wallet } = payload;
		if (
			typeof sub !== "string" ||
			typeof jti !== "string" ||
			typeof exp !== "number" ||
			typeof merchant !== "string" ||
			typeof livemode !== "boolean" ||
			typeof wallet !== "string"
		) {
			return null;
		}
		session = { customer: sub, merchant, livemode, wallet, jti, expiresAt: exp };
	} catch (err) {
		if (err instanceof joseErrors.JOSEError) return null;
		throw err;
	}
	return (await isSessionRevoked(c.env.DB, session.jti)) ? null : session;
}

/** Ends the session: its id is refused until the token would have expired anyway. */
export async function endSession(c: Context<AppEnv>): Promise<void> {
	const session = await readSession(c);
	deleteCookie(c, SESSION_COOKIE, COOKIE_OPTIONS);
	if (!session) return;
	const now = Math.floor(Date.now() / 1000);
	await revokeCheckoutSession(c.env.DB, session, now);
}
