import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createMerchant, json } from "./helpers/api";
import { field } from "./helpers/dashboard";
import { type Person, person, stepUpWith } from "./helpers/passkey";

// What the dashboard changes beyond keys: webhook endpoints (added by owners, admins and
// developers) and risk and routing rules (changed by owners and admins). Each needs a passkey
// check within five minutes, goes through the API's own schemas and services, and is recorded
// with the person and role.

const HOOK_URL = "https://hooks.example/streampayments";

interface AuditEntry {
	action: string;
	object_id: string | null;
	actor: { type: string; id: string; role?: string };
	details: Record<string, unknown>;
}

async function auditEntries(sk: string, action: string): Promise<AuditEntry[]> {
	const res = await call("GET", `/v1/audit_log?action=${action}`, { key: sk });
	expect(res.status).toBe(200);
	return (await json<{ data: AuditEntry[] }>(res)).data;
}

async function endpoints(sk: string) {
	const res = await call("GET", "/v1/webhook_endpoints", { key: sk });
	expect(res.status).toBe(200);
	return (await json<{ data: { id: string; url: string; enabled_events: string[] }[] }>(res)).data;
}

/** The add-endpoint form of the webhooks page, filled in (with the page's own tokens). */
async function endpointForm(p: Person, fields: Record<string, string>) {
	const html = await (await p.browser.get("/dashboard/webhooks")).text();
	return {
		csrf: field(html, "csrf"),
		form_token: field(html, "form_token"),
		url: HOOK_URL,
		enabled_events: "*",
		...fields,
	};
}

/** Ends every session's step-up, as five minutes passing would (stale), or removes it (missing). */
async function endStepUps(how: "stale" | "missing") {
	await env.DB.prepare(
		how === "stale"
			? "UPDATE session_step_ups SET stepped_up_at = stepped_up_at - 360"
			: "DELETE FROM session_step_ups",
	).run();
}

describe("adding a webhook endpoint from the dashboard", () => {
	it("a developer adds one: its secret is shown once, the API lists it, the log names the person", async () => {
		const m = await createMerchant("Hook Bakery");
		const dev = await person(m.merchant.id, "developer");
		const page = await (await dev.browser.get("/dashboard/webhooks")).text();
		expect(page).toContain('id="endpoint-form"');
		const form = await endpointForm(dev, { description: "Orders" });
		const res = await dev.browser.post("/dashboard/webhooks", form);
		expect(res.status).toBe(200);
		const html = await res.text();
		const secret = /id="endpoint-secret">([^<]+)</.exec(html)?.[1];
		expect(secret).toMatch(/^whsec_/);
		const listed = await endpoints(m.sk);
		expect(listed).toHaveLength(1);
		const [endpoint] = listed as [(typeof listed)[number]];
		expect(endpoint).toMatchObject({ url: HOOK_URL, enabled_events: ["*"] });
		expect(endpoint).not.toHaveProperty("secret");
		// The same form again (a double submit): the first endpoint, without its secret.
		const again = await dev.browser.post("/dashboard/webhooks", form);
		expect(again.status).toBe(303);
		expect(again.headers.get("Location")).toBe(`/dashboard/webhooks/${endpoint.id}`);
		expect(await endpoints(m.sk)).toHaveLength(1);
		const detail = await (await dev.browser.get(`/dashboard/webhooks/${endpoint.id}`)).text();
		expect(detail).not.toContain(secret as string);
		const [entry, ...more] = await auditEntries(m.sk, "webhook_endpoint.created");
		expect(more).toHaveLength(0);
		expect(entry).toMatchObject({
			object_id: endpoint.id,
			actor: { type: "user", id: dev.userId, role: "developer" },
			details: { via: "dashboard", url: HOOK_URL, enabled_events: ["*"] },
		});
		expect(JSON.stringify(entry)).not.toContain(secret as string);
	});

	it("needs a step-up: missing or stale adds nothing; after a passkey check the same form adds it", async () => {
		const m = await createMerchant();
		const owner = await person(m.merchant.id, "owner");
		const form = await endpointForm(owner, { enabled_events: "payment.succeeded, refund.created" });
		for (const how of ["missing", "stale"] as const) {
			await endStepUps(how);
			const res = await owner.browser.post("/dashboard/webhooks", form);
			expect(res.status, how).toBe(403);
			const html = await res.text();
			expect(html).toMatch(/Confirm it('|&#39;)s you/);
			// The step-up page sends the same form again, token and all.
			expect(html).toContain(`name="form_token" value="${form.form_token}"`);
			expect(html).toContain(`name="url" value="${HOOK_URL}"`);
			expect(await endpoints(m.sk)).toHaveLength(0);
			if (how === "missing") expect((await stepUpWith(owner, form.csrf)).status).toBe(200);
		}
		expect((await stepUpWith(owner, form.csrf)).status).toBe(200);
		const res = await owner.browser.post("/dashboard/webhooks", form);
		expect(res.status).toBe(200);
		expect((await endpoints(m.sk)).map((e) => e.enabled_events)).toEqual([
			["payment.succeeded", "refund.created"],
		]);
	});

	it("analysts and support may not add one", async () => {
		const m = await createMerchant();
		const owner = await person(m.merchant.id, "owner");
		const form = await endpointForm(owner, {});
		for (const role of ["analyst", "support"]) {
			const p = await person(m.merchant.id, role);
			const csrf = await p.browser.csrf("/dashboard/account");
			const res = await p.browser.post("/dashboard/webhooks", { ...form, csrf });
			expect(res.status, role).toBe(403);
			expect(await res.text()).toMatch(/Your role \(\w+\) does not allow this/);
		}
		expect(await endpoints(m.sk)).toHaveLength(0);
	});

	it("refuses what the API refuses, with its reason, and adds nothing", async () => {
		const m = await createMerchant();
		const admin = await person(m.merchant.id, "admin");
		const cases: [Record<string, string>, RegExp][] = [
			[{ enabled_events: "*, payment.succeeded" }, /&#39;\*&#39; stands alone/],
			[{ enabled_events: "payment.teleported" }, /unknown event type &#39;payment.teleported&#39;/],
			[{ enabled_events: "" }, /enabled_events/],
			[{ url: "ftp://hooks.example/x" }, /Invalid url|url /],
		];
		for (const [fields, reason] of cases) {
			const res = await admin.browser.post(
				"/dashboard/webhooks",
				await endpointForm(admin, fields),
			);
			const html = await res.text();
			expect(res.status, JSON.stringify(fields)).toBe(400);
			expect(html).toContain('id="endpoint-error"');
			expect(html, JSON.stringify(fields)).toMatch(reason);
			// The form comes back as typed.
			if (fields.enabled_events) expect(html).toContain(`value="${fields.enabled_events}"`);
		}
		expect(await endpoints(m.sk)).toHaveLength(0);
		expect(await auditEntries(m.sk, "webhook_endpoint.created")).toHaveLength(0);
	});
});

const RISK = {
	review_at: 30,
	block_at: 80,
	rules: [{ id: "cap", kind: "amount", currency: "usd", max: 50_000 }],
};
const ROUTING = {
	strategy: "priority",
	rules: [
		{
			id: "eu-cards",
			conditions: { methods: ["card"], currencies: ["eur"] },
			action: { processor: "stripe", settings: { capture_method: "manual" } },
		},
	],
};

async function rulesOf(sk: string) {
	const [risk, routing] = await Promise.all([
		call("GET", "/v1/risk_rules", { key: sk }).then((r) => json<Record<string, unknown>>(r)),
		call("GET", "/v1/routing_rules", { key: sk }).then((r) => json<Record<string, unknown>>(r)),
	]);
	return { risk, routing };
}

describe("changing risk and routing rules from the dashboard", () => {
	it("an admin changes both; the API shows the new rules; the log names the person", async () => {
		const m = await createMerchant();
		const admin = await person(m.merchant.id, "admin");
		const page = await (await admin.browser.get("/dashboard/rules")).text();
		expect(page).toContain('id="risk-form"');
		expect(page).toContain('id="routing-form"');
		const csrf = field(page, "csrf");
		const risk = await admin.browser.post("/dashboard/rules/risk", {
			csrf,
			document: JSON.stringify(RISK),
		});
		expect(risk.status).toBe(303);
		expect(risk.headers.get("Location")).toBe("/dashboard/rules?saved=risk");
		const routing = await admin.browser.post("/dashboard/rules/routing", {
			csrf,
			document: JSON.stringify(ROUTING),
		});
		expect(routing.status).toBe(303);
		const now = await rulesOf(m.sk);
		expect(now.risk).toMatchObject({ ...RISK, rules: [{ ...RISK.rules[0], action: "block" }] });
		expect(now.routing).toMatchObject(ROUTING);
		const saved = await (await admin.browser.get("/dashboard/rules?saved=routing")).text();
		expect(saved).toContain('<dd id="review-at">30</dd>');
		expect(saved).toContain('<dd id="strategy">priority</dd>');
		for (const action of ["risk_rules.updated", "routing_rules.updated"]) {
			const [entry] = await auditEntries(m.sk, action);
			expect(entry?.actor, action).toEqual({ type: "user", id: admin.userId, role: "admin" });
			expect(entry?.details.via).toBe("dashboard");
		}
		// As the API's own change, the rule sets' events are recorded for webhooks.
		const events = await call("GET", "/v1/events?type=routing_rules.updated", { key: m.sk });
		expect((await json<{ data: unknown[] }>(events)).data.length).toBeGreaterThan(0);
	});

	it("refuses an invalid document with its reason, keeps what was typed, and changes nothing", async () => {
		const m = await createMerchant();
		const owner = await person(m.merchant.id, "owner");
		const csrf = await owner.browser.csrf("/dashboard/rules");
		const before = await rulesOf(m.sk);
		const cases: ["risk" | "routing", string, RegExp][] = [
			["risk", "{ review_at: 10", /Not valid JSON/],
			[
				"risk",
				JSON.stringify({ review_at: 95, block_at: 90 }),
				/review_at must not exceed block_at/,
			],
			["risk", JSON.stringify({ ...RISK, extra: 1 }), /unknown parameter: extra/],
			["risk", "[]", /must be a JSON object/],
			["routing", JSON.stringify({ strategy: "cheapest" }), /Invalid strategy/],
			[
				"routing",
				JSON.stringify({ rules: [ROUTING.rules[0], ROUTING.rules[0]] }),
				/rule ids must be unique/,
			],
			["routing", "", /empty/],
		];
		for (const [set, document, reason] of cases) {
			const res = await owner.browser.post(`/dashboard/rules/${set}`, { csrf, document });
			const html = await res.text();
			expect(res.status, document).toBe(400);
			expect(html).toContain(`id="${set}-error"`);
			expect(html, document).toMatch(reason);
			expect(html).toContain("Nothing was changed.");
		}
		expect(await rulesOf(m.sk)).toEqual(before);
		expect(before.risk.updated).toBeNull();
		expect(await auditEntries(m.sk, "risk_rules.updated")).toHaveLength(0);
		expect(await auditEntries(m.sk, "routing_rules.updated")).toHaveLength(0);
	});

	it("needs a step-up: missing or stale changes nothing; after a passkey check it applies", async () => {
		const m = await createMerchant();
		const owner = await person(m.merchant.id, "owner");
		const csrf = await owner.browser.csrf("/dashboard/rules");
		const document = JSON.stringify(RISK);
		for (const how of ["missing", "stale"] as const) {
			await endStepUps(how);
			for (const set of ["risk", "routing"]) {
				const res = await owner.browser.post(`/dashboard/rules/${set}`, {
					csrf,
					document: set === "risk" ? document : JSON.stringify(ROUTING),
				});
				expect(res.status, `${how} ${set}`).toBe(403);
				expect(await res.text()).toMatch(/Confirm it('|&#39;)s you/);
			}
			expect((await rulesOf(m.sk)).risk.updated).toBeNull();
			expect((await rulesOf(m.sk)).routing.updated).toBeNull();
			if (how === "missing") expect((await stepUpWith(owner, csrf)).status).toBe(200);
		}
		expect((await stepUpWith(owner, csrf)).status).toBe(200);
		expect((await owner.browser.post("/dashboard/rules/risk", { csrf, document })).status).toBe(
			303,
		);
		expect((await rulesOf(m.sk)).risk.review_at).toBe(30);
	});

	it("developers see the rules but may not change them; analysts and support neither", async () => {
		const m = await createMerchant();
		const dev = await person(m.merchant.id, "developer");
		const page = await (await dev.browser.get("/dashboard/rules")).text();
		expect(page).not.toContain('id="risk-form"');
		expect(page).toContain("Read-only for your role");
		for (const p of [
			dev,
			await person(m.merchant.id, "analyst"),
			await person(m.merchant.id, "support"),
		]) {
			const csrf = await p.browser.csrf("/dashboard/account");
			for (const set of ["risk", "routing"]) {
				const res = await p.browser.post(`/dashboard/rules/${set}`, {
					csrf,
					document: JSON.stringify(set === "risk" ? RISK : ROUTING),
				});
				expect(res.status).toBe(403);
				expect(await res.text()).toMatch(/does not allow this/);
			}
		}
		expect((await rulesOf(m.sk)).risk.updated).toBeNull();
		expect((await rulesOf(m.sk)).routing.updated).toBeNull();
	});
});
