import { jwtVerify, SignJWT } from "jose";

/**
 * The checkout page's authority over its own payment: a short JWT (HS256, SESSION_SECRET) naming
 * one payment, its merchant and mode. It lets the page re-quote through the public API without
 * any merchant key in the page, and it is worthless for every other payment and endpoint.
 */
const AUDIENCE = "checkout:payment";

export interface CheckoutTokenClaims {
	paymentId: string;
	merchantId: string;
	livemode: boolean;
}

function key(secret: string): Uint8Array {
	return new TextEncoder().encode(secret);
}

export async function signCheckoutToken(
	secret: string,
	claims: CheckoutTokenClaims,
	expiresAt: number,
): Promise<string> {
	return new SignJWT({ mch: claims.merchantId, live: claims.livemode })
		.setProtectedHeader({ alg: "HS256", typ: "JWT" })
		.setSubject(claims.paymentId)
		.setAudience(AUDIENCE)
		.setIssuedAt()
		.setExpirationTime(expiresAt)
		.sign(key(secret));
}

/** The claims of a valid token, or null for anything forged, expired or malformed. */
export async function verifyCheckoutToken(
	secret: string,
	token: string,
): Promise<CheckoutTokenClaims | null> {
	try {
		const { payload } = await jwtVerify(token, key(secret), {
			audience: AUDIENCE,
			algorithms: ["HS256"],
		});
		if (typeof payload.sub !== "string" || typeof payload.mch !== "string") return null;
		return { paymentId: payload.sub, merchantId: payload.mch, livemode: payload.live === true };
	} catch {
		return null;
	}
}

/** A JWT's shape (three base64url parts), as opposed to an API key. */
export function looksLikeJwt(token: string): boolean {
	return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token);
}
