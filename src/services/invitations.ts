import {
	acceptInvitationStatementAt,
	findInvitationWithMerchant,
	type InvitationRow,
	insertInvitation,
	openInvitationExistsFor,
	openInvitationsOf,
	revokeOpenInvitation,
} from "../db/invitations";
import { isId, newId, randomBase62 } from "../domain/ids";
import type { Role } from "../domain/roles";
import type { Env } from "../env";
import { sha256Hex, timingSafeEqualText } from "../lib/crypto";
import { log } from "../lib/log";
import { sendEmail } from "./email";
import { normalEmail } from "./team";

// Invitations to a merchant's team: a link with a secret, single use, expiring. The secret is
// stored only as a SHA-256 hash, compared in constant time, and never logged; it travels in the
// link's fragment (after #), which browsers never send to a server.

export const INVITATION_TTL_SECONDS = 7 * 24 * 60 * 60;

export interface InvitationJson {
	id: string;
	object: "invitation";
	email: string;
	role: Role;
	invited_by: string;
	created: number;
	expires_at: number;
	accepted_at: number | null;
	revoked_at: number | null;
}

const now = () => Math.floor(Date.now() / 1000);

function toJson(row: InvitationRow): InvitationJson {
	return {
		id: row.id,
		object: "invitation",
		email: row.email,
		role: row.role,
		invited_by: row.invited_by,
		created: row.created,
		expires_at: row.expires_at,
		accepted_at: row.accepted_at,
		revoked_at: row.revoked_at,
	};
}

/**
 * The origin passkeys can be used on: WebAuthn refuses an IP address as the relying party, so a
 * loopback address becomes `localhost` (the same machine, and a secure context).
 */
export function passkeyOrigin(base: string): string {
	const url = new URL(base);
	if (url.hostname === "127.0.0.1" || url.hostname === "[::1]") url.hostname = "localhost";
	return url.origin;
}

export function invitationUrl(base: string, id: string, token: string): string {
	return `${passkeyOrigin(base)}/dashboard/join/${id}#${token}`;
}

export interface CreatedInvitation {
	invitation: InvitationJson;
	/** The link with its secret: shown once to the inviter, emailed, never stored. */
	url: string;
	emailed: boolean;
}

/** Creates an invitation and emails its link where an email binding is configured. */
export async function createInvitation(
	env: Env,
	input: { merchantId: string; merchantName: string; email: string; role: Role; invitedBy: string },
): Promise<CreatedInvitation> {
	const token = randomBase62(32);
	const created = now();
	const row: InvitationRow = {
		id: newId("invitation"),
		merchant_id: input.merchantId,
		email: normalEmail(input.email),
		role: input.role,
		token_hash: await sha256Hex(token),
		invited_by: input.invitedBy,
		created,
		expires_at: created + INVITATION_TTL_SECONDS,
		accepted_at: null,
		accepted_by: null,
		revoked_at: null,
	};
	await insertInvitation(env.DB, row);
	const url = invitationUrl(env.PUBLIC_BASE_URL, row.id, token);
	const emailed = await sendEmail(env, {
		to: row.email,
		subject: `You are invited to ${input.merchantName} on StreamPayments`,
		text: `You are invited to join ${input.merchantName} on StreamPayments as ${row.role}.\n\nOpen this link within 7 days to accept and register a passkey (it works once):\n\n${url}\n\nIf you did not expect this, ignore this email.\n`,
	});
	if (!emailed && env.ENVIRONMENT === "development") {
		// Local runs only (wrangler dev, no email binding): the link goes to the terminal, as the
		// dashboard shows it too. Tests and production never log it.
		console.log(`[dashboard] invitation for ${row.role} at ${input.merchantName}: ${url}`);
	} else if (!emailed) {
		log("info", "invitation created without email", { invitation: row.id });
	}
	return { invitation: toJson(row), url, emailed };
}

export async function listInvitations(
	db: D1Database,
	merchantId: string,
): Promise<InvitationJson[]> {
	return (await openInvitationsOf(db, merchantId, now())).map(toJson);
}

/** Whether an unused, unrevoked, unexpired invitation (to any merchant) is waiting for `email`. */
export async function hasPendingInvitation(db: D1Database, email: string): Promise<boolean> {
	return openInvitationExistsFor(db, normalEmail(email), now());
}

export async function revokeInvitation(
	db: D1Database,
	merchantId: string,
	id: string,
): Promise<boolean> {
	return revokeOpenInvitation(db, merchantId, id, now());
}

export type InvitationCheck =
	| { ok: true; invitation: InvitationJson & { merchant_id: string; merchant_name: string } }
	| { ok: false; reason: "invalid" | "expired" | "used" | "revoked" };

/** The invitation if the link's secret is its own (constant time), unused, unrevoked and unexpired. */
export async function checkInvitation(
	db: D1Database,
	id: string,
	token: string,
): Promise<InvitationCheck> {
	if (!isId("invitation", id)) return { ok: false, reason: "invalid" };
	const row = await findInvitationWithMerchant(db, id);
	const hash = await sha256Hex(token);
	// Compared even without a row, so an unknown id and a wrong secret take the same time.
	const matches = timingSafeEqualText(hash, row?.token_hash ?? "0".repeat(64));
	if (!row || !matches) return { ok: false, reason: "invalid" };
	if (row.accepted_at !== null) return { ok: false, reason: "used" };
	if (row.revoked_at !== null) return { ok: false, reason: "revoked" };
	if (row.expires_at <= now()) return { ok: false, reason: "expired" };
	return {
		ok: true,
		invitation: { ...toJson(row), merchant_id: row.merchant_id, merchant_name: row.merchant_name },
	};
}

/**
 * The statement that spends an invitation: it changes a row only while the invitation is unused,
 * unrevoked and unexpired, so of two acceptances racing each other exactly one wins.
 */
export function acceptInvitationStatement(
	db: D1Database,
	id: string,
	userId: string,
): D1PreparedStatement {
	return acceptInvitationStatementAt(db, id, userId, now());
}

export const INVITATION_REFUSALS: Record<Exclude<InvitationCheck, { ok: true }>["reason"], string> =
	{
		invalid: "This invitation link is not valid. Ask for a new one.",
		expired: "This invitation has expired. Ask the merchant's owner for a new one.",
		used: "This invitation has already been used. Sign in instead, or ask for a new one.",
		revoked: "This invitation was withdrawn. Ask the merchant's owner for a new one.",
	};
