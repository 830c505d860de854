import { describe, expect, it } from "vitest";
import { call, createMerchant } from "./helpers/api";
import { Browser } from "./helpers/dashboard";
import { person } from "./helpers/passkey";

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
