import { type JWTPayload, jwtVerify } from "jose";
import type { Env } from "../env";

/**
 * Verifies a session cookie's token, as the checkout's and the dashboard's sessions both do: HS256
 * only, issued by this deployment for `audience` with type `typ`, and carrying a subject, an id
 * and an expiry. Throws (as jose does) when any of that fails.
 */
export async function verifySessionToken(
	env: Env,
	token: string,
	key: Uint8Array | CryptoKey,
	typ: string,
	audience: string,
): Promise<JWTPayload> {
	const { payload } = await jwtVerify(token, key, {
		algorithms: ["HS256"],
		typ,
		issuer: env.PUBLIC_BASE_URL,
		audience,
		requiredClaims: ["sub", "jti", "exp"],
	});
	return payload;
}
