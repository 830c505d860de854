import { randomBase62 } from "../domain/ids";
import { sha256Hex, timingSafeEqualText } from "../lib/crypto";

// Recovery codes: ten single-use codes per user, shown once when made, stored as SHA-256 hashes.
// A code signs its user in (without a passkey), after which they register a new passkey.

export const RECOVERY_CODE_COUNT = 10;
const now = () => Math.floor(Date.now() / 1000);

/** "ABCD-EFGH-JKLM": easy to read aloud and type; 12 base62 characters (71 bits). */
function newCode(): string {
	return (randomBase62(12).match(/.{4}/g) as string[]).join("-");
}

/** What a typed code is compared as: separators and case of the grouping ignored. */
function canonical(code: string): string {
	return code.replace(/[\s-]/g, "");
}

/** The statements replacing a user's codes with fresh ones, and the codes (to show once). */
export async function newRecoveryCodes(
	db: D1Database,
	userId: string,
): Promise<{ codes: string[]; statements: D1PreparedStatement[] }> {
	const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newCode);
	const created = now();
	const statements = [db.prepare("DELETE FROM recovery_codes WHERE user_id = ?").bind(userId)];
	for (const code of codes) {
		statements.push(
			db
				.prepare("INSERT INTO recovery_codes (user_id, code_hash, created) VALUES (?, ?, ?)")
				.bind(userId, await sha256Hex(canonical(code)), created),
		);
	}
	return { codes, statements };
}

export async function unusedRecoveryCodes(db: D1Database, userId: string): Promise<number> {
	const row = await db
		.prepare("SELECT COUNT(*) AS n FROM recovery_codes WHERE user_id = ? AND used_at IS NULL")
		.bind(userId)
		.first<{ n: number }>();
	return row?.n ?? 0;
}

/**
 * Spends one of the user's unused codes if `code` is one: every stored hash is compared in
 * constant time (no early exit), then the code is marked used only if it still was unused, so a
 * code works once even when two attempts race.
 */
export async function spendRecoveryCode(
	db: D1Database,
	userId: string,
	code: string,
): Promise<boolean> {
	const typed = await sha256Hex(canonical(code));
	const { results } = await db
		.prepare("SELECT code_hash FROM recovery_codes WHERE user_id = ? AND used_at IS NULL")
		.bind(userId)
		.all<{ code_hash: string }>();
	let match: string | null = null;
	for (const { code_hash } of results) {
		if (timingSafeEqualText(typed, code_hash)) match = code_hash;
	}
	if (match === null) return false;
	const spent = await db
		.prepare(
			"UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at IS NULL",
		)
		.bind(now(), userId, match)
		.run();
	return spent.meta.changes === 1;
}
