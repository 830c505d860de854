import {
	countUnusedRecoveryCodes,
	markRecoveryCodeUsed,
	replaceRecoveryCodesStatements,
	unusedRecoveryCodeHashes,
} from "../db/recovery-codes";
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
	const hashes: string[] = [];
	for (const code of codes) hashes.push(await sha256Hex(canonical(code)));
	return { codes, statements: replaceRecoveryCodesStatements(db, userId, hashes, created) };
}

export async function unusedRecoveryCodes(db: D1Database, userId: string): Promise<number> {
	return countUnusedRecoveryCodes(db, userId);
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
	let match: string | null = null;
	for (const code_hash of await unusedRecoveryCodeHashes(db, userId)) {
		if (timingSafeEqualText(typed, code_hash)) match = code_hash;
	}
	if (match === null) return false;
	return markRecoveryCodeUsed(db, userId, match, now());
}
