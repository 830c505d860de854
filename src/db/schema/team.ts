import {
	index,
	integer,
	primaryKey,
	sqliteTable,
	text,
	uniqueIndex,
} from "drizzle-orm/sqlite-core";
import { ROLES } from "../../domain/roles";
import { created } from "./columns";
import { merchants } from "./merchants";

/** A person who signs in to the dashboard: an email and one or more passkeys, no password. */
export const users = sqliteTable(
	"users",
	{
		id: text("id").primaryKey(),
		/** Lower-cased; one account per address. */
		email: text("email").notNull(),
		...created,
		/** Bumped to end every session of the person but the one that bumps it (sessions carry it). */
		sessionGeneration: integer("session_generation").notNull().default(0),
		/** Bumped to end every session of the person opened with a recovery code. */
		recoveryGeneration: integer("recovery_generation").notNull().default(0),
	},
	(t) => [uniqueIndex("users_email_idx").on(t.email)],
);

/** A WebAuthn credential of a user: its public key and signature counter (never a secret). */
export const passkeys = sqliteTable(
	"passkeys",
	{
		id: text("id").primaryKey(),
		userId: text("user_id")
			.notNull()
			.references(() => users.id),
		/** The authenticator's credential id, base64url. */
		credentialId: text("credential_id").notNull(),
		/** COSE public key, base64url. */
		publicKey: text("public_key").notNull(),
		counter: integer("counter").notNull(),
		transports: text("transports", { mode: "json" }).$type<string[]>().notNull(),
		name: text("name").notNull(),
		backedUp: integer("backed_up", { mode: "boolean" }).notNull(),
		...created,
		lastUsedAt: integer("last_used_at"),
	},
	(t) => [
		uniqueIndex("passkeys_credential_idx").on(t.credentialId),
		index("passkeys_user_idx").on(t.userId),
	],
);

/** A user's role at a merchant; removing the row ends their access at their next request. */
export const members = sqliteTable(
	"members",
	{
		merchantId: text("merchant_id")
			.notNull()
			.references(() => merchants.id),
		userId: text("user_id")
			.notNull()
			.references(() => users.id),
		role: text("role", { enum: ROLES }).notNull(),
		...created,
	},
	(t) => [
		primaryKey({ columns: [t.merchantId, t.userId] }),
		index("members_user_idx").on(t.userId),
	],
);

/** An invitation to join a merchant: single use, expiring, its secret stored only as a hash. */
export const invitations = sqliteTable(
	"invitations",
	{
		id: text("id").primaryKey(),
		merchantId: text("merchant_id")
			.notNull()
			.references(() => merchants.id),
		email: text("email").notNull(),
		role: text("role", { enum: ROLES }).notNull(),
		tokenHash: text("token_hash").notNull(),
		/** `usr_…`, or `admin` for the operator. */
		invitedBy: text("invited_by").notNull(),
		...created,
		expiresAt: integer("expires_at").notNull(),
		acceptedAt: integer("accepted_at"),
		acceptedBy: text("accepted_by"),
		revokedAt: integer("revoked_at"),
	},
	(t) => [index("invitations_merchant_idx").on(t.merchantId, t.id)],
);

/** Single-use recovery codes, stored as SHA-256 hashes (shown once). */
export const recoveryCodes = sqliteTable(
	"recovery_codes",
	{
		userId: text("user_id")
			.notNull()
			.references(() => users.id),
		codeHash: text("code_hash").notNull(),
		...created,
		usedAt: integer("used_at"),
	},
	(t) => [primaryKey({ columns: [t.userId, t.codeHash] })],
);

/** WebAuthn challenges: issued by the server, used once, short-lived. */
export const webauthnChallenges = sqliteTable(
	"webauthn_challenges",
	{
		id: text("id").primaryKey(),
		challenge: text("challenge").notNull(),
		purpose: text("purpose", { enum: ["register", "sign_in", "step_up"] }).notNull(),
		/** Who it was issued for: a user, an invitation, a sign-up, a session. */
		subject: text("subject", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
		expiresAt: integer("expires_at").notNull(),
	},
	(t) => [index("webauthn_challenges_expiry_idx").on(t.expiresAt)],
);

/** The last passkey assertion of a dashboard session (by its token id): step-up for sensitive actions. */
export const sessionStepUps = sqliteTable("session_step_ups", {
	jti: text("jti").primaryKey(),
	steppedUpAt: integer("stepped_up_at").notNull(),
	/** When the session's token expires; the row is useless after. */
	expiresAt: integer("expires_at").notNull(),
});

/** Dashboard policy a merchant sets: refunds above this amount need a fresh passkey assertion. */
export const teamSettings = sqliteTable("team_settings", {
	merchantId: text("merchant_id")
		.primaryKey()
		.references(() => merchants.id),
	/** Minor units of `refund_step_up_currency`; null: refunds need no step-up. */
	refundStepUpAbove: integer("refund_step_up_above"),
	refundStepUpCurrency: text("refund_step_up_currency"),
	updated: integer("updated").notNull(),
});
