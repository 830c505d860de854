import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createMerchant } from "./helpers/api";
import { BASE, Browser } from "./helpers/dashboard";
import { Authenticator, passkeySignIn, person, stepUpWith } from "./helpers/passkey";

// Attacks found by a black-box review of team accounts, each replayed against the Worker.

/** An owner invites `email` through the dashboard; the link's id and secret. */
async function dashboardInvite(browser: Browser, email: string, role = "owner") {
	const res = await browser.post("/dashboard/team/invitations", {
		csrf: await browser.csrf(),
		email,
		role,
	});
	expect(res.status).toBe(200);
	const url = /id="invitation-url">([^<]+)</.exec(await res.text())?.[1] as string;
	const link = new URL(url.trim());
	return { id: link.pathname.split("/").pop() as string, token: link.hash.slice(1) };
}

function registerOptions(invitation: { id: string; token: string }) {
	return new Browser().postJson("/dashboard/auth/register/options", {
		kind: "invitation",
		invitation: invitation.id,
		token: invitation.token,
	});
}

describe("a removed or demoted owner's invitations", () => {
	for (const how of ["removed", "demoted"] as const) {
		it(`are withdrawn when the owner who sent them is ${how}`, async () => {
			const m = await createMerchant();
			const o1 = await person(m.merchant.id, "owner");
			const o2 = await person(m.merchant.id, "owner");
			const backdoor = await dashboardInvite(o2.browser, `backdoor-${how}@evil.example`);
			// Another owner's invitation is untouched.
			const kept = await dashboardInvite(o1.browser, `kept-${how}@team.example`, "analyst");
			const csrf = await o1.browser.csrf();
			const res =
				how === "removed"
					? await o1.browser.post(`/dashboard/team/members/${o2.userId}/remove`, { csrf })
					: await o1.browser.post(`/dashboard/team/members/${o2.userId}/role`, {
							csrf,
							role: "admin",
						});
			expect(res.status).toBe(303);
			const refused = await registerOptions(backdoor);
			expect(refused.status).toBe(409);
			expect(await refused.text()).toMatch(/withdrawn/);
			expect((await registerOptions(kept)).status).toBe(200);
			const audit = await call("GET", `/v1/audit_log?object_id=${backdoor.id}`, { key: m.sk });
			const entries = (
				await audit.json<{ data: { action: string; actor: { id: string }; details: object }[] }>()
			).data;
			const revoked = entries.find((e) => e.action === "invitation.revoked");
			expect(revoked?.actor.id).toBe(o1.userId);
			expect(revoked?.details).toMatchObject({
				inviter: o2.userId,
				reason: how === "removed" ? "inviter_removed" : "inviter_role_changed",
			});
		});
	}

	it("stay valid when the owner's new role may still invite", async () => {
		const m = await createMerchant();
		const o1 = await person(m.merchant.id, "owner");
		const admin = await person(m.merchant.id, "admin");
		const csrf = await o1.browser.csrf();
		const promoted = await o1.browser.post(`/dashboard/team/members/${admin.userId}/role`, {
			csrf,
			role: "owner",
		});
		expect(promoted.status).toBe(303);
		const invitation = await dashboardInvite(admin.browser, "fine@team.example", "analyst");
		expect((await registerOptions(invitation)).status).toBe(200);
	});
});

type CreationOptions = { challenge: string; rp: { id: string }; user: { id: string } };

/** Asks to add a passkey in `browser`'s session: the options answer. */
function addOptions(browser: Browser, csrf: string) {
	return browser.postJson("/dashboard/auth/register/options", { kind: "add" }, csrf);
}

/** Adds a passkey made by `authenticator` in `browser`'s session (options must be allowed). */
async function addPasskey(browser: Browser, csrf: string, authenticator: Authenticator) {
	const options = await addOptions(browser, csrf);
	expect(options.status, await options.clone().text()).toBe(200);
	const { challenge_id, options: creation } = await options.json<{
		challenge_id: string;
		options: CreationOptions;
	}>();
	return browser.postJson(
		"/dashboard/auth/register/verify",
		{ challenge_id, response: await authenticator.create(creation), name: "Added" },
		csrf,
	);
}

async function passkeyIds(userId: string): Promise<string[]> {
	const { results } = await env.DB.prepare("SELECT id FROM passkeys WHERE user_id = ? ORDER BY id")
		.bind(userId)
		.all<{ id: string }>();
	return results.map((r) => r.id);
}

async function forgetStepUp(browser: Browser) {
	const cookie = browser.cookie as string;
	const payload = JSON.parse(atob((cookie.split("=")[1] as string).split(".")[1] as string));
	await env.DB.prepare("DELETE FROM session_step_ups WHERE jti = ?").bind(payload.jti).run();
}

async function recoverySignIn(email: string, code: string): Promise<Browser> {
	const browser = new Browser();
	const res = await browser.post("/dashboard/recovery", { email, code });
	expect(res.status).toBe(303);
	expect(res.headers.get("Location")).toBe("/dashboard/account?recovered=1");
	return browser;
}

describe("adding and removing passkeys needs a step-up", () => {
	it("an ordinary session without step-up can neither add nor remove; with a fresh one it can", async () => {
		const m = await createMerchant();
		const owner = await person(m.merchant.id, "owner");
		const [original] = await passkeyIds(owner.userId);
		await forgetStepUp(owner.browser);
		const csrf = await owner.browser.csrf("/dashboard/account");
		expect(await (await owner.browser.get("/dashboard/account")).text()).toContain(
			'data-step-up="1"',
		);
		const add = await addOptions(owner.browser, csrf);
		expect(add.status).toBe(401);
		expect(await add.text()).toMatch(/fresh confirmation/);
		const remove = await owner.browser.post(`/dashboard/account/passkeys/${original}/remove`, {
			csrf,
		});
		expect(remove.status).toBe(403);
		expect(await remove.text()).toMatch(/Confirm it('|&#39;)s you/);
		expect(await passkeyIds(owner.userId)).toEqual([original]);

		expect((await stepUpWith(owner, csrf)).status).toBe(200);
		const added = await addPasskey(owner.browser, csrf, new Authenticator());
		expect(added.status, await added.clone().text()).toBe(200);
		const ids = await passkeyIds(owner.userId);
		expect(ids).toHaveLength(2);
		const extra = ids.find((id) => id !== original) as string;
		const removed = await owner.browser.post(`/dashboard/account/passkeys/${extra}/remove`, {
			csrf,
		});
		expect(removed.status).toBe(303);
		expect(await passkeyIds(owner.userId)).toEqual([original]);
	});

	it("a recovery sign-in adds one passkey right after, which ends the person's other sessions", async () => {
		const m = await createMerchant();
		const owner = await person(m.merchant.id, "owner");
		const [original] = await passkeyIds(owner.userId);
		const elsewhere = (await passkeySignIn(owner.authenticator)).browser;
		const recovered = await recoverySignIn(owner.email, owner.recoveryCodes[0] as string);
		let csrf = await recovered.csrf("/dashboard/account");
		// No step-up: the owner's passkeys cannot be removed from this session.
		const remove = await recovered.post(`/dashboard/account/passkeys/${original}/remove`, { csrf });
		expect(remove.status).toBe(403);
		const added = await addPasskey(recovered, csrf, new Authenticator());
		expect(added.status, await added.clone().text()).toBe(200);
		expect(await passkeyIds(owner.userId)).toHaveLength(2);
		// Every other session of the person has ended; this one continues on the new passkey.
		expect((await owner.browser.get("/dashboard/keys")).status).toBe(303);
		expect((await elsewhere.get("/dashboard/keys")).status).toBe(303);
		expect((await recovered.get("/dashboard/account")).status).toBe(200);
		// Once only: a second passkey, or removing one, needs a step-up.
		csrf = await recovered.csrf("/dashboard/account");
		expect((await addOptions(recovered, csrf)).status).toBe(401);
		const again = await recovered.post(`/dashboard/account/passkeys/${original}/remove`, { csrf });
		expect(again.status).toBe(403);
		expect(await passkeyIds(owner.userId)).toContain(original);
		const audit = await env.DB.prepare(
			"SELECT details FROM audit_log WHERE merchant_id = ? AND action = 'passkey.added' AND livemode = 0",
		)
			.bind(m.merchant.id)
			.first<{ details: string }>();
		expect(JSON.parse(audit?.details as string)).toMatchObject({
			via: "recovery_code",
			other_sessions_ended: true,
		});
	});

	it("a recovery session past its window cannot add a passkey without a step-up", async () => {
		const m = await createMerchant();
		const owner = await person(m.merchant.id, "owner");
		const recovered = await recoverySignIn(owner.email, owner.recoveryCodes[0] as string);
		const csrf = await recovered.csrf("/dashboard/account");
		const later = Date.now() + 11 * 60 * 1000;
		const realNow = Date.now;
		Date.now = () => later;
		try {
			expect((await addOptions(recovered, csrf)).status).toBe(401);
		} finally {
			Date.now = realNow;
		}
	});
});

describe("sessions opened with a recovery code", () => {
	it("end when the person makes new recovery codes", async () => {
		const m = await createMerchant();
		const owner = await person(m.merchant.id, "owner");
		const thief = await recoverySignIn(owner.email, owner.recoveryCodes[0] as string);
		expect((await thief.get("/dashboard/keys")).status).toBe(200);
		const res = await owner.browser.post("/dashboard/account/recovery-codes", {
			csrf: await owner.browser.csrf("/dashboard/account"),
		});
		expect(res.status).toBe(200);
		const after = await thief.get("/dashboard/keys");
		expect(after.status).toBe(303);
		expect(after.headers.get("Location")).toMatch(/^\/dashboard\/sign-in/);
		expect((await owner.browser.get("/dashboard/keys")).status).toBe(200);
	});

	it("and every other session ends with 'sign out everywhere else'", async () => {
		const m = await createMerchant();
		const owner = await person(m.merchant.id, "owner");
		const thief = await recoverySignIn(owner.email, owner.recoveryCodes[0] as string);
		const elsewhere = (await passkeySignIn(owner.authenticator)).browser;
		const page = await owner.browser.get("/dashboard/account");
		expect(await page.text()).toContain('id="end-other-sessions"');
		const res = await owner.browser.post("/dashboard/account/sessions/end-others", {
			csrf: await owner.browser.csrf("/dashboard/account"),
		});
		expect(res.status).toBe(303);
		expect((await thief.get("/dashboard/keys")).status).toBe(303);
		expect((await elsewhere.get("/dashboard/keys")).status).toBe(303);
		expect((await owner.browser.get("/dashboard/keys")).status).toBe(200);
	});
});

describe("a passkey registered already", () => {
	it("answers 409 in the house shape and changes nothing", async () => {
		const m = await createMerchant();
		const owner = await person(m.merchant.id, "owner");
		const csrf = await owner.browser.csrf("/dashboard/account");
		const before = await passkeyIds(owner.userId);
		// An authenticator that makes a credential with the id of the owner's own passkey.
		const copy = new Authenticator();
		const existing = owner.authenticator.credentials[0]?.id as Uint8Array;
		const realRandom = crypto.getRandomValues.bind(crypto);
		const options = await addOptions(owner.browser, csrf);
		const { challenge_id, options: creation } = await options.json<{
			challenge_id: string;
			options: CreationOptions;
		}>();
		crypto.getRandomValues = (<T extends ArrayBufferView | null>(array: T): T => {
			(array as unknown as Uint8Array).set(existing);
			return array;
		}) as typeof crypto.getRandomValues;
		let response: Awaited<ReturnType<Authenticator["create"]>>;
		try {
			response = await copy.create(creation);
		} finally {
			crypto.getRandomValues = realRandom;
		}
		const res = await owner.browser.postJson(
			"/dashboard/auth/register/verify",
			{ challenge_id, response, name: "Duplicate" },
			csrf,
		);
		expect(res.status).toBe(409);
		const body = await res.json<{ error: { type: string; code: string; message: string } }>();
		expect(body.error).toMatchObject({ type: "invalid_request_error", code: "resource_conflict" });
		expect(body.error.message).toMatch(/registered already/);
		expect(await passkeyIds(owner.userId)).toEqual(before);
	});
});

describe("failed sign-ins", () => {
	it("are audited with an anonymous actor naming the targeted account and the client IP", async () => {
		const m = await createMerchant();
		const owner = await person(m.merchant.id, "owner");
		const res = await exports.default.fetch(
			new Request(`${BASE}/dashboard/recovery`, {
				method: "POST",
				headers: {
					"Content-Type": "application/x-www-form-urlencoded",
					Origin: BASE,
					"CF-Connecting-IP": "198.51.100.7",
				},
				body: new URLSearchParams({ email: owner.email, code: "WRONG-CODE-0000" }).toString(),
				redirect: "manual",
			}),
		);
		expect(res.status).toBe(401);
		const audit = await call(
			"GET",
			`/v1/audit_log?action=dashboard.sign_in_failed&object_id=${owner.userId}`,
			{ key: m.sk },
		);
		const entries = (
			await audit.json<{
				data: {
					actor: { type: string; id: string | null; role: string | null };
					details: object;
				}[];
			}>()
		).data;
		expect(entries).toHaveLength(1);
		expect(entries[0]?.actor).toEqual({ type: "anonymous", id: null, role: null });
		expect(entries[0]?.details).toMatchObject({
			method: "recovery_code",
			target_user: owner.userId,
			ip: "198.51.100.7",
		});
	});
});

describe("sign-up email addresses", () => {
	function signUpOptions(email: string) {
		return new Browser().postJson("/dashboard/auth/register/options", {
			kind: "sign_up",
			email,
			business: "Look-alike Ltd",
		});
	}

	async function signUp(email: string) {
		const browser = new Browser();
		const options = await browser.postJson("/dashboard/auth/register/options", {
			kind: "sign_up",
			email,
			business: "First Ltd",
		});
		expect(options.status, await options.clone().text()).toBe(200);
		const { challenge_id, options: creation } = await options.json<{
			challenge_id: string;
			options: CreationOptions;
		}>();
		const res = await browser.postJson("/dashboard/auth/register/verify", {
			challenge_id,
			response: await new Authenticator().create(creation),
		});
		expect(res.status, await res.clone().text()).toBe(200);
	}

	it("refuses control, format and zero-width characters with a 400 naming email", async () => {
		for (const email of [
			"vic\u200Btim@pay.example",
			"victim\u200D@pay.example",
			"\u202Evictim@pay.example",
			"vic\u0007tim@pay.example",
			"\uFEFFvictim@pay.example",
			"vic\u2060tim@pay.example",
		]) {
			const res = await signUpOptions(email);
			expect(res.status, JSON.stringify(email)).toBe(400);
			const body = await res.json<{ error: { code: string; param: string } }>();
			expect(body.error).toMatchObject({ code: "parameter_invalid", param: "email" });
		}
	});

	it("compares addresses in NFKC, lower-cased and trimmed: a look-alike is the same address", async () => {
		const email = `boss-${crypto.randomUUID().slice(0, 8)}@pay.example`;
		await signUp(email);
		// Full-width letters and an upper-case, padded spelling are the address already taken.
		const fullWidth = email.replace("boss", "\uFF42\uFF4F\uFF53\uFF53");
		for (const lookAlike of [fullWidth, `  ${email.toUpperCase()} `]) {
			const res = await signUpOptions(lookAlike);
			expect(res.status, lookAlike).toBe(409);
			expect(await res.text()).toMatch(/An account with this email exists/);
		}
		const { results } = await env.DB.prepare("SELECT email FROM users WHERE email LIKE ?")
			.bind("%@pay.example")
			.all<{ email: string }>();
		expect(results.map((r) => r.email)).toContain(email);
		expect(results.map((r) => r.email)).not.toContain(fullWidth);
	});

	it("refuses an address with a pending invitation and points to the invitation's link", async () => {
		const m = await createMerchant();
		const owner = await person(m.merchant.id, "owner");
		const email = `invited-${crypto.randomUUID().slice(0, 8)}@pay.example`;
		const invitation = await dashboardInvite(owner.browser, email, "analyst");
		for (const attempt of [email, email.toUpperCase(), email.replace("i", "\uFF49")]) {
			const res = await signUpOptions(attempt);
			expect(res.status, attempt).toBe(409);
			const body = await res.json<{ error: { message: string; param: string } }>();
			expect(body.error.param).toBe("email");
			expect(body.error.message).toMatch(/pending invitation.*invitation's link/);
		}
		// The invitation still works for its person.
		expect((await registerOptions(invitation)).status).toBe(200);
	});

	it("an invitation sent after the sign-up began still wins", async () => {
		const m = await createMerchant();
		const owner = await person(m.merchant.id, "owner");
		const email = `race-${crypto.randomUUID().slice(0, 8)}@pay.example`;
		const browser = new Browser();
		const options = await browser.postJson("/dashboard/auth/register/options", {
			kind: "sign_up",
			email,
			business: "Squatter",
		});
		expect(options.status).toBe(200);
		const { challenge_id, options: creation } = await options.json<{
			challenge_id: string;
			options: CreationOptions;
		}>();
		await dashboardInvite(owner.browser, email, "analyst");
		const res = await browser.postJson("/dashboard/auth/register/verify", {
			challenge_id,
			response: await new Authenticator().create(creation),
		});
		expect(res.status).toBe(409);
		expect(await res.text()).toMatch(/pending invitation/);
		const user = await env.DB.prepare("SELECT id FROM users WHERE email = ?").bind(email).first();
		expect(user).toBeNull();
	});
});

describe("team invitations and recovery use the same email form", () => {
	it("an invitation refuses hidden characters and stores the normal form", async () => {
		const m = await createMerchant();
		const owner = await person(m.merchant.id, "owner");
		const csrf = await owner.browser.csrf("/dashboard/team");
		const hidden = await owner.browser.post("/dashboard/team/invitations", {
			csrf,
			email: "new\u200Bhire@pay.example",
			role: "analyst",
		});
		expect(hidden.status).toBe(400);
		expect(await hidden.text()).toMatch(/invisible or control characters/);
		await dashboardInvite(owner.browser, " \uFF2EEW@Pay.Example ", "analyst");
		const row = await env.DB.prepare(
			"SELECT email FROM invitations WHERE merchant_id = ? ORDER BY id DESC LIMIT 1",
		)
			.bind(m.merchant.id)
			.first<{ email: string }>();
		expect(row?.email).toBe("new@pay.example");
	});

	it("a recovery sign-in finds the account under a compatible spelling", async () => {
		const m = await createMerchant();
		const owner = await person(
			m.merchant.id,
			"owner",
			`keeper-${crypto.randomUUID().slice(0, 6)}@pay.example`,
		);
		const browser = new Browser();
		const res = await browser.post("/dashboard/recovery", {
			email: ` ${owner.email.replace("k", "\uFF2B")}`,
			code: owner.recoveryCodes[1] as string,
		});
		expect(res.status).toBe(303);
		expect(res.headers.get("Location")).toBe("/dashboard/account?recovered=1");
	});
});
