import {
	type AuthenticationResponseJSON,
	generateAuthenticationOptions,
	generateRegistrationOptions,
	type PublicKeyCredentialCreationOptionsJSON,
	type PublicKeyCredentialRequestOptionsJSON,
	type RegistrationResponseJSON,
	verifyAuthenticationResponse,
	verifyRegistrationResponse,
} from "@simplewebauthn/server";
import {
	deleteWebauthnChallenge,
	insertWebauthnChallenge,
	type PasskeyRow,
	passkeyByCredential,
	recordPasskeyUse,
} from "../db/passkeys";
import { newId } from "../domain/ids";
import { fromBase64, toBase64Url } from "../lib/crypto";

// The passkeys' rows are read and written in src/db/passkeys.ts.

// Passkeys (WebAuthn) through @simplewebauthn/server on the Workers runtime's Web Crypto.
// Challenges are made here, kept in D1, used once (deleted as they are read) and live 5 minutes.

export const PASSKEY_CHALLENGE_TTL_SECONDS = 5 * 60;
const RP_NAME = "StreamPayments";
const now = () => Math.floor(Date.now() / 1000);

export type ChallengePurpose = "register" | "sign_in" | "step_up";

/** Where the ceremony happens: the page's origin and its host as the relying party id. */
export interface RelyingParty {
	origin: string;
	rpID: string;
}

export function relyingPartyOf(requestUrl: string): RelyingParty {
	const url = new URL(requestUrl);
	return { origin: url.origin, rpID: url.hostname };
}

async function storeChallenge(
	db: D1Database,
	challenge: string,
	purpose: ChallengePurpose,
	subject: Record<string, unknown>,
): Promise<string> {
	const id = newId("challenge");
	await insertWebauthnChallenge(
		db,
		{
			id,
			challenge,
			purpose,
			subject: JSON.stringify(subject),
			expiresAt: now() + PASSKEY_CHALLENGE_TTL_SECONDS,
		},
		now(),
	);
	return id;
}

/**
 * Takes a challenge out of the store: it is deleted as it is read, so it answers one ceremony
 * only, whether or not that ceremony succeeds. Null when unknown, used, expired or of another purpose.
 */
export async function takeChallenge(
	db: D1Database,
	id: string,
	purpose: ChallengePurpose,
): Promise<{ challenge: string; subject: Record<string, unknown> } | null> {
	const row = await deleteWebauthnChallenge(db, id);
	if (!row || row.purpose !== purpose || row.expires_at <= now()) return null;
	return { challenge: row.challenge, subject: JSON.parse(row.subject) };
}

export async function registrationOptions(
	db: D1Database,
	rp: RelyingParty,
	user: { id: string; email: string },
	existing: { credential_id: string }[],
	subject: Record<string, unknown>,
): Promise<{ challenge_id: string; options: PublicKeyCredentialCreationOptionsJSON }> {
	const options = await generateRegistrationOptions({
		rpName: RP_NAME,
		rpID: rp.rpID,
		userName: user.email,
		userID: new Uint8Array(new TextEncoder().encode(user.id)),
		attestationType: "none",
		excludeCredentials: existing.map((p) => ({ id: p.credential_id })),
		// A passkey: discoverable, so sign-in needs no email, and verified on the device.
		authenticatorSelection: { residentKey: "required", userVerification: "required" },
		timeout: PASSKEY_CHALLENGE_TTL_SECONDS * 1000,
	});
	const challenge_id = await storeChallenge(db, options.challenge, "register", subject);
	return { challenge_id, options };
}

/** Verifies a registration and returns the new passkey's row (not yet stored). */
export async function verifyRegistration(
	rp: RelyingParty,
	challenge: string,
	userId: string,
	response: RegistrationResponseJSON,
	name: string,
): Promise<PasskeyRow | null> {
	const result = await verifyRegistrationResponse({
		response,
		expectedChallenge: challenge,
		expectedOrigin: rp.origin,
		expectedRPID: rp.rpID,
		requireUserVerification: true,
	}).catch(() => null);
	if (!result?.verified) return null;
	const { credential, credentialBackedUp } = result.registrationInfo;
	return {
		id: newId("passkey"),
		user_id: userId,
		credential_id: credential.id,
		public_key: toBase64Url(credential.publicKey),
		counter: credential.counter,
		transports: JSON.stringify(credential.transports ?? []),
		name,
		backed_up: credentialBackedUp ? 1 : 0,
		created: now(),
		last_used_at: null,
	};
}

/** Options for an assertion: any of the user's passkeys, or (no user) any discoverable one. */
export async function authenticationOptions(
	db: D1Database,
	rp: RelyingParty,
	purpose: "sign_in" | "step_up",
	allow: PasskeyRow[] | null,
	subject: Record<string, unknown>,
): Promise<{ challenge_id: string; options: PublicKeyCredentialRequestOptionsJSON }> {
	const options = await generateAuthenticationOptions({
		rpID: rp.rpID,
		userVerification: "required",
		timeout: PASSKEY_CHALLENGE_TTL_SECONDS * 1000,
		...(allow ? { allowCredentials: allow.map((p) => ({ id: p.credential_id })) } : {}),
	});
	const challenge_id = await storeChallenge(db, options.challenge, purpose, subject);
	return { challenge_id, options };
}

/**
 * Verifies an assertion by one of the stored passkeys and records its new signature counter and
 * use. Null when the passkey is unknown or the assertion does not verify.
 */
export async function verifyAssertion(
	db: D1Database,
	rp: RelyingParty,
	challenge: string,
	response: AuthenticationResponseJSON,
): Promise<{ passkey: PasskeyRow | null; verified: boolean }> {
	const passkey = await passkeyByCredential(db, response.id);
	if (!passkey) return { passkey: null, verified: false };
	const result = await verifyAuthenticationResponse({
		response,
		expectedChallenge: challenge,
		expectedOrigin: rp.origin,
		expectedRPID: rp.rpID,
		requireUserVerification: true,
		credential: {
			id: passkey.credential_id,
			publicKey: fromBase64(passkey.public_key),
			counter: passkey.counter,
			transports: JSON.parse(passkey.transports),
		},
	}).catch(() => null);
	if (!result?.verified) return { passkey, verified: false };
	await recordPasskeyUse(db, passkey.id, result.authenticationInfo.newCounter, now());
	return { passkey, verified: true };
}
