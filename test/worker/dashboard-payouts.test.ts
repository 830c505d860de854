import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createMerchant, json } from "./helpers/api";
import { field } from "./helpers/dashboard";
import { type Person, person, stepUpWith } from "./helpers/passkey";
import { addDestination, creditAvailable, type PayoutJson } from "./helpers/payouts";

// The Payouts page's manual payout form (one payout per form token, behind a passkey check, the
// same service and refusals as POST /v1/payouts), the recent payouts and a payout's page.

async function payoutForm(p: Person, fields: Record<string, string>) {
	const html = await (await p.browser.get("/dashboard/payouts")).text();
	expect(html).toContain('id="payout-form"');
	return {
		csrf: field(html, "csrf"),
		form_token: /id="payout-form"[\s\S]*?name="form_token" value="(\w+)"/.exec(html)?.[1] as string,
		...fields,
	};
}

async function payouts(sk: string): Promise<PayoutJson[]> {
	const res = await call("GET", "/v1/payouts", { key: sk });
	expect(res.status).toBe(200);
	return (await json<{ data: PayoutJson[] }>(res)).data;
}

async function fundedMerchant() {
	const m = await createMerchant("Payout Bakery");
	const destination = await addDestination(m.merchant.id, {
		type: "stripe_account",
		stripeAccount: "acct_dashboardtest",
	});
	await creditAvailable(m.merchant.id, "usd", 10_000n);
	return { m, destination, owner: await person(m.merchant.id, "owner") };
}

describe("paying out from the dashboard", () => {
	it("an owner pays out 12.50 USD: one payout per form, listed, with its own page", async () => {
		const { m, destination, owner } = await fundedMerchant();
		const form = await payoutForm(owner, { amount: "12.50", currency: "usd", destination: "" });
		const res = await owner.browser.post("/dashboard/payouts", form);
		expect(res.status, await res.clone().text()).toBe(303);
		const [payout, ...more] = await payouts(m.sk);
		expect(more).toHaveLength(0);
		expect(payout).toMatchObject({ amount: 1250, currency: "usd", destination: destination.id });
		expect(res.headers.get("Location")).toBe(`/dashboard/payouts/${payout?.id}`);
		const again = await owner.browser.post("/dashboard/payouts", form);
		expect(again.headers.get("Location")).toBe(res.headers.get("Location"));
		expect(await payouts(m.sk)).toHaveLength(1);

		const detail = await (await owner.browser.get(`/dashboard/payouts/${payout?.id}`)).text();
		expect(detail).toMatch(/id="payout-amount">12\.50 USD</);
		expect(detail).toContain(destination.id);
		const page = await (await owner.browser.get("/dashboard/payouts")).text();
		expect(page).toContain(`data-payout="${payout?.id}"`);
		const audit = await json<{ data: { object_id: string; actor: Record<string, string> }[] }>(
			await call("GET", "/v1/audit_log?action=payout.created", { key: m.sk }),
		);
		expect(audit.data.find((e) => e.object_id === payout?.id)?.actor).toEqual({
			type: "user",
			id: owner.userId,
			role: "owner",
		});
	});

	it("shows the refusals beside the form: a shortfall, a bad amount, an unknown currency", async () => {
		const { m, owner } = await fundedMerchant();
		const cases: [Record<string, string>, RegExp][] = [
			[{ amount: "500.00", currency: "usd" }, /available/i],
			[{ amount: "12.505", currency: "usd" }, /not an amount of USD/],
			[{ amount: "1", currency: "doge" }, /Unknown currency/],
		];
		for (const [fields, message] of cases) {
			const res = await owner.browser.post("/dashboard/payouts", await payoutForm(owner, fields));
			expect(res.status, JSON.stringify(fields)).toBe(400);
			const html = await res.text();
			expect(html).toContain('id="payout-error"');
			expect(html).toMatch(message);
		}
		expect(await payouts(m.sk)).toHaveLength(0);
	});

	it("needs a step-up; an analyst sees payouts but no form and may not pay out", async () => {
		const { m, owner } = await fundedMerchant();
		const form = await payoutForm(owner, { amount: "1.00", currency: "usd" });
		await env.DB.prepare("DELETE FROM session_step_ups").run();
		const held = await owner.browser.post("/dashboard/payouts", form);
		expect(held.status).toBe(403);
		expect(await held.text()).toMatch(/Confirm it('|&#39;)s you/);
		expect(await payouts(m.sk)).toHaveLength(0);
		expect((await stepUpWith(owner, form.csrf)).status).toBe(200);
		expect((await owner.browser.post("/dashboard/payouts", form)).status).toBe(303);
		const [payout] = await payouts(m.sk);

		const analyst = await person(m.merchant.id, "analyst");
		const page = await (await analyst.browser.get("/dashboard/payouts")).text();
		expect(page).not.toContain('id="payout-form"');
		expect(page).toContain(`data-payout="${payout?.id}"`);
		expect((await analyst.browser.get(`/dashboard/payouts/${payout?.id}`)).status).toBe(200);
		const csrf = await analyst.browser.csrf("/dashboard/payouts");
		const refused = await analyst.browser.post("/dashboard/payouts", { ...form, csrf });
		expect(refused.status).toBe(403);
		expect(await payouts(m.sk)).toHaveLength(1);
	});

	it("cancels a pending payout from its page; another merchant's payout is not found", async () => {
		const { m, owner } = await fundedMerchant();
		const form = await payoutForm(owner, { amount: "2.00", currency: "usd" });
		const res = await owner.browser.post("/dashboard/payouts", form);
		const path = res.headers.get("Location") as string;
		const [payout] = await payouts(m.sk);
		expect(payout?.status).toBe("pending");
		const detail = await (await owner.browser.get(path)).text();
		expect(detail).toContain(`action="${path}/cancel"`);
		const canceled = await owner.browser.post(`${path}/cancel`, { csrf: form.csrf });
		expect(canceled.status).toBe(303);
		expect((await payouts(m.sk))[0]?.status).toBe("canceled");

		const other = await fundedMerchant();
		expect((await other.owner.browser.get(path)).status).toBe(404);
	});

	it("lists the balance transfers a payout itemises on its page", async () => {
		const { m, owner } = await fundedMerchant();
		const form = await payoutForm(owner, { amount: "3.00", currency: "usd" });
		const path = (await owner.browser.post("/dashboard/payouts", form)).headers.get(
			"Location",
		) as string;
		const payoutId = path.split("/").pop() as string;
		const credit = await env.DB.prepare(
			"SELECT id FROM ledger_transfers WHERE reference = ? AND id LIKE 'test-credit:%'",
		)
			.bind(m.merchant.id)
			.first<{ id: string }>();
		await env.DB.prepare(
			"INSERT INTO payout_items (payout_id, transfer_id, account, amount, currency) VALUES (?, ?, ?, '10000', 'usd')",
		)
			.bind(payoutId, credit?.id, `test:merchant:${m.merchant.id}:usd:available`)
			.run();
		const html = await (await owner.browser.get(path)).text();
		expect(html).toContain(`data-item="${credit?.id}"`);
		expect(html).toContain("100.00 USD");
	});
});

describe("the payout schedule on the dashboard", () => {
	it("saves weekly on Friday with minimums typed in major units, as the settings API shows", async () => {
		const { m, owner } = await fundedMerchant();
		const csrf = await owner.browser.csrf("/dashboard/payouts");
		const res = await owner.browser.post("/dashboard/payouts/schedule", {
			csrf,
			interval: "weekly",
			weekly_anchor: "friday",
			minimums: "usd 50.00\r\nsol 0.5",
		});
		expect(res.status, await res.clone().text()).toBe(303);
		const settings = await json<Record<string, unknown>>(
			await call("GET", "/v1/settings", { key: m.sk }),
		);
		expect(settings).toMatchObject({
			payout_schedule: { interval: "weekly", weekly_anchor: "friday" },
			payout_minimums: { usd: "5000", sol: "500000000" },
		});
		const page = await (await owner.browser.get("/dashboard/payouts")).text();
		expect(page).toMatch(/id="schedule-now">weekly on friday</);
		expect(page).toContain("usd 50.00");
		expect(page).toContain("sol 0.5");

		const bad = await owner.browser.post("/dashboard/payouts/schedule", {
			csrf,
			interval: "daily",
			minimums: "usd fifty",
		});
		expect(bad.status).toBe(400);
		const still = await json<{ payout_schedule: { interval: string } }>(
			await call("GET", "/v1/settings", { key: m.sk }),
		);
		expect(still.payout_schedule.interval).toBe("weekly");

		const analyst = await person(m.merchant.id, "analyst");
		const seen = await (await analyst.browser.get("/dashboard/payouts")).text();
		expect(seen).toMatch(/<fieldset disabled/);
		const refused = await analyst.browser.post("/dashboard/payouts/schedule", {
			csrf: await analyst.browser.csrf("/dashboard/payouts"),
			interval: "manual",
		});
		expect(refused.status).toBe(403);
	});
});
