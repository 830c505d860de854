import {
	withdrawInvitationsIfRemovedStatement,
	withdrawInvitationsIfRoleStatement,
} from "../db/invitations";
import {
	changeRoleStatement,
	deleteMemberStatement,
	getMembership,
	upsertMemberStatement,
} from "../db/members";
import { findTeamSettings, upsertRefundStepUp } from "../db/team-settings";
import { findUserByStoredEmail, insertUserStatement, type UserRow } from "../db/users";
import { newId } from "../domain/ids";
import { can, type Role } from "../domain/roles";

// Users, their memberships and roles. A user is a person (an email and passkeys); a membership
// gives them a role at one merchant. Every query is one indexed lookup.

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
	return findUserByStoredEmail(db, normalEmail(email));
}

/** The statement creating a user with a chosen id (registration mints the id before it is known to work). */
export function insertUser(
	db: D1Database,
	user: { id: string; email: string },
): D1PreparedStatement {
	return insertUserStatement(db, { id: user.id, email: normalEmail(user.email), created: now() });
}

export function newUserId(): string {
	return newId("user");
}

/** The statement giving a user a role at a merchant (an existing membership takes the new role). */
export function upsertMember(
	db: D1Database,
	member: { merchantId: string; userId: string; role: Role },
): D1PreparedStatement {
	return upsertMemberStatement(db, { ...member, created: now() });
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
	const update = changeRoleStatement(db, merchantId, userId, role);
	// A role that may not invite keeps none of the invitations its holder sent: they are withdrawn
	// in the same batch, only if the change itself took effect.
	const [result, withdrawn] = can(role, "team.write")
		? [await update.run(), null]
		: await db.batch([
				update,
				withdrawInvitationsIfRoleStatement(db, merchantId, userId, role, now()),
			]);
	if (result?.meta.changes !== 1) return { ok: false, reason: "last_owner" };
	return { ok: true, before: current.role, withdrawn: idsOf(withdrawn) };
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
		deleteMemberStatement(db, merchantId, userId),
		withdrawInvitationsIfRemovedStatement(db, merchantId, userId, now()),
	]);
	if (result?.meta.changes !== 1) return { ok: false, reason: "last_owner" };
	return { ok: true, before: current.role, withdrawn: idsOf(withdrawn) };
}

export interface TeamSettings {
	refundStepUp: { amount: number; currency: string } | null;
	updated: number | null;
}

export async function getTeamSettings(db: D1Database, merchantId: string): Promise<TeamSettings> {
	const row = await findTeamSettings(db, merchantId);
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
	await upsertRefundStepUp(db, merchantId, threshold, now());
}
