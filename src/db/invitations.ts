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
