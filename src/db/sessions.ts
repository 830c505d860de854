import type { Role } from "../domain/roles";

// Sessions are signed tokens; D1 keeps only what ends one early: `revoked_sessions` (by token id,
// until the token would have expired) and `session_step_ups` (a dashboard session's last passkey
// assertion), beside the generations in `users`.

/** Whether the token id has been revoked. */
export async function isSessionRevoked(db: D1Database, jti: string): Promise<boolean> {
	const revoked = await db
		.prepare("SELECT 1 AS revoked FROM revoked_sessions WHERE jti = ?")
		.bind(jti)
		.first();
	return Boolean(revoked);
}

/** A session's revocation, and housekeeping: revocations of tokens that have expired go. */
function revocationStatements(
	db: D1Database,
	session: { jti: string; expiresAt: number },
	now: number,
): D1PreparedStatement[] {
	return [
		db
			.prepare("INSERT OR IGNORE INTO revoked_sessions (jti, expires_at) VALUES (?, ?)")
			.bind(session.jti, session.expiresAt),
		db.prepare("DELETE FROM revoked_sessions WHERE expires_at < ?").bind(now),
	];
}

/** Revokes a checkout session, dropping revocations of tokens that have expired on the way. */
export async function revokeCheckoutSession(
	db: D1Database,
	session: { jti: string; expiresAt: number },
	now: number,
): Promise<void> {
	await db.batch(revocationStatements(db, session, now));
}

/**
 * Revokes a dashboard session and forgets its step-up, dropping expired revocations and step-ups
 * on the way (one batch).
 */
export async function revokeDashboardSessionRecord(
	db: D1Database,
	session: { jti: string; expiresAt: number },
	now: number,
): Promise<void> {
	await db.batch([
		...revocationStatements(db, session, now),
		db
			.prepare("DELETE FROM session_step_ups WHERE jti = ? OR expires_at < ?")
			.bind(session.jti, now),
	]);
}

/** Records a passkey assertion in this session (a later one replaces it). */
export async function upsertStepUp(
	db: D1Database,
	session: { jti: string; expiresAt: number },
	at: number,
): Promise<void> {
	await db
		.prepare(
			`INSERT INTO session_step_ups (jti, stepped_up_at, expires_at) VALUES (?1, ?2, ?3)
			 ON CONFLICT (jti) DO UPDATE SET stepped_up_at = excluded.stepped_up_at`,
		)
		.bind(session.jti, at, session.expiresAt)
		.run();
}

export interface PersonSessionState {
	email: string;
	role: Role;
	session_generation: number;
	recovery_generation: number;
	session_revoked: number;
	stepped_up_at: number | null;
	passkey_kept: number;
}

/**
 * What a person's dashboard session depends on, in one query: their membership at the merchant,
 * their generations, whether the token was revoked, its step-up, and whether the passkey it was
 * signed in with (if any) is still theirs. Null without a membership.
 */
export async function personSessionState(
	db: D1Database,
	claims: { jti: string; userId: string; merchantId: string; passkeyId: string | null },
): Promise<PersonSessionState | null> {
	return db
		.prepare(
			`SELECT u.email, m.role, u.session_generation, u.recovery_generation,
			   EXISTS (SELECT 1 FROM revoked_sessions WHERE jti = ?1) AS session_revoked,
			   (SELECT stepped_up_at FROM session_step_ups WHERE jti = ?1) AS stepped_up_at,
			   CASE WHEN ?4 IS NULL THEN 1
			        ELSE EXISTS (SELECT 1 FROM passkeys WHERE id = ?4 AND user_id = ?2) END AS passkey_kept
			 FROM members m JOIN users u ON u.id = m.user_id
			 WHERE m.user_id = ?2 AND m.merchant_id = ?3`,
		)
		.bind(claims.jti, claims.userId, claims.merchantId, claims.passkeyId)
		.first<PersonSessionState>();
}

export interface KeySessionState {
	merchant_id: string;
	livemode: number;
	type: string;
	revoked_at: number | null;
	expires_at: number | null;
	session_revoked: number;
}

/** What a test-mode key's dashboard session depends on: the key, and whether the token was revoked. */
export async function keySessionState(
	db: D1Database,
	claims: { jti: string; keyId: string },
): Promise<KeySessionState | null> {
	return db
		.prepare(
			`SELECT merchant_id, livemode, type, revoked_at, expires_at,
		   EXISTS (SELECT 1 FROM revoked_sessions WHERE jti = ?1) AS session_revoked
		 FROM api_keys WHERE id = ?2`,
		)
		.bind(claims.jti, claims.keyId)
		.first<KeySessionState>();
}

/** A person's session and recovery generations (a new session carries them). */
export async function sessionGenerations(
	db: D1Database,
	userId: string,
): Promise<{ gen: number; rgen: number } | null> {
	return db
		.prepare(
			"SELECT session_generation AS gen, recovery_generation AS rgen FROM users WHERE id = ?",
		)
		.bind(userId)
		.first<{ gen: number; rgen: number }>();
}

/** Ends every session of the person signed before now. */
export async function bumpSessionGeneration(db: D1Database, userId: string): Promise<void> {
	await db
		.prepare("UPDATE users SET session_generation = session_generation + 1 WHERE id = ?")
		.bind(userId)
		.run();
}

/** Ends every recovery-code session of the person signed before now. */
export async function bumpRecoveryGeneration(db: D1Database, userId: string): Promise<void> {
	await db
		.prepare("UPDATE users SET recovery_generation = recovery_generation + 1 WHERE id = ?")
		.bind(userId)
		.run();
}
