// `passkeys` (a user's WebAuthn credentials) and `webauthn_challenges` (one per ceremony).

export interface PasskeyRow {
	id: string;
	user_id: string;
	credential_id: string;
	public_key: string;
	counter: number;
	transports: string;
	name: string;
	backed_up: number;
	created: number;
	last_used_at: number | null;
}

/** Stores a ceremony's challenge, deleting expired ones on the way (one batch). */
export async function insertWebauthnChallenge(
	db: D1Database,
	c: { id: string; challenge: string; purpose: string; subject: string; expiresAt: number },
	now: number,
): Promise<void> {
	await db.batch([
		// Housekeeping on the way: expired challenges are never needed again.
		db.prepare("DELETE FROM webauthn_challenges WHERE expires_at < ?").bind(now),
		db
			.prepare(
				"INSERT INTO webauthn_challenges (id, challenge, purpose, subject, expires_at) VALUES (?, ?, ?, ?, ?)",
			)
			.bind(c.id, c.challenge, c.purpose, c.subject, c.expiresAt),
	]);
}

/** Deletes a challenge and returns it (so it answers one ceremony only), or null. */
export async function deleteWebauthnChallenge(
	db: D1Database,
	id: string,
): Promise<{ challenge: string; purpose: string; subject: string; expires_at: number } | null> {
	return db
		.prepare(
			"DELETE FROM webauthn_challenges WHERE id = ? RETURNING challenge, purpose, subject, expires_at",
		)
		.bind(id)
		.first<{ challenge: string; purpose: string; subject: string; expires_at: number }>();
}

export function insertPasskey(db: D1Database, row: PasskeyRow): D1PreparedStatement {
	return db
		.prepare(
			`INSERT INTO passkeys (id, user_id, credential_id, public_key, counter, transports, name, backed_up, created)
			 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		)
		.bind(
			row.id,
			row.user_id,
			row.credential_id,
			row.public_key,
			row.counter,
			row.transports,
			row.name,
			row.backed_up,
			row.created,
		);
}

export async function passkeyByCredential(
	db: D1Database,
	credentialId: string,
): Promise<PasskeyRow | null> {
	return db
		.prepare("SELECT * FROM passkeys WHERE credential_id = ?")
		.bind(credentialId)
		.first<PasskeyRow>();
}

export async function passkeysOf(db: D1Database, userId: string): Promise<PasskeyRow[]> {
	const { results } = await db
		.prepare("SELECT * FROM passkeys WHERE user_id = ? ORDER BY created LIMIT 50")
		.bind(userId)
		.all<PasskeyRow>();
	return results;
}

/** Records a verified assertion: the passkey's new signature counter and when it was used. */
export async function recordPasskeyUse(
	db: D1Database,
	id: string,
	counter: number,
	at: number,
): Promise<void> {
	await db
		.prepare("UPDATE passkeys SET counter = ?, last_used_at = ? WHERE id = ?")
		.bind(counter, at, id)
		.run();
}

/** Removes one of the user's passkeys, returning it (null when it is not theirs). */
export async function removePasskey(
	db: D1Database,
	userId: string,
	id: string,
): Promise<PasskeyRow | null> {
	return db
		.prepare("DELETE FROM passkeys WHERE id = ? AND user_id = ? RETURNING *")
		.bind(id, userId)
		.first<PasskeyRow>();
}
