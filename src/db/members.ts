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

export interface MemberJson {
	user: string;
	email: string;
	role: Role;
	created: number;
	passkeys: number;
	last_sign_in: number | null;
}

/** The statement giving a user a role at a merchant (an existing membership takes the new role). */
export function upsertMemberStatement(
	db: D1Database,
	member: { merchantId: string; userId: string; role: Role; created: number },
): D1PreparedStatement {
	return db
		.prepare(
			`INSERT INTO members (merchant_id, user_id, role, created) VALUES (?, ?, ?, ?)
			 ON CONFLICT (merchant_id, user_id) DO UPDATE SET role = excluded.role`,
		)
		.bind(member.merchantId, member.userId, member.role, member.created);
}

export async function getMembership(
	db: D1Database,
	merchantId: string,
	userId: string,
): Promise<{ role: Role } | null> {
	return db
		.prepare("SELECT role FROM members WHERE merchant_id = ? AND user_id = ?")
		.bind(merchantId, userId)
		.first<{ role: Role }>();
}

/** The merchants a user belongs to, oldest membership first (the one a sign-in opens). */
export async function membershipsOf(
	db: D1Database,
	userId: string,
): Promise<{ merchant_id: string; name: string; role: Role }[]> {
	const { results } = await db
		.prepare(
			`SELECT m.merchant_id, x.name, m.role FROM members m JOIN merchants x ON x.id = m.merchant_id
			 WHERE m.user_id = ? ORDER BY m.created, m.merchant_id LIMIT 100`,
		)
		.bind(userId)
		.all<{ merchant_id: string; name: string; role: Role }>();
	return results;
}

export async function listMembers(db: D1Database, merchantId: string): Promise<MemberJson[]> {
	const { results } = await db
		.prepare(
			`SELECT m.user_id AS user, u.email, m.role, m.created,
			   (SELECT COUNT(*) FROM passkeys p WHERE p.user_id = m.user_id) AS passkeys,
			   (SELECT MAX(last_used_at) FROM passkeys p WHERE p.user_id = m.user_id) AS last_sign_in
			 FROM members m JOIN users u ON u.id = m.user_id
			 WHERE m.merchant_id = ? ORDER BY m.created LIMIT 500`,
		)
		.bind(merchantId)
		.all<MemberJson>();
	return results;
}

/**
 * The statement changing a member's role. The last owner stays an owner: it only demotes an owner
 * while another owner remains, so two owners demoting each other at once leave one.
 */
export function changeRoleStatement(
	db: D1Database,
	merchantId: string,
	userId: string,
	role: Role,
): D1PreparedStatement {
	return db
		.prepare(
			`UPDATE members SET role = ?3 WHERE merchant_id = ?1 AND user_id = ?2
			 AND (?3 = 'owner' OR role != 'owner'
			      OR (SELECT COUNT(*) FROM members WHERE merchant_id = ?1 AND role = 'owner') > 1)`,
		)
		.bind(merchantId, userId, role);
}

/** The statement removing a member, never the last owner. */
export function deleteMemberStatement(
	db: D1Database,
	merchantId: string,
	userId: string,
): D1PreparedStatement {
	return db
		.prepare(
			`DELETE FROM members WHERE merchant_id = ?1 AND user_id = ?2
				 AND (role != 'owner' OR (SELECT COUNT(*) FROM members WHERE merchant_id = ?1 AND role = 'owner') > 1)`,
		)
		.bind(merchantId, userId);
}
