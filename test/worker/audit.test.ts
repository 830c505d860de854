import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { audit } from "../../src/services/audit";
import {
	admin,
	call,
	createMerchant,
	createPayment,
	expectApiError,
	json,
	type ListJson,
	list,
} from "./helpers/api";
import { deliverAll, stripe } from "./helpers/stripe";
import { createEndpoint } from "./helpers/webhooks";

interface AuditJson {
	id: string;
	object: "audit_log_entry";
	livemode: boolean;
	action: string;
	actor: { type: string; id: string | null };
	object_id: string | null;
	details: Record<string, unknown>;
	created: number;
}

describe("audit log", () => {
	it("records the keys a new merchant gets, in each key's own mode, without the key", async () => {
		const m = await createMerchant();
		const test = await list<AuditJson>(m.sk, "/v1/audit_log?action=api_key.created");
		expect(test.data).toHaveLength(2);
		for (const entry of test.data) {
			expect(entry).toMatchObject({
				object: "audit_log_entry",
				livemode: false,
				action: "api_key.created",
				actor: { type: "admin", id: null },
			});
			expect(entry.id).toMatch(/^aud_/);
			expect(JSON.stringify(entry)).not.toMatch(/sk_test_[0-9A-Za-z]{24}|pk_test_[0-9A-Za-z]{24}/);
		}
		const live = await list<AuditJson>(m.skLive, "/v1/audit_log");
		expect(live.data.map((e) => e.livemode)).toEqual([true, true]);
	});

	it("records key creation, roll and revocation with the key's id", async () => {
		const m = await createMerchant();
		const created = await json<{ id: string }>(
			await admin("POST", `/admin/v1/merchants/${m.merchant.id}/keys`, {
				type: "secret",
				livemode: false,
			}),
		);
		const rolled = await json<{ key: { id: string } }>(
			await admin("POST", `/admin/v1/merchants/${m.merchant.id}/keys/${created.id}/roll`, {
				expires_in: 0,
			}),
		);
		await admin("POST", `/admin/v1/merchants/${m.merchant.id}/keys/${rolled.key.id}/revoke`);
		const page = await list<AuditJson>(m.sk, "/v1/audit_log?limit=3");
		expect(page.data.map((e) => [e.action, e.object_id])).toEqual([
			["api_key.revoked", rolled.key.id],
			["api_key.rolled", created.id],
			["api_key.created", created.id],
		]);
		expect(page.data[1]?.details).toMatchObject({ rolled_to: rolled.key.id });
		const byObject = await list<AuditJson>(m.sk, `/v1/audit_log?object_id=${created.id}`);
		expect(byObject.data.map((e) => e.action)).toEqual(["api_key.rolled", "api_key.created"]);
	});

	it("is isolated by merchant and mode, and paginates with cursors", async () => {
		const a = await createMerchant("A");
		const b = await createMerchant("B");
		for (let i = 0; i < 3; i++) {
			await audit(env, {
				merchant_id: a.merchant.id,
				livemode: false,
				action: "test.entry",
				actor: { type: "system", id: "test" },
				details: { i },
			});
		}
		const first = await list<AuditJson>(a.sk, "/v1/audit_log?action=test.entry&limit=2");
		expect(first.has_more).toBe(true);
		expect(first.data.map((e) => e.details.i)).toEqual([2, 1]);
		const second = await list<AuditJson>(
			a.sk,
			`/v1/audit_log?action=test.entry&limit=2&starting_after=${first.data[1]?.id}`,
		);
		expect(second).toMatchObject({ has_more: false, url: "/v1/audit_log" });
		expect(second.data.map((e) => e.details.i)).toEqual([0]);
		expect((await list(b.sk, "/v1/audit_log?action=test.entry")).data).toEqual([]);
		expect((await list(a.skLive, "/v1/audit_log?action=test.entry")).data).toEqual([]);
	});

	it("needs a secret key, and refuses a cursor of another kind", async () => {
		const m = await createMerchant();
		await expectApiError(await call("GET", "/v1/audit_log", { key: m.pk }), "secret_key_required");
		await expectApiError(
			await call("GET", "/v1/audit_log?starting_after=pay_x", { key: m.sk }),
			"parameter_invalid",
			"starting_after",
		);
	});

	it("is append-only in D1", async () => {
		const m = await createMerchant();
		await expect(
			env.DB.prepare("UPDATE audit_log SET action = 'x' WHERE merchant_id = ?")
				.bind(m.merchant.id)
				.run(),
		).rejects.toThrow(/append-only/);
		await expect(
			env.DB.prepare("DELETE FROM audit_log WHERE merchant_id = ?").bind(m.merchant.id).run(),
		).rejects.toThrow(/append-only/);
		const rows = await json<ListJson<AuditJson>>(await call("GET", "/v1/audit_log", { key: m.sk }));
		expect(rows.data).toHaveLength(2);
	});

	it("records routing, settings, webhook endpoint and refund changes with the key that made them", async () => {
		const m = await createMerchant();
		const keyId = m.keys.find((k) => k.type === "secret" && !k.livemode)?.id;
		const actor = { type: "api_key", id: keyId, role: null };

		const rules = await call("PUT", "/v1/routing_rules", {
			key: m.sk,
			body: { strategy: "first_match", rules: [] },
		});
		expect(rules.status, await rules.clone().text()).toBe(200);
		const settings = await call("POST", "/v1/settings", {
			key: m.sk,
			body: { settlement_currency: "usd" },
		});
		expect(settings.status, await settings.clone().text()).toBe(200);

		const endpoint = await createEndpoint(m.sk, { url: "https://example.com/hooks" });
		await call("POST", `/v1/webhook_endpoints/${endpoint.id}`, {
			key: m.sk,
			body: { description: "orders" },
		});
		await call("POST", `/v1/webhook_endpoints/${endpoint.id}/roll_secret`, { key: m.sk });
		await call("DELETE", `/v1/webhook_endpoints/${endpoint.id}`, { key: m.sk });

		const p = await createPayment(m.sk, { amount: 5000, payment_method_types: ["card"] });
		const opened = await call("POST", `/checkout/${p.id}/card`, { body: {} });
		const { client_secret } = await json<{ client_secret: string }>(opened);
		const intentId = client_secret.slice(0, client_secret.indexOf("_secret_"));
		await stripe.paymentIntents.confirm(intentId, { payment_method: "pm_card_visa" });
		await deliverAll(intentId);
		const refund = await json<{ id: string }>(
			await call("POST", "/v1/refunds", { key: m.sk, body: { payment: p.id, amount: 1000 } }),
		);

		const page = await list<AuditJson>(m.sk, "/v1/audit_log?limit=7");
		expect(page.data.map((e) => [e.action, e.object_id])).toEqual([
			["refund.created", refund.id],
			["webhook_endpoint.deleted", endpoint.id],
			["webhook_endpoint.secret_rolled", endpoint.id],
			["webhook_endpoint.updated", endpoint.id],
			["webhook_endpoint.created", endpoint.id],
			["settings.updated", m.merchant.id],
			["routing_rules.updated", null],
		]);
		for (const entry of page.data) expect(entry.actor).toEqual(actor);
		expect(page.data[0]?.details).toEqual({ payment: p.id, amount: 1000, currency: "usd" });
		expect(page.data[5]?.details).toMatchObject({ fields: ["settlement_currency"] });
		expect(JSON.stringify(page.data)).not.toContain(endpoint.secret);
		expect(JSON.stringify(page.data)).not.toMatch(/whsec_/);
	});
});
