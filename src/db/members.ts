import type { Role } from "../domain/roles";

/**
 * Makes the user a member with the invitation's role, only if that invitation has been accepted
 * by them: batched after the statement that spends the invitation, so a lost race adds nobody.
 */
export function insertInvitedMemberStatement(
	db: D1Database,
	m: { merchantId: string; userId: string; role: Role; created: number; invitationId: string },
): D1PreparedStatement {
	return db
		.prepare(
			`INSERT INTO members (merchant_id, user_id, role, created)
				 SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM invitations WHERE id = ?5 AND accepted_by = ?2)
				 ON CONFLICT (merchant_id, user_id) DO UPDATE SET role = excluded.role`,
		)
		.bind(m.merchantId, m.userId, m.role, m.created, m.invitationId);
}
