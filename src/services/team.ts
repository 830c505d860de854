import { newId } from "../domain/ids";
import { can, type Role } from "../domain/roles";

// Users, their memberships and roles. A user is a person (an email and passkeys); a membership
// gives them a role at one merchant. Every query is one indexed lookup.

export interface UserRow {
	id: string;
	email: string;
	created: number;
}

export interface MemberJson {
	user: string;
	email: string;
	role: Role;
	created: number;
	passkeys: number;
	last_sign_in: number | null;
}

const now = () => Math.floor(Date.now() / 1000);

/**
 * Emails are compared and stored in one form (NFKC, lower-cased, trimmed): one account per address,
 * so a full-width or otherwise compatible look-alike of an address is that address.
 */
export function normalEmail(email: string): string {
	return email.normalize("NFKC").trim().toLowerCase().normalize("NFKC");
}

/**
 * Control, format (zero-width joiners and spaces, direction marks, BOM), separator and invisible
 * filler characters: an address holding one looks like another address, so it is refused.
 */
const HIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\u115F\u1160\u3164\uFFA0\u180E]|\u034F/u;

export function hasHiddenCharacters(text: string): boolean {
	return HIDDEN.test(text);
}

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,190}\.[^\s@]{2,63}$/;

export function isEmail(email: string): boolean {
	return EMAIL.test(email);
}

export async function findUserByEmail(db: D1Database, email: string): Promise<UserRow | null> {
	return db
		.prepare("SELECT id, email, created FROM users WHERE email = ?")
		.bind(normalEmail(email))
		.first<UserRow>();
}

export async function getUser(db: D1Database, id: string): Promise<UserRow | null> {
	return db.prepare("SELECT id, email, created FROM users WHERE id = ?").bind(id).first<UserRow>();
}

/** The statement creating a user with a chosen id (registration mints the id before it is known to work). */
export function insertUser(
	db: D1Database,
	user: { id: string; email: string },
): D1PreparedStatement {
	return db
		.prepare("INSERT INTO users (id, email, created) VALUES (?, ?, ?)")
		.bind(user.id, normalEmail(user.email), now());
}

export function newUserId(): string {
	return newId("user");
}

/** The statement giving a user a role at a merchant (an existing membership takes the new role). */
export function upsertMember(
	db: D1Database,
	member: { merchantId: string; userId: string; role: Role },
): D1PreparedStatement {
	return db
		.prepare(
			`INSERT INTO members (merchant_id, user_id, role, created) VALUES (?, ?, ?, ?)
			 ON CONFLICT (merchant_id, user_id) DO UPDATE SET role = excluded.role`,
		)
		.bind(member.merchantId, member.userId, member.role, now());
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

export type MemberChange =
	| { ok: true; before: Role; withdrawn: string[] }
	| { ok: false; reason: "not_found" | "last_owner" };

/**
 * Changes a member's role. The last owner stays an owner: the statement only demotes an owner
 * while another owner remains, so two owners demoting each other at once leave one.
 */
export async function changeRole(
	db: D1Database,
	merchantId: string,
	userId: string,
	role: Role,
): Promise<MemberChange> {
	const current = await getMembership(db, merchantId, userId);
	if (!current) return { ok: false, reason: "not_found" };
	const update = db
		.prepare(
			`UPDATE members SET role = ?3 WHERE merchant_id = ?1 AND user_id = ?2
			 AND (?3 = 'owner' OR role != 'owner'
			      OR (SELECT COUNT(*) FROM members WHERE merchant_id = ?1 AND role = 'owner') > 1)`,
		)
		.bind(merchantId, userId, role);
	// A role that may not invite keeps none of the invitations its holder sent: they are withdrawn
	// in the same batch, only if the change itself took effect.
	const [result, withdrawn] = can(role, "team.write")
		? [await update.run(), null]
		: await db.batch([
				update,
				withdrawInvitationsStatement(
					db,
					merchantId,
					userId,
					"EXISTS (SELECT 1 FROM members WHERE merchant_id = ?1 AND user_id = ?2 AND role = ?3)",
					role,
				),
			]);
	if (result?.meta.changes !== 1) return { ok: false, reason: "last_owner" };
	return { ok: true, before: current.role, withdrawn: idsOf(withdrawn) };
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
): D1PreparedStatement {
	return db
		.prepare(
			`UPDATE invitations SET revoked_at = ?4
			 WHERE merchant_id = ?1 AND invited_by = ?2 AND accepted_at IS NULL AND revoked_at IS NULL
			 AND ${condition} RETURNING id`,
		)
		.bind(merchantId, userId, extra, now());
}

function idsOf(result: D1Result | null | undefined): string[] {
	return ((result?.results ?? []) as { id: string }[]).map((r) => r.id);
}

/**
 * Removes a member (never the last owner); their sessions end at their next request and the
 * invitations they sent that are still pending are withdrawn.
 */
export async function removeMember(
	db: D1Database,
	merchantId: string,
	userId: string,
): Promise<MemberChange> {
	const current = await getMembership(db, merchantId, userId);
	if (!current) return { ok: false, reason: "not_found" };
	// The person's pending invitations to this merchant are withdrawn with the membership, in the
	// same batch, and only if the membership is gone.
	const [result, withdrawn] = await db.batch([
		db
			.prepare(
				`DELETE FROM members WHERE merchant_id = ?1 AND user_id = ?2
				 AND (role != 'owner' OR (SELECT COUNT(*) FROM members WHERE merchant_id = ?1 AND role = 'owner') > 1)`,
			)
			.bind(merchantId, userId),
		withdrawInvitationsStatement(
			db,
			merchantId,
			userId,
			"?3 IS NULL AND NOT EXISTS (SELECT 1 FROM members WHERE merchant_id = ?1 AND user_id = ?2)",
			null,
		),
	]);
	if (result?.meta.changes !== 1) return { ok: false, reason: "last_owner" };
	return { ok: true, before: current.role, withdrawn: idsOf(withdrawn) };
}

export interface TeamSettings {
	refundStepUp: { amount: number; currency: string } | null;
	updated: number | null;
}

export async function getTeamSettings(db: D1Database, merchantId: string): Promise<TeamSettings> {
	const row = await db
		.prepare(
			"SELECT refund_step_up_above, refund_step_up_currency, updated FROM team_settings WHERE merchant_id = ?",
		)
		.bind(merchantId)
		.first<{
			refund_step_up_above: number | null;
			refund_step_up_currency: string | null;
			updated: number;
		}>();
	if (!row) return { refundStepUp: null, updated: null };
	return {
		refundStepUp:
			row.refund_step_up_above === null || row.refund_step_up_currency === null
				? null
				: { amount: row.refund_step_up_above, currency: row.refund_step_up_currency },
		updated: row.updated,
	};
}

export async function setRefundStepUp(
	db: D1Database,
	merchantId: string,
	threshold: { amount: number; currency: string } | null,
): Promise<void> {
	await db
		.prepare(
			`INSERT INTO team_settings (merchant_id, refund_step_up_above, refund_step_up_currency, updated)
			 VALUES (?1, ?2, ?3, ?4)
			 ON CONFLICT (merchant_id) DO UPDATE SET refund_step_up_above = ?2, refund_step_up_currency = ?3, updated = ?4`,
		)
		.bind(merchantId, threshold?.amount ?? null, threshold?.currency ?? null, now())
		.run();
}
