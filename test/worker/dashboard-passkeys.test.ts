import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createMerchant } from "./helpers/api";
import { Browser, field } from "./helpers/dashboard";
import {
	Authenticator,
	adminInvitation,
	passkeySignIn,
	person,
	registerThroughInvitation,
} from "./helpers/passkey";

// Passkeys through @simplewebauthn/server on workerd: registration through an invitation, sign-in,
// sessions that name the person, sign-out, passkey removal, and the invitation's rules.

describe("passkey registration and sign-in", () => {
	it("registers an invited owner's passkey and signs them in with a session naming them", async () => {
		const m = await createMerchant("Passkey Tea");
		const owner = await person(m.merchant.id, "owner", "owner@tea.example");
		expect(owner.recoveryCodes).toHaveLength(10);
		const cookie = owner.browser.cookie as string;
		const payload = JSON.parse(atob((cookie.split("=")[1] as string).split(".")[1] as string));
		expect(payload).toMatchObject({ sub: m.merchant.id, usr: owner.userId, role: "owner" });
		const page = await owner.browser.get("/dashboard/keys");
		expect(page.status).toBe(200);
		expect(await page.text()).toContain("owner@tea.example · owner");

		// A fresh browser signs in with the same passkey (discoverable: no email asked).
		const { res, browser } = await passkeySignIn(owner.authenticator);
		expect(res.status, await res.clone().text()).toBe(200);
		expect(await res.json()).toEqual({ redirect: "/dashboard" });
		expect((await browser.get("/dashboard/team")).status).toBe(200);
	});

	it("refuses an unknown passkey, a replayed challenge and a forged signature", async () => {
		const m = await createMerchant();
		const owner = await person(m.merchant.id, "owner");
		// Unknown credential.
		const stranger = new Authenticator();
		await stranger.create({ challenge: "x", rp: { id: "gateway.test" }, user: { id: "dXNy" } });
		expect((await passkeySignIn(stranger)).res.status).toBe(401);
		// The same challenge twice: the second is refused.
		const browser = new Browser();
		const opts = await (await browser.postJson("/dashboard/auth/sign-in/options", {})).json<{
			challenge_id: string;
			options: { challenge: string; rpId: string };
		}>();
		const assertion = await owner.authenticator.get(opts.options);
		const first = await browser.postJson("/dashboard/auth/sign-in/verify", {
			challenge_id: opts.challenge_id,
			response: assertion,
		});
		expect(first.status).toBe(200);
		const again = await new Browser().postJson("/dashboard/auth/sign-in/verify", {
			challenge_id: opts.challenge_id,
			response: assertion,
		});
		expect(again.status).toBe(401);
		expect((await again.json<{ error: { code: string } }>()).error.code).toBe("sign_in_invalid");
		// A signature over another challenge.
		const other = await (await new Browser().postJson("/dashboard/auth/sign-in/options", {})).json<{
			challenge_id: string;
		}>();
		const forged = await new Browser().postJson("/dashboard/auth/sign-in/verify", {
			challenge_id: other.challenge_id,
			response: await owner.authenticator.get(opts.options),
		});
		expect(forged.status).toBe(401);
		const failed = await env.DB.prepare(
			"SELECT COUNT(*) AS n FROM audit_log WHERE merchant_id = ? AND action = 'dashboard.sign_in_failed' AND actor_id = ?",
		)
			.bind(m.merchant.id, owner.userId)
			.first<{ n: number }>();
		expect(failed?.n).toBe(2); // one failure, written to both modes
	});

	it("refuses a cross-origin ceremony", async () => {
		const res = await new Browser().post(
			"/dashboard/auth/sign-in/options",
			{},
			{ origin: "https://evil.example" },
		);
		expect(res.status).toBe(400);
	});
});

describe("invitations", () => {
	it("works once: a second registration with the same link is refused", async () => {
		const m = await createMerchant();
		const invitation = await adminInvitation(m.merchant.id, "once@team.example", "analyst");
		await registerThroughInvitation(invitation, "once@team.example");
		const again = await new Browser().postJson("/dashboard/auth/register/options", {
			kind: "invitation",
			invitation: invitation.id,
			token: invitation.token,
		});
		expect(again.status).toBe(409);
		expect(await again.text()).toMatch(/already been used/);
	});

	it("refuses a wrong secret and an expired invitation", async () => {
		const m = await createMerchant();
		const invitation = await adminInvitation(m.merchant.id, "late@team.example", "support");
		const wrong = await new Browser().postJson("/dashboard/auth/register/options", {
			kind: "invitation",
			invitation: invitation.id,
			token: `${invitation.token.slice(0, -1)}x`,
		});
		expect(wrong.status).toBe(409);
		expect(await wrong.text()).toMatch(/not valid/);
		await env.DB.prepare("UPDATE invitations SET expires_at = ? WHERE id = ?")
			.bind(Math.floor(Date.now() / 1000) - 1, invitation.id)
			.run();
		const expired = await new Browser().postJson("/dashboard/auth/register/options", {
			kind: "invitation",
			invitation: invitation.id,
			token: invitation.token,
		});
		expect(expired.status).toBe(409);
		expect(await expired.text()).toMatch(/expired/);
	});

	it("refuses an invitation for another email to a signed-in person (wrong account)", async () => {
		const a = await createMerchant();
		const b = await createMerchant();
		const alice = await person(a.merchant.id, "owner", `alice-${crypto.randomUUID()}@team.example`);
		const forBob = await adminInvitation(b.merchant.id, "bob@team.example", "admin");
		const join = await alice.browser.get(`/dashboard/join/${forBob.id}`);
		const csrf = /data-csrf="([^"]+)"/.exec(await join.text())?.[1] as string;
		const res = await alice.browser.postJson(
			"/dashboard/auth/invitations/accept",
			{ invitation: forBob.id, token: forBob.token },
			csrf,
		);
		expect(res.status).toBe(409);
		expect(await res.text()).toMatch(/another email address/);
		// Invited with her own address, she joins the second merchant with that role.
		const forAlice = await adminInvitation(b.merchant.id, alice.email, "developer");
		const ok = await alice.browser.postJson(
			"/dashboard/auth/invitations/accept",
			{ invitation: forAlice.id, token: forAlice.token },
			csrf,
		);
		expect(ok.status, await ok.clone().text()).toBe(200);
		const keys = await alice.browser.get("/dashboard/keys");
		expect(await keys.text()).toContain(" · developer");
		void field;
	});
});
