/**
 * Deletes a person and everything that signs them in (recovery codes, passkeys, memberships), in
 * one batch: undoes a registration that lost its race.
 */
export async function deleteUserWithCredentials(db: D1Database, userId: string): Promise<void> {
	await db.batch([
		db.prepare("DELETE FROM recovery_codes WHERE user_id = ?").bind(userId),
		db.prepare("DELETE FROM passkeys WHERE user_id = ?").bind(userId),
		db.prepare("DELETE FROM members WHERE user_id = ?").bind(userId),
		db.prepare("DELETE FROM users WHERE id = ?").bind(userId),
	]);
}

export interface UserRow {
	id: string;
	email: string;
	created: number;
}

/** The user with this email (already in its stored, normalised form). */
export async function findUserByStoredEmail(
	db: D1Database,
	email: string,
): Promise<UserRow | null> {
	return db
		.prepare("SELECT id, email, created FROM users WHERE email = ?")
		.bind(email)
		.first<UserRow>();
}

export async function getUser(db: D1Database, id: string): Promise<UserRow | null> {
	return db.prepare("SELECT id, email, created FROM users WHERE id = ?").bind(id).first<UserRow>();
}

/** The statement creating a user (the email already normalised). */
export function insertUserStatement(db: D1Database, user: UserRow): D1PreparedStatement {
	return db
		.prepare("INSERT INTO users (id, email, created) VALUES (?, ?, ?)")
		.bind(user.id, user.email, user.created);
}
