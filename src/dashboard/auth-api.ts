import type { AuthenticationResponseJSON } from "@simplewebauthn/server";
import type { Hono } from "hono";
import { insertInvitedMemberStatement, membershipsOf } from "../db/members";
import { passkeysOf } from "../db/passkeys";
import { getUser } from "../db/users";
import { ApiError } from "../lib/errors";
import { log } from "../lib/log";
import { auditAccount } from "../services/audit";
import {
	acceptInvitationStatement,
	checkInvitation,
	INVITATION_REFUSALS,
} from "../services/invitations";
import {
	authenticationOptions,
	relyingPartyOf,
	takeChallenge,
	verifyAssertion,
} from "../services/passkeys";
import type { AppEnv } from "../types";
import { attemptAllowed, personSession, readJsonBody, text, tooManyAttempts } from "./auth-limits";
import { safeNext } from "./context";
import { recordStepUp, revokeDashboardSession, startDashboardSession } from "./session";

// Passkey sign-in, step-up and accepting an invitation as a signed-in person: JSON endpoints the
// dashboard's script calls around `navigator.credentials`.

function assertion(body: Record<string, unknown>): AuthenticationResponseJSON {
	const response = body.response;
	if (
		!response ||
		typeof response !== "object" ||
		typeof (response as { id?: unknown }).id !== "string"
	) {
		throw new ApiError("parameter_invalid", "'response' must be a WebAuthn assertion.", "response");
	}
	return response as AuthenticationResponseJSON;
}

const failed = () =>
	new ApiError(
		"sign_in_invalid",
		"That passkey could not sign you in. Try again, or use a recovery code.",
	);

export function registerPasskeySignIn(api: Hono<AppEnv>): void {
	api.post("/dashboard/auth/sign-in/options", async (c) => {
		if (!(await attemptAllowed(c, null))) throw tooManyAttempts(c);
		const rp = relyingPartyOf(c.req.url);
		return c.json(await authenticationOptions(c.env.DB, rp, "sign_in", null, {}));
	});

	api.post("/dashboard/auth/sign-in/verify", async (c) => {
		const body = await readJsonBody(c);
		const response = assertion(body);
		const challenge = await takeChallenge(c.env.DB, text(body, "challenge_id", 64), "sign_in");
		const rp = relyingPartyOf(c.req.url);
		if (!challenge) throw new ApiError("sign_in_invalid", "The sign-in expired; try again.");
		const { passkey, verified } = await verifyAssertion(
			c.env.DB,
			rp,
			challenge.challenge,
			response,
		);
		// Counted per passkey's user once known: a stolen credential id cannot be tried at speed.
		if (!(await attemptAllowed(c, passkey?.user_id ?? null))) throw tooManyAttempts(c);
		const memberships = passkey ? await membershipsOf(c.env.DB, passkey.user_id) : [];
		if (!passkey || !verified) {
			if (passkey) {
				for (const m of memberships) {
					await auditAccount(c.env, {
						merchant_id: m.merchant_id,
						action: "dashboard.sign_in_failed",
						// Whoever tried is not the account's person: an anonymous actor, the target named.
						actor: { type: "anonymous", id: null },
						object_id: passkey.user_id,
						details: {
							method: "passkey",
							target_user: passkey.user_id,
							passkey: passkey.id,
							ip: c.req.header("CF-Connecting-IP") ?? null,
						},
					});
				}
			}
			log("info", "dashboard passkey sign-in refused", { known: passkey !== null });
			throw failed();
		}
		const wanted = typeof body.merchant === "string" ? body.merchant : null;
		const membership = memberships.find((m) => m.merchant_id === wanted) ?? memberships[0];
		if (!membership) {
			throw new ApiError(
				"sign_in_invalid",
				"Your passkey works, but you are no longer a member of any account.",
			);
		}
		await revokeDashboardSession(c);
		const session = await startDashboardSession(c, {
			merchantId: membership.merchant_id,
			livemode: false,
			subject: { kind: "user", userId: passkey.user_id, passkeyId: passkey.id },
			role: membership.role,
		});
		// Signing in is itself a passkey assertion: sensitive actions are open for five minutes.
		await recordStepUp(c.env.DB, session);
		await auditAccount(c.env, {
			merchant_id: membership.merchant_id,
			action: "dashboard.signed_in",
			actor: { type: "user", id: passkey.user_id, role: membership.role },
			object_id: passkey.user_id,
			details: { method: "passkey", passkey: passkey.id },
		});
		log("info", "dashboard sign-in", { merchant: membership.merchant_id, user: passkey.user_id });
		return c.json({ redirect: safeNext(typeof body.next === "string" ? body.next : null) });
	});

	api.post("/dashboard/auth/step-up/options", async (c) => {
		const session = await personSession(c);
		if (session.subject.kind !== "user") {
			throw new ApiError(
				"sign_in_invalid",
				"A secret-key session cannot confirm sensitive actions. Sign in with a passkey.",
			);
		}
		const passkeys = await passkeysOf(c.env.DB, session.subject.userId);
		if (passkeys.length === 0) {
			throw new ApiError(
				"sign_in_invalid",
				"You have no passkey yet. Add one on your account page, then confirm again.",
			);
		}
		const rp = relyingPartyOf(c.req.url);
		return c.json(
			await authenticationOptions(c.env.DB, rp, "step_up", passkeys, { jti: session.jti }),
		);
	});

	api.post("/dashboard/auth/step-up/verify", async (c) => {
		const session = await personSession(c);
		const body = await readJsonBody(c);
		const response = assertion(body);
		const challenge = await takeChallenge(c.env.DB, text(body, "challenge_id", 64), "step_up");
		// The challenge was issued to this session and no other.
		if (!challenge || challenge.subject.jti !== session.jti || session.subject.kind !== "user") {
			throw new ApiError("sign_in_invalid", "The confirmation expired; try again.");
		}
		const rp = relyingPartyOf(c.req.url);
		const { passkey, verified } = await verifyAssertion(
			c.env.DB,
			rp,
			challenge.challenge,
			response,
		);
		if (!passkey || !verified || passkey.user_id !== session.subject.userId) throw failed();
		await recordStepUp(c.env.DB, session);
		return c.json({ stepped_up: true });
	});

	// A person who already has an account accepts an invitation while signed in: the invitation
	// must be for their own email.
	api.post("/dashboard/auth/invitations/accept", async (c) => {
		const session = await personSession(c);
		const body = await readJsonBody(c);
		const id = text(body, "invitation", 64);
		if (!(await attemptAllowed(c, `invitation:${id}`))) throw tooManyAttempts(c);
		if (session.subject.kind !== "user" || session.email === null) {
			throw new ApiError("sign_in_invalid", "Sign in with your passkey to accept an invitation.");
		}
		const checked = await checkInvitation(c.env.DB, id, text(body, "token", 100));
		if (!checked.ok) throw new ApiError("resource_conflict", INVITATION_REFUSALS[checked.reason]);
		const invitation = checked.invitation;
		if (invitation.email !== session.email) {
			throw new ApiError(
				"resource_conflict",
				`This invitation is for another email address than the one you are signed in with (${session.email}). Sign out, then open the link again.`,
			);
		}
		const userId = session.subject.userId;
		const user = await getUser(c.env.DB, userId);
		if (!user) throw new ApiError("session_required", "Your session has ended. Sign in again.");
		const [spent] = await c.env.DB.batch([
			acceptInvitationStatement(c.env.DB, invitation.id, userId),
			insertInvitedMemberStatement(c.env.DB, {
				merchantId: invitation.merchant_id,
				userId,
				role: invitation.role,
				created: Math.floor(Date.now() / 1000),
				invitationId: invitation.id,
			}),
		]);
		if (spent?.meta.changes !== 1) {
			throw new ApiError("resource_conflict", INVITATION_REFUSALS.used);
		}
		await auditAccount(c.env, {
			merchant_id: invitation.merchant_id,
			action: "invitation.accepted",
			actor: { type: "user", id: userId, role: invitation.role },
			object_id: invitation.id,
			details: { email: invitation.email, role: invitation.role },
		});
		// The session moves to the merchant just joined.
		await revokeDashboardSession(c);
		await startDashboardSession(c, {
			merchantId: invitation.merchant_id,
			livemode: false,
			subject: session.subject,
			role: invitation.role,
		});
		return c.json({ redirect: "/dashboard" });
	});
}
