import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ADMIN_TOKEN, call, json } from "./helpers/api";
import { registerThroughInvitation } from "./helpers/passkey";

// POST /admin/v1/merchants with `owner_email` creates the merchant and its first owner's
// invitation in one call, answering the invitation as POST /admin/v1/merchants/:id/invitations.

interface Created {
	merchant: { id: string };
	keys: { type: string; livemode: boolean; secret: string }[];
	owner_invitation?: {
		invitation: { id: string; email: string; role: string; invited_by: string };
		url: string;
		emailed: boolean;
	};
}

const create = (body: unknown) => call("POST", "/admin/v1/merchants", { key: ADMIN_TOKEN, body });

async function merchantsNamed(name: string): Promise<number> {
	const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM merchants WHERE name = ?")
		.bind(name)
		.first<{ n: number }>();
	return row?.n ?? 0;
}

describe("POST /admin/v1/merchants with owner_email", () => {
	it("invites the first owner in the same call; the link registers them as owner", async () => {
		const res = await create({ name: "Owner Bakery", owner_email: "Ana@Owner.example" });
		expect(res.status, await res.clone().text()).toBe(201);
		const created = await json<Created>(res);
		const invited = created.owner_invitation;
		expect(invited?.invitation).toMatchObject({
			email: "ana@owner.example",
			role: "owner",
			invited_by: "admin",
		});
		expect(invited?.emailed).toBe(false);
		const url = new URL(invited?.url as string);
		expect(url.pathname).toBe(`/dashboard/join/${invited?.invitation.id}`);
		const owner = await registerThroughInvitation(
			{ id: invited?.invitation.id as string, token: url.hash.slice(1) },
			"ana@owner.example",
		);
		const team = await owner.browser.get("/dashboard/team");
		expect(team.status).toBe(200);
		expect(await team.text()).toContain('data-role="owner"');
		const sk = created.keys.find((k) => k.type === "secret" && !k.livemode)?.secret as string;
		const audit = await call("GET", "/v1/audit_log?action=invitation.created", { key: sk });
		const [entry] = (await json<{ data: { object_id: string; actor: { type: string } }[] }>(audit))
			.data;
		expect(entry).toMatchObject({ object_id: invited?.invitation.id, actor: { type: "admin" } });
	});

	it("without it, no invitation; an invalid one creates nothing", async () => {
		const plain = await json<Created>(await create({ name: "Plain Bakery" }));
		expect(plain).not.toHaveProperty("owner_invitation");
		const bad = await create({ name: "Typo Bakery", owner_email: "not-an-email" });
		expect(bad.status).toBe(400);
		expect((await json<{ error: { param: string } }>(bad)).error.param).toBe("owner_email");
		expect(await merchantsNamed("Typo Bakery")).toBe(0);
		const unknown = await create({ name: "Typo Bakery", owner_role: "admin" });
		expect(unknown.status).toBe(400);
		expect(await merchantsNamed("Typo Bakery")).toBe(0);
		// Updating a merchant takes no owner_email: invitations have their own route.
		const update = await call("POST", `/admin/v1/merchants/${plain.merchant.id}`, {
			key: ADMIN_TOKEN,
			body: { owner_email: "x@y.example" },
		});
		expect(update.status).toBe(400);
	});
});
