import type { Role } from "../domain/roles";

/** Who an invitation is for and what it grants, or null when there is no such invitation. */
export async function findInvitationGrant(
	db: D1Database,
	id: string,
): Promise<{ merchant_id: string; role: Role; email: string } | null> {
	return db
		.prepare("SELECT merchant_id, role, email FROM invitations WHERE id = ?")
		.bind(id)
		.first<{ merchant_id: string; role: Role; email: string }>();
}

/**
 * The statement withdrawing the pending invitations a person sent to a merchant, when `condition`
 * (SQL over ?1 merchant, ?2 user, ?3 extra) holds; it returns the ids withdrawn.
 */
function withdrawInvitationsStatement(
	db: D1Database,
	merchantId: string,
	userId: string,
	condition: string,
	extra: string | null,
	at: number,
): D1PreparedStatement {
	return db
		.prepare(
			`UPDATE invitations SET revoked_at = ?4
			 WHERE merchant_id = ?1 AND invited_by = ?2 AND accepted_at IS NULL AND revoked_at IS NULL
			 AND ${condition} RETURNING id`,
		)
		.bind(merchantId, userId, extra, at);
}

/** Withdraws the person's pending invitations if their membership now has this role. */
export function withdrawInvitationsIfRoleStatement(
	db: D1Database,
	merchantId: string,
	userId: string,
	role: Role,
	at: number,
): D1PreparedStatement {
	return withdrawInvitationsStatement(
		db,
		merchantId,
		userId,
		"EXISTS (SELECT 1 FROM members WHERE merchant_id = ?1 AND user_id = ?2 AND role = ?3)",
		role,
		at,
	);
}

/** Withdraws the person's pending invitations if they are no longer a member. */
export function withdrawInvitationsIfRemovedStatement(
	db: D1Database,
	merchantId: string,
	userId: string,
	at: number,
): D1PreparedStatement {
	return withdrawInvitationsStatement(
		db,
		merchantId,
		userId,
		"?3 IS NULL AND NOT EXISTS (SELECT 1 FROM members WHERE merchant_id = ?1 AND user_id = ?2)",
		null,
		at,
	);
}

/** An `invitations` row (the secret only as its hash). */
export interface InvitationRow {
	id: string;
	merchant_id: string;
	email: string;
	role: Role;
	token_hash: string;
	invited_by: string;
	created: number;
	expires_at: number;
	accepted_at: number | null;
	accepted_by: string | null;
	revoked_at: number | null;
}

export async function insertInvitation(db: D1Database, row: InvitationRow): Promise<void> {
	await db
		.prepare(
			`INSERT INTO invitations (id, merchant_id, email, role, token_hash, invited_by, created, expires_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		)
		.bind(
			row.id,
			row.merchant_id,
			row.email,
			row.role,
			row.token_hash,
			row.invited_by,
			row.created,
			row.expires_at,
		)
		.run();
}

/** The merchant's invitations still open at `now` (unused, unrevoked, unexpired), newest first. */
export async function openInvitationsOf(
	db: D1Database,
	merchantId: string,
	now: number,
): Promise<InvitationRow[]> {
	const { results } = await db
		.prepare(
			`SELECT * FROM invitations WHERE merchant_id = ? AND accepted_at IS NULL AND revoked_at IS NULL
			 AND expires_at > ? ORDER BY id DESC LIMIT 200`,
		)
		.bind(merchantId, now)
		.all<InvitationRow>();
	return results;
}

/** Whether an open invitation (to any merchant) is waiting for this stored-form email. */
export async function openInvitationExistsFor(
	db: D1Database,
	email: string,
	now: number,
): Promise<boolean> {
	const row = await db
		.prepare(
			`SELECT 1 AS pending FROM invitations WHERE email = ? AND accepted_at IS NULL
			 AND revoked_at IS NULL AND expires_at > ? LIMIT 1`,
		)
		.bind(email, now)
		.first<{ pending: number }>();
	return row !== null;
}

/** Revokes the merchant's invitation if still unused and unrevoked; true when it did. */
export async function revokeOpenInvitation(
	db: D1Database,
	merchantId: string,
	id: string,
	at: number,
): Promise<boolean> {
	const result = await db
		.prepare(
			"UPDATE invitations SET revoked_at = ? WHERE id = ? AND merchant_id = ? AND accepted_at IS NULL AND revoked_at IS NULL",
		)
		.bind(at, id, merchantId)
		.run();
	return result.meta.changes === 1;
}

/** The invitation with its merchant's name, or null. */
export async function findInvitationWithMerchant(
	db: D1Database,
	id: string,
): Promise<(InvitationRow & { merchant_name: string }) | null> {
	return db
		.prepare(
			"SELECT i.*, m.name AS merchant_name FROM invitations i JOIN merchants m ON m.id = i.merchant_id WHERE i.id = ?",
		)
		.bind(id)
		.first<InvitationRow & { merchant_name: string }>();
}

/**
 * The statement that spends an invitation: it changes a row only while the invitation is unused,
 * unrevoked and unexpired at `at`, so of two acceptances racing each other exactly one wins.
 */
export function acceptInvitationStatementAt(
	db: D1Database,
	id: string,
	userId: string,
	at: number,
): D1PreparedStatement {
	return db
		.prepare(
			`UPDATE invitations SET accepted_at = ?1, accepted_by = ?2
			 WHERE id = ?3 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ?1`,
		)
		.bind(at, userId, id);
}
