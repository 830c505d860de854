import type { RegistrationResponseJSON } from "@simplewebauthn/server";
import type { Context, Hono } from "hono";
import { signUpOpen } from "../config";
import { findInvitationGrant } from "../db/invitations";
import { insertPasskey, passkeysOf } from "../db/passkeys";
import { deleteUserWithCredentials } from "../db/users";
import type { Role } from "../domain/roles";
import { steppedUpRecently } from "../domain/roles";
import { ApiError } from "../lib/errors";
import { log } from "../lib/log";
import { auditAccount } from "../services/audit";
import {
	acceptInvitationStatement,
	checkInvitation,
	hasPendingInvitation,
	INVITATION_REFUSALS,
} from "../services/invitations";
import { createMerchant } from "../services/merchants";
import {
	registrationOptions,
	relyingPartyOf,
	takeChallenge,
	verifyRegistration,
} from "../services/passkeys";
import { newRecoveryCodes } from "../services/recovery-codes";
import {
	findUserByEmail,
	hasHiddenCharacters,
	insertUser,
	isEmail,
	newUserId,
	normalEmail,
	upsertMember,
} from "../services/team";
import type { AppEnv } from "../types";
import { attemptAllowed, personSession, readJsonBody, text, tooManyAttempts } from "./auth-limits";
import {
	type DashboardSession,
	endOtherSessions,
	inRecoveryWindow,
	recordStepUp,
	revokeDashboardSession,
	startDashboardSession,
} from "./session";

// Registering a passkey: a new person through an invitation, a new merchant's owner through
// self-serve sign-up, or a signed-in person adding another passkey. Options first (the
// challenge, kept server-side with who it is for), then the authenticator's answer.

type Subject =
	| { kind: "invitation"; invitation: string; user: string; email: string }
	| { kind: "sign_up"; user: string; email: string; business: string }
	| { kind: "add"; user: string; jti: string };

/**
 * Adding a passkey to an existing account needs a passkey assertion in the last five minutes, or a
 * recovery-code sign-in in this session minutes ago that has not registered one yet (the person
 * lost their passkeys). Throws otherwise.
 */
function mayAddPasskey(session: DashboardSession): "step_up" | "recovery" {
	const now = Math.floor(Date.now() / 1000);
	if (session.subject.kind === "user" && steppedUpRecently(session.steppedUpAt, now)) {
		return "step_up";
	}
	if (inRecoveryWindow(session, now)) return "recovery";
	throw new ApiError(
		"sign_in_invalid",
		"Adding a passkey needs a fresh confirmation with one of your passkeys. Confirm, then add it.",
	);
}

function invitedAddress(): ApiError {
	return new ApiError(
		"resource_conflict",
		"This address has a pending invitation. Open the invitation's link (in the email you were sent) to join instead.",
		"email",
	);
}

function passkeyName(body: Record<string, unknown>): string {
	const name = typeof body.name === "string" ? body.name.trim().slice(0, 60) : "";
	return name || "Passkey";
}

export function registerPasskeyRegistration(api: Hono<AppEnv>): void {
	api.post("/dashboard/auth/register/options", async (c) => {
		const body = await readJsonBody(c);
		const rp = relyingPartyOf(c.req.url);
		const db = c.env.DB;
		let subject: Subject;
		let email: string;
		if (body.kind === "invitation") {
			const id = text(body, "invitation", 64);
			if (!(await attemptAllowed(c, `invitation:${id}`))) throw tooManyAttempts(c);
			const checked = await checkInvitation(db, id, text(body, "token", 100));
			if (!checked.ok) throw new ApiError("resource_conflict", INVITATION_REFUSALS[checked.reason]);
			email = checked.invitation.email;
			if (await findUserByEmail(db, email)) {
				throw new ApiError(
					"resource_conflict",
					"You already have an account: sign in with your passkey, then open the invitation link again to accept it.",
				);
			}
			subject = { kind: "invitation", invitation: id, user: newUserId(), email };
		} else if (body.kind === "sign_up") {
			if (!signUpOpen(c.env)) {
				throw new ApiError("route_not_found", "Sign-up is closed on this gateway.");
			}
			const raw = text(body, "email", 254);
			if (hasHiddenCharacters(raw)) {
				throw new ApiError(
					"parameter_invalid",
					"The email address contains invisible or control characters. Type it again.",
					"email",
				);
			}
			email = normalEmail(raw);
			if (!isEmail(email))
				throw new ApiError("parameter_invalid", "Enter an email address.", "email");
			if (!(await attemptAllowed(c, `email:${email}`))) throw tooManyAttempts(c);
			if (await findUserByEmail(db, email)) {
				throw new ApiError(
					"resource_conflict",
					"An account with this email exists. Sign in with its passkey instead.",
					"email",
				);
			}
			// Nobody may take an invited address before its invitation is accepted.
			if (await hasPendingInvitation(db, email)) throw invitedAddress();
			const business = text(body, "business", 100).trim();
			subject = { kind: "sign_up", user: newUserId(), email, business };
		} else if (body.kind === "add") {
			const session = await personSession(c);
			if (session.subject.kind !== "user" || session.email === null) {
				throw new ApiError("sign_in_invalid", "Sign in as a person to add a passkey.");
			}
			mayAddPasskey(session);
			email = session.email;
			subject = { kind: "add", user: session.subject.userId, jti: session.jti };
		} else {
			throw new ApiError("parameter_invalid", "'kind' must be invitation, sign_up or add.", "kind");
		}
		const existing = subject.kind === "add" ? await passkeysOf(db, subject.user) : [];
		return c.json(
			await registrationOptions(db, rp, { id: subject.user, email }, existing, subject),
		);
	});

	api.post("/dashboard/auth/register/verify", async (c) => {
		const body = await readJsonBody(c);
		const db = c.env.DB;
		const challenge = await takeChallenge(db, text(body, "challenge_id", 64), "register");
		if (!challenge) throw new ApiError("sign_in_invalid", "The registration expired; start again.");
		const subject = challenge.subject as Subject;
		const response = body.response as RegistrationResponseJSON;
		if (!response || typeof response !== "object" || typeof response.id !== "string") {
			throw new ApiError(
				"parameter_invalid",
				"'response' must be a WebAuthn registration.",
				"response",
			);
		}
		const rp = relyingPartyOf(c.req.url);
		const passkey = await verifyRegistration(
			rp,
			challenge.challenge,
			subject.user,
			response,
			passkeyName(body),
		);
		if (!passkey)
			throw new ApiError("sign_in_invalid", "The passkey could not be registered; try again.");

		if (subject.kind === "add") {
			const session = await personSession(c);
			if (session.jti !== subject.jti) throw new ApiError("session_required", "Sign in again.");
			const allowedBy = mayAddPasskey(session);
			const inserted = await insertPasskey(db, passkey)
				.run()
				.catch((error: unknown) => {
					// The credential is registered already (unique index): nothing was written.
					if (String(error).includes("UNIQUE")) return null;
					throw error;
				});
			if (!inserted) {
				throw new ApiError(
					"resource_conflict",
					"This passkey is registered already. Use it to sign in, or add another one.",
					"response",
				);
			}
			if (allowedBy === "recovery") {
				// The passkey replaces the lost ones: every other session of the person ends, and this
				// one now stands on the new passkey (so the recovery window closes). No step-up is
				// granted: removing passkeys asks for an assertion with the new one.
				await endOtherSessions(
					c,
					session,
					{ kind: "user", userId: subject.user, passkeyId: passkey.id },
					false,
				);
			}
			await auditAccount(c.env, {
				merchant_id: session.merchantId,
				action: "passkey.added",
				actor: { type: "user", id: subject.user, role: session.role },
				object_id: passkey.id,
				details:
					allowedBy === "recovery"
						? { name: passkey.name, via: "recovery_code", other_sessions_ended: true }
						: { name: passkey.name },
			});
			return c.json({ redirect: "/dashboard/account?added=1", recovery_codes: null });
		}

		const { codes, statements: codeStatements } = await newRecoveryCodes(db, subject.user);
		let merchantId: string;
		let testSecretKey: string | null = null;
		const role = subject.kind === "sign_up" ? "owner" : null;
		if (subject.kind === "invitation") {
			// Spending the invitation and creating the person are one transaction; the inserts only
			// take effect if this request is the one that spent it.
			const invitation = await findInvitationGrant(db, subject.invitation);
			if (!invitation) throw new ApiError("resource_conflict", INVITATION_REFUSALS.invalid);
			const results = await db
				.batch([
					acceptInvitationStatement(db, subject.invitation, subject.user),
					insertUser(db, { id: subject.user, email: subject.email }),
					upsertMember(db, {
						merchantId: invitation.merchant_id,
						userId: subject.user,
						role: invitation.role,
					}),
					insertPasskey(db, passkey),
					...codeStatements,
				])
				.catch((error: unknown) => {
					// The email was taken meanwhile (unique index): nothing of the batch was written.
					if (String(error).includes("UNIQUE")) return null;
					throw error;
				});
			if (results?.[0]?.meta.changes !== 1) {
				if (results) {
					// Lost the race for the invitation: undo the person the batch created.
					await deleteUserWithCredentials(db, subject.user);
				}
				throw new ApiError("resource_conflict", INVITATION_REFUSALS.used);
			}
			merchantId = invitation.merchant_id;
			await auditAccount(c.env, {
				merchant_id: merchantId,
				action: "invitation.accepted",
				actor: { type: "user", id: subject.user, role: invitation.role },
				object_id: subject.invitation,
				details: { email: invitation.email, role: invitation.role, passkey: passkey.id },
			});
			await startAndRecord(c, merchantId, subject.user, passkey.id, invitation.role);
		} else {
			if (!signUpOpen(c.env))
				throw new ApiError("route_not_found", "Sign-up is closed on this gateway.");
			// Checked again: an invitation may have been sent since the options were asked for.
			if (await hasPendingInvitation(db, subject.email)) throw invitedAddress();
			const created = await createMerchant(db, { name: subject.business, email: subject.email });
			merchantId = created.merchant.id;
			testSecretKey = created.keys.find((k) => k.type === "secret" && !k.livemode)?.secret ?? null;
			const done = await db
				.batch([
					insertUser(db, { id: subject.user, email: subject.email }),
					upsertMember(db, { merchantId, userId: subject.user, role: "owner" }),
					insertPasskey(db, passkey),
					...codeStatements,
				])
				.catch((error: unknown) => {
					if (String(error).includes("UNIQUE")) return null;
					throw error;
				});
			if (!done) {
				throw new ApiError(
					"resource_conflict",
					"An account with this email exists. Sign in instead.",
				);
			}
			await auditAccount(c.env, {
				merchant_id: merchantId,
				action: "dashboard.signed_up",
				actor: { type: "user", id: subject.user, role: "owner" },
				object_id: subject.user,
				details: { email: subject.email, passkey: passkey.id },
			});
			await startAndRecord(c, merchantId, subject.user, passkey.id, "owner");
		}
		log("info", "dashboard passkey registered", { merchant: merchantId, user: subject.user, role });
		// Shown once: the codes and (on sign-up) the test key exist nowhere else in readable form.
		return c.json({
			redirect: "/dashboard",
			recovery_codes: codes,
			test_secret_key: testSecretKey,
		});
	});
}

async function startAndRecord(
	c: Context<AppEnv>,
	merchantId: string,
	userId: string,
	passkeyId: string,
	role: Role,
) {
	await revokeDashboardSession(c);
	const session = await startDashboardSession(c, {
		merchantId,
		livemode: false,
		subject: { kind: "user", userId, passkeyId },
		role,
	});
	await recordStepUp(c.env.DB, session);
}
