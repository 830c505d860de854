import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { ROLES, type Role } from "../../src/domain/roles";
import { call, createMerchant, createPayment } from "./helpers/api";
import { type Browser, signedIn } from "./helpers/dashboard";
import { type Person, person, stepUpWith } from "./helpers/passkey";

// Every dashboard route × every role: allowed, or refused on the server (403, or for /dashboard a
// redirect to the role's own home page). The table below is the expectation, written out; the
// first test fails when a route is added to the dashboard without a row here.

type Row = { method: "GET" | "POST"; path: string; allowed: readonly Role[]; route: string };

const ALL = ROLES;
const OWNER_ADMIN = ["owner", "admin"] as const;

let m: Awaited<ReturnType<typeof createMerchant>>;
let people: Record<Role, Person>;
let paymentId: string;

function rows(): Row[] {
	const keyId = m.keys.find((k) => k.type === "publishable" && !k.livemode)?.id as string;
	return [
		{
			method: "GET",
			route: "/dashboard",
			path: "/dashboard",
			allowed: ["owner", "admin", "analyst"],
		},
		{
			method: "GET",
			route: "/dashboard/payments",
			path: "/dashboard/payments",
			allowed: ["owner", "admin", "analyst", "support"],
		},
		{
			method: "GET",
			route: "/dashboard/payments/:id",
			path: `/dashboard/payments/${paymentId}`,
			allowed: ["owner", "admin", "analyst", "support"],
		},
		{
			method: "POST",
			route: "/dashboard/payments/:id/refunds",
			path: `/dashboard/payments/${paymentId}/refunds`,
			allowed: ["owner", "admin", "support"],
		},
		{
			method: "POST",
			route: "/dashboard/payments/:id/cancel",
			// An unknown id: the allowed roles get its 404, and the shared payment stays open.
			path: "/dashboard/payments/pay_unknown/cancel",
			allowed: ["owner", "admin", "support"],
		},
		{
			method: "GET",
			route: "/dashboard/balances",
			path: "/dashboard/balances",
			allowed: ["owner", "admin", "analyst"],
		},
		{
			method: "GET",
			route: "/dashboard/payouts",
			path: "/dashboard/payouts",
			allowed: ["owner", "admin", "analyst"],
		},
		{
			method: "POST",
			route: "/dashboard/payouts",
			path: "/dashboard/payouts",
			allowed: OWNER_ADMIN,
		},
		{
			method: "POST",
			route: "/dashboard/payouts/schedule",
			path: "/dashboard/payouts/schedule",
			allowed: OWNER_ADMIN,
		},
		{
			method: "GET",
			route: "/dashboard/payouts/:id",
			path: "/dashboard/payouts/po_unknown",
			allowed: ["owner", "admin", "analyst"],
		},
		{
			method: "POST",
			route: "/dashboard/payouts/:id/cancel",
			path: "/dashboard/payouts/po_unknown/cancel",
			allowed: OWNER_ADMIN,
		},
		{
			method: "POST",
			route: "/dashboard/payouts/destinations/challenge",
			path: "/dashboard/payouts/destinations/challenge",
			allowed: OWNER_ADMIN,
		},
		{
			method: "POST",
			route: "/dashboard/payouts/destinations/wallet",
			path: "/dashboard/payouts/destinations/wallet",
			allowed: OWNER_ADMIN,
		},
		{
			method: "POST",
			route: "/dashboard/payouts/destinations/stripe",
			path: "/dashboard/payouts/destinations/stripe",
			allowed: OWNER_ADMIN,
		},
		{
			method: "GET",
			route: "/dashboard/payouts/destinations/:id/onboard",
			path: "/dashboard/payouts/destinations/pd_unknown/onboard",
			allowed: OWNER_ADMIN,
		},
		{
			method: "POST",
			route: "/dashboard/payouts/destinations/:id/default",
			path: "/dashboard/payouts/destinations/pd_unknown/default",
			allowed: OWNER_ADMIN,
		},
		{
			method: "POST",
			route: "/dashboard/payouts/destinations/:id/remove",
			path: "/dashboard/payouts/destinations/pd_unknown/remove",
			allowed: OWNER_ADMIN,
		},
		{
			method: "GET",
			route: "/dashboard/webhooks",
			path: "/dashboard/webhooks",
			allowed: ["owner", "admin", "developer"],
		},
		{
			method: "POST",
			route: "/dashboard/webhooks",
			path: "/dashboard/webhooks",
			allowed: ["owner", "admin", "developer"],
		},
		{
			method: "GET",
			route: "/dashboard/webhooks/:id",
			path: "/dashboard/webhooks/we_00000000000000000000000000000",
			allowed: ["owner", "admin", "developer"],
		},
		{
			method: "GET",
			route: "/dashboard/keys",
			path: "/dashboard/keys",
			allowed: ["owner", "admin", "developer"],
		},
		{
			method: "POST",
			route: "/dashboard/keys/:id/roll",
			path: `/dashboard/keys/${keyId}/roll`,
			allowed: ["owner", "admin", "developer"],
		},
		{
			method: "POST",
			route: "/dashboard/keys/:id/revoke",
			path: "/dashboard/keys/key_unknown/revoke",
			allowed: ["owner", "admin", "developer"],
		},
		{
			method: "GET",
			route: "/dashboard/rules",
			path: "/dashboard/rules",
			allowed: ["owner", "admin", "developer"],
		},
		{
			method: "POST",
			route: "/dashboard/rules/risk",
			path: "/dashboard/rules/risk",
			allowed: OWNER_ADMIN,
		},
		{
			method: "POST",
			route: "/dashboard/rules/routing",
			path: "/dashboard/rules/routing",
			allowed: OWNER_ADMIN,
		},
		{
			method: "GET",
			route: "/dashboard/reports",
			path: "/dashboard/reports",
			allowed: ["owner", "admin", "analyst"],
		},
		{
			method: "POST",
			route: "/dashboard/reports",
			path: "/dashboard/reports",
			allowed: ["owner", "admin", "analyst"],
		},
		{
			method: "GET",
			route: "/dashboard/reports/:id/download",
			path: "/dashboard/reports/rpt_unknown/download",
			allowed: ["owner", "admin", "analyst"],
		},
		{
			method: "GET",
			route: "/dashboard/audit",
			path: "/dashboard/audit",
			allowed: ["owner", "admin", "developer"],
		},
		{ method: "GET", route: "/dashboard/team", path: "/dashboard/team", allowed: OWNER_ADMIN },
		{
			method: "POST",
			route: "/dashboard/team/invitations",
			path: "/dashboard/team/invitations",
			allowed: ["owner"],
		},
		{
			method: "POST",
			route: "/dashboard/team/invitations/:id/revoke",
			path: "/dashboard/team/invitations/inv_unknown/revoke",
			allowed: ["owner"],
		},
		{
			method: "POST",
			route: "/dashboard/team/members/:user/role",
			path: "/dashboard/team/members/usr_unknown/role",
			allowed: ["owner"],
		},
		{
			method: "POST",
			route: "/dashboard/team/members/:user/remove",
			path: "/dashboard/team/members/usr_unknown/remove",
			allowed: ["owner"],
		},
		{
			method: "GET",
			route: "/dashboard/settings",
			path: "/dashboard/settings",
			allowed: OWNER_ADMIN,
		},
		{
			method: "POST",
			route: "/dashboard/settings",
			path: "/dashboard/settings",
			allowed: OWNER_ADMIN,
		},
		{ method: "GET", route: "/dashboard/account", path: "/dashboard/account", allowed: ALL },
		{
			method: "POST",
			route: "/dashboard/account/passkeys/:id/remove",
			path: "/dashboard/account/passkeys/psk_unknown/remove",
			allowed: ALL,
		},
		{
			method: "POST",
			route: "/dashboard/account/recovery-codes",
			path: "/dashboard/account/recovery-codes",
			allowed: ALL,
		},
		{
			method: "POST",
			route: "/dashboard/account/switch",
			path: "/dashboard/account/switch",
			allowed: ALL,
		},
		{
			method: "POST",
			route: "/dashboard/account/sessions/end-others",
			path: "/dashboard/account/sessions/end-others",
			allowed: ALL,
		},
		{ method: "POST", route: "/dashboard/mode", path: "/dashboard/mode", allowed: ALL },
	];
}

/** Routes that need no session (sign-in, sign-up, invitations, assets, the passkey ceremonies). */
const PUBLIC = new Set([
	"GET /dashboard/assets/:file",
	"GET /dashboard/sign-in",
	"POST /dashboard/sign-in",
	"POST /dashboard/recovery",
	"POST /dashboard/sign-out",
	"GET /dashboard/join/:id",
	"GET /dashboard/sign-up",
]);

beforeAll(async () => {
	m = await createMerchant("Roles Bakery");
	paymentId = (await createPayment(m.sk, { amount: 1000 })).id;
	const entries = await Promise.all(
		ROLES.map(async (r) => [r, await person(m.merchant.id, r)] as const),
	);
	people = Object.fromEntries(entries) as Record<Role, Person>;
});

describe("every dashboard route × role", () => {
	it("has a row for every route the dashboard registers", () => {
		const registered = createApp()
			.routes.filter((r) => r.path.startsWith("/dashboard") && r.method !== "ALL")
			.filter((r) => !r.path.startsWith("/dashboard/auth/"))
			.map((r) => `${r.method} ${r.path}`);
		const listed = new Set([...rows().map((r) => `${r.method} ${r.route}`), ...PUBLIC]);
		for (const route of new Set(registered)) expect(listed, route).toContain(route);
	});

	for (const role of ROLES) {
		it(`${role}: allowed where the table says, refused (403 or home) elsewhere`, async () => {
			const p = people[role];
			let csrf = await p.browser.csrf("/dashboard/account");
			for (const row of rows()) {
				// Ending the other sessions signs this one again: its CSRF token is read anew after.
				if (row.route === "/dashboard/mode") csrf = await p.browser.csrf("/dashboard/account");
				const res =
					row.method === "GET"
						? await p.browser.get(row.path)
						: await p.browser.post(row.path, { csrf });
				const text = await res.text();
				const label = `${role} ${row.method} ${row.path} → ${res.status}`;
				if (row.allowed.includes(role)) {
					expect(text, label).not.toMatch(/does not allow this/);
					expect([403], label).not.toContain(res.status);
				} else if (row.method === "GET" && row.path === "/dashboard") {
					expect(res.status, label).toBe(303);
					expect(res.headers.get("Location"), label).toMatch(/^\/dashboard\/(payments|keys)$/);
				} else {
					expect(res.status, label).toBe(403);
					expect(text, label).toMatch(/Your role \(\w+\) does not allow this/);
				}
			}
		});
	}

	it("a test secret key session is an admin without team changes or step-up", async () => {
		const browser = await signedIn(m.sk);
		expect((await browser.get("/dashboard/team")).status).toBe(200);
		const csrf = await browser.csrf();
		const invite = await browser.post("/dashboard/team/invitations", {
			csrf,
			email: "x@y.example",
			role: "owner",
		});
		expect(invite.status).toBe(403);
		const keyId = m.keys.find((k) => k.type === "publishable" && !k.livemode)?.id as string;
		const roll = await browser.post(`/dashboard/keys/${keyId}/roll`, { csrf, grace: "0" });
		expect(roll.status).toBe(403);
		expect(await roll.text()).toMatch(/test secret key session has no passkey/);
	});
});

describe("step-up", () => {
	async function rollAttempt(browser: Browser, keyId: string) {
		return browser.post(`/dashboard/keys/${keyId}/roll`, {
			csrf: await browser.csrf(),
			grace: "0",
		});
	}

	it("fresh: a passkey check in the last five minutes lets a key roll through", async () => {
		const n = await createMerchant();
		const developer = await person(n.merchant.id, "developer");
		const keyId = n.keys.find((k) => k.type === "publishable" && !k.livemode)?.id as string;
		const res = await rollAttempt(developer.browser, keyId);
		expect(res.status).toBe(200);
		expect(await res.text()).toMatch(/id="new-secret">pk_test_/);
	});

	it("missing and stale: the form comes back behind a passkey check, which then lets it through", async () => {
		const n = await createMerchant();
		const owner = await person(n.merchant.id, "owner");
		const keyId = n.keys.find((k) => k.type === "publishable" && !k.livemode)?.id as string;
		// Missing: no step-up recorded for this session.
		await env.DB.prepare("DELETE FROM session_step_ups").run();
		const missing = await rollAttempt(owner.browser, keyId);
		expect(missing.status).toBe(403);
		const page = await missing.text();
		expect(page).toMatch(/Confirm it('|&#39;)s you/);
		expect(page).toContain(`action="/dashboard/keys/${keyId}/roll"`);
		expect(page).toContain('name="grace" value="0"');
		// Stale: six minutes ago.
		const csrf = await owner.browser.csrf();
		expect((await stepUpWith(owner, csrf)).status).toBe(200);
		await env.DB.prepare("UPDATE session_step_ups SET stepped_up_at = stepped_up_at - 360").run();
		expect((await rollAttempt(owner.browser, keyId)).status).toBe(403);
		const nothing = await env.DB.prepare("SELECT rolled_to FROM api_keys WHERE id = ?")
			.bind(keyId)
			.first();
		expect(nothing?.rolled_to).toBeNull();
		// Fresh again.
		expect((await stepUpWith(owner, csrf)).status).toBe(200);
		expect((await rollAttempt(owner.browser, keyId)).status).toBe(200);
	});

	it("refunds above the merchant's amount need it; below it they do not", async () => {
		const n = await createMerchant();
		const owner = await person(n.merchant.id, "owner");
		const csrf = await owner.browser.csrf();
		const saved = await owner.browser.post("/dashboard/settings", {
			csrf,
			amount: "5.00",
			currency: "usd",
		});
		expect(saved.status).toBe(303);
		await env.DB.prepare("DELETE FROM session_step_ups").run();
		const pay = await createPayment(n.sk, { amount: 1000 });
		const res = await owner.browser.post(`/dashboard/payments/${pay.id}/refunds`, {
			csrf,
			amount: "6.00",
			form_token: "a".repeat(32),
		});
		expect(res.status).toBe(403);
		expect(await res.text()).toMatch(/Confirm it('|&#39;)s you/);
		const small = await owner.browser.post(`/dashboard/payments/${pay.id}/refunds`, {
			csrf,
			amount: "4.00",
			form_token: "b".repeat(32),
		});
		// Past the step-up: the refund service answers (this payment was never paid).
		expect(small.status).not.toBe(403);
	});
});

describe("removal", () => {
	it("ends a removed member's session at their next request, and a role change applies at once", async () => {
		const n = await createMerchant();
		const owner = await person(n.merchant.id, "owner");
		const analyst = await person(n.merchant.id, "analyst");
		expect((await analyst.browser.get("/dashboard/payments")).status).toBe(200);
		const csrf = await owner.browser.csrf();
		const demoted = await owner.browser.post(`/dashboard/team/members/${analyst.userId}/role`, {
			csrf,
			role: "support",
		});
		expect(demoted.status).toBe(303);
		expect((await analyst.browser.get("/dashboard/balances")).status).toBe(403);
		const removed = await owner.browser.post(`/dashboard/team/members/${analyst.userId}/remove`, {
			csrf,
		});
		expect(removed.status).toBe(303);
		const after = await analyst.browser.get("/dashboard/payments");
		expect(after.status).toBe(303);
		expect(after.headers.get("Location")).toMatch(/^\/dashboard\/sign-in/);
		// The last owner cannot be removed or demoted.
		const last = await owner.browser.post(`/dashboard/team/members/${owner.userId}/remove`, {
			csrf,
		});
		expect(last.status).toBe(409);
		const audit = await call("GET", `/v1/audit_log?object_id=${analyst.userId}`, { key: n.sk });
		const actions = (
			await audit.json<{ data: { action: string; actor: { id: string; role: string } }[] }>()
		).data;
		expect(actions.map((e) => e.action)).toEqual(
			expect.arrayContaining(["member.role_changed", "member.removed"]),
		);
		expect(actions.find((e) => e.action === "member.removed")?.actor).toMatchObject({
			id: owner.userId,
			role: "owner",
		});
	});

	it("ends the sessions signed in with a passkey when it is removed", async () => {
		const n = await createMerchant();
		const owner = await person(n.merchant.id, "owner");
		const page = await (await owner.browser.get("/dashboard/account")).text();
		const passkeyId = /data-passkey="(psk_\w+)"/.exec(page)?.[1] as string;
		const res = await owner.browser.post(`/dashboard/account/passkeys/${passkeyId}/remove`, {
			csrf: await owner.browser.csrf("/dashboard/account"),
		});
		expect(res.status).toBe(303);
		expect((await owner.browser.get("/dashboard/account")).status).toBe(303);
	});
});

describe("recovery codes", () => {
	it("each signs in once, without a passkey; a wrong one is refused", async () => {
		const n = await createMerchant();
		const owner = await person(n.merchant.id, "owner");
		const [code] = owner.recoveryCodes as [string];
		const wrong = await new (owner.browser.constructor as typeof Browser)().post(
			"/dashboard/recovery",
			{
				email: owner.email,
				code: "AAAA-BBBB-CCCC",
			},
		);
		expect(wrong.status).toBe(401);
		const first = new (owner.browser.constructor as typeof Browser)();
		const ok = await first.post("/dashboard/recovery", {
			email: owner.email,
			code: code.toLowerCase() === code ? code : code,
		});
		expect(ok.status).toBe(303);
		expect(ok.headers.get("Location")).toBe("/dashboard/account?recovered=1");
		expect(await (await first.get("/dashboard/account?recovered=1")).text()).toContain(
			"Register a new passkey now",
		);
		const again = await new (owner.browser.constructor as typeof Browser)().post(
			"/dashboard/recovery",
			{
				email: owner.email,
				code,
			},
		);
		expect(again.status).toBe(401);
		// A recovery sign-in is no step-up.
		const keyId = n.keys.find((k) => k.type === "publishable" && !k.livemode)?.id as string;
		const roll = await first.post(`/dashboard/keys/${keyId}/roll`, {
			csrf: await first.csrf(),
			grace: "0",
		});
		expect(roll.status).toBe(403);
		const stored = await env.DB.prepare("SELECT code_hash FROM recovery_codes WHERE user_id = ?")
			.bind(owner.userId)
			.all<{ code_hash: string }>();
		expect(stored.results).toHaveLength(10);
		for (const row of stored.results) expect(row.code_hash).not.toContain(code.replace(/-/g, ""));
	});
});
