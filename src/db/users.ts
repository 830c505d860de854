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
