import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { call, createMerchant } from "./helpers/api";
import { BASE, Browser } from "./helpers/dashboard";
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
		// Recorded against the targeted account, by an anonymous actor: the owner did not act.
		const { results: failed } = await env.DB.prepare(
			"SELECT actor_type, actor_id, actor_role, object_id, details FROM audit_log WHERE merchant_id = ? AND action = 'dashboard.sign_in_failed'",
		)
			.bind(m.merchant.id)
			.all<{
				actor_type: string;
				actor_id: string | null;
				actor_role: string | null;
				object_id: string;
				details: string;
			}>();
		expect(failed).toHaveLength(2); // one failure, written to both modes
		for (const entry of failed) {
			expect(entry).toMatchObject({
				actor_type: "anonymous",
				actor_id: null,
				actor_role: null,
				object_id: owner.userId,
			});
			expect(JSON.parse(entry.details)).toMatchObject({
				method: "passkey",
				target_user: owner.userId,
			});
			expect(JSON.parse(entry.details)).toHaveProperty("ip");
		}
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
			// Its last character changed (base62: an "x" one time in 62).
			token: `${invitation.token.slice(0, -1)}${invitation.token.endsWith("x") ? "y" : "x"}`,
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
	});
});

describe("self-serve sign-up", () => {
	it("creates a merchant with the person as owner and shows its test key at once", async () => {
		const browser = new Browser();
		const email = `founder-${crypto.randomUUID().slice(0, 8)}@new.example`;
		const options = await browser.postJson("/dashboard/auth/register/options", {
			kind: "sign_up",
			email,
			business: "New Kiosk",
		});
		expect(options.status, await options.clone().text()).toBe(200);
		const { challenge_id, options: creation } = await options.json<{
			challenge_id: string;
			options: { challenge: string; rp: { id: string }; user: { id: string } };
		}>();
		const authenticator = new Authenticator();
		const res = await browser.postJson("/dashboard/auth/register/verify", {
			challenge_id,
			response: await authenticator.create(creation),
		});
		expect(res.status, await res.clone().text()).toBe(200);
		const body = await res.json<{ test_secret_key: string; recovery_codes: string[] }>();
		expect(body.test_secret_key).toMatch(/^sk_test_/);
		expect(body.recovery_codes).toHaveLength(10);
		const keys = await call("GET", "/v1/balances", { key: body.test_secret_key });
		expect(keys.status).toBe(200);
		const team = await browser.get("/dashboard/team");
		expect(await team.text()).toContain(`${email} · owner`);
	});

	it("is closed when DASHBOARD_SIGN_UP is off", async () => {
		const ctx = createExecutionContext();
		const res = await worker.fetch(
			new Request(`${BASE}/dashboard/auth/register/options`, {
				method: "POST",
				headers: { "Content-Type": "application/json", Origin: BASE },
				body: JSON.stringify({ kind: "sign_up", email: "x@closed.example", business: "X" }),
			}) as Request<unknown, IncomingRequestCfProperties>,
			{ ...env, DASHBOARD_SIGN_UP: "off" },
			ctx,
		);
		await waitOnExecutionContext(ctx);
		expect(res.status).toBe(404);
	});
});

describe("abuse", () => {
	it("limits sign-in attempts per IP and per account with the house error and Retry-After", async () => {
		const keys: string[] = [];
		const spent = {
			limit: async ({ key }: { key: string }) => {
				keys.push(key);
				return { success: false };
			},
		} as RateLimit;
		const ctx = createExecutionContext();
		const res = await worker.fetch(
			new Request(`${BASE}/dashboard/auth/sign-in/options`, {
				method: "POST",
				headers: {
					"Content-Type": "application/json",
					Origin: BASE,
					"CF-Connecting-IP": "203.0.113.9",
				},
				body: "{}",
			}) as Request<unknown, IncomingRequestCfProperties>,
			{ ...env, DASHBOARD_AUTH_RATE_LIMITER: spent },
			ctx,
		);
		await waitOnExecutionContext(ctx);
		expect(res.status).toBe(429);
		expect(res.headers.get("Retry-After")).toBe("60");
		const body = await res.json<{ error: { type: string; code: string } }>();
		expect(body.error).toMatchObject({ type: "rate_limit_error", code: "rate_limited" });
		expect(keys).toEqual(["ip:203.0.113.9"]);
		// A recovery attempt counts per account too.
		const recovery = await worker.fetch(
			new Request(`${BASE}/dashboard/recovery`, {
				method: "POST",
				headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: BASE },
				body: new URLSearchParams({ email: "a@b.example", code: "x" }).toString(),
			}) as Request<unknown, IncomingRequestCfProperties>,
			{ ...env, DASHBOARD_AUTH_RATE_LIMITER: spent },
			createExecutionContext(),
		);
		expect(recovery.status).toBe(429);
		expect(recovery.headers.get("Retry-After")).toBe("60");
		expect(keys).toContain("account:email:a@b.example");
	});

	it("never logs an invitation's secret or a recovery code", async () => {
		const lines: string[] = [];
		const spies = (["log", "info", "warn", "error"] as const).map((method) =>
			vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
				lines.push(args.map(String).join(" "));
			}),
		);
		try {
			const m = await createMerchant();
			const invitation = await adminInvitation(m.merchant.id, "quiet@team.example", "owner");
			const p = await registerThroughInvitation(invitation, "quiet@team.example");
			await new Browser().post("/dashboard/recovery", {
				email: p.email,
				code: p.recoveryCodes[0] as string,
			});
			const text = lines.join("\n");
			expect(text).not.toContain(invitation.token);
			for (const code of p.recoveryCodes) expect(text).not.toContain(code);
		} finally {
			for (const spy of spies) spy.mockRestore();
		}
	});
});
