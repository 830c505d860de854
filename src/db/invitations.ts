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
