// `recovery_codes`: a user's single-use sign-in codes, as SHA-256 hashes.

/** The statements replacing a user's codes with these hashes (to run in the caller's batch). */
export function replaceRecoveryCodesStatements(
	db: D1Database,
	userId: string,
	codeHashes: string[],
	created: number,
): D1PreparedStatement[] {
	return [
		db.prepare("DELETE FROM recovery_codes WHERE user_id = ?").bind(userId),
		...codeHashes.map((hash) =>
			db
				.prepare("INSERT INTO recovery_codes (user_id, code_hash, created) VALUES (?, ?, ?)")
				.bind(userId, hash, created),
		),
	];
}

export async function countUnusedRecoveryCodes(db: D1Database, userId: string): Promise<number> {
	const row = await db
		.prepare("SELECT COUNT(*) AS n FROM recovery_codes WHERE user_id = ? AND used_at IS NULL")
		.bind(userId)
		.first<{ n: number }>();
	return row?.n ?? 0;
}

/** The hashes of the user's unused codes. */
export async function unusedRecoveryCodeHashes(db: D1Database, userId: string): Promise<string[]> {
	const { results } = await db
		.prepare("SELECT code_hash FROM recovery_codes WHERE user_id = ? AND used_at IS NULL")
		.bind(userId)
		.all<{ code_hash: string }>();
	return results.map((r) => r.code_hash);
}

/** Marks the code used if it still was unused; true when this call spent it. */
export async function markRecoveryCodeUsed(
	db: D1Database,
	userId: string,
	codeHash: string,
	at: number,
): Promise<boolean> {
	const spent = await db
		.prepare(
			"UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at IS NULL",
		)
		.bind(at, userId, codeHash)
		.run();
	return spent.meta.changes === 1;
}
