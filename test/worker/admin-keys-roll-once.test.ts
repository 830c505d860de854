import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { rollKey } from "../../src/services/merchants";
import { type ApiKeyJson, admin, call, createMerchant, expectApiError, json } from "./helpers/api";
import { person, stepUpWith } from "./helpers/passkey";

type Merchant = Awaited<ReturnType<typeof createMerchant>>;

const testSecretKey = (m: Merchant) =>
	m.keys.find((k) => k.type === "secret" && !k.livemode) as ApiKeyJson & { secret: string };

const rollPath = (m: Merchant, keyId: string) =>
	`/admin/v1/merchants/${m.merchant.id}/keys/${keyId}/roll`;

async function keyRows(merchantId: string) {
	const { results } = await env.DB.prepare(
		"SELECT id, rolled_to, expires_at FROM api_keys WHERE merchant_id = ? ORDER BY id",
	)
		.bind(merchantId)
		.all<{ id: string; rolled_to: string | null; expires_at: number | null }>();
	return results;
}

describe("a key is rolled once", () => {
	it("a second roll is a 409 naming the successor; the first roll's keys are untouched", async () => {
		const m = await createMerchant();
		const old = testSecretKey(m);
		const first = await admin("POST", rollPath(m, old.id), { expires_in: 3600 });
		expect(first.status).toBe(200);
		const rolled = await json<{ key: ApiKeyJson; previous: ApiKeyJson }>(first);

		const error = await expectApiError(
			await admin("POST", rollPath(m, old.id), { expires_in: 0 }),
			"resource_conflict",
		);
		expect(error.message).toBe(
			`The API key '${old.id}' was already rolled to '${rolled.key.id}'; a key is rolled once. Roll '${rolled.key.id}' instead, or revoke '${old.id}' to end its grace period now.`,
		);
		const rows = await keyRows(m.merchant.id);
		expect(rows).toHaveLength(5);
		// The refused roll neither minted a key nor shortened the grace period.
		expect(rows.find((r) => r.id === old.id)).toEqual({
			id: old.id,
			rolled_to: rolled.key.id,
			expires_at: rolled.previous.expires_at,
		});
		expect((await call("GET", "/v1/payments", { key: old.secret })).status).toBe(200);
		// The successor is the one to roll next.
		expect((await admin("POST", rollPath(m, rolled.key.id))).status).toBe(200);
		expect(await keyRows(m.merchant.id)).toHaveLength(6);
	});

	it("a key rolled and expired is refused too", async () => {
		const m = await createMerchant();
		const old = testSecretKey(m);
		const rolled = await json<{ key: ApiKeyJson }>(
			await admin("POST", rollPath(m, old.id), { expires_in: 0 }),
		);
		await expectApiError(await call("GET", "/v1/payments", { key: old.secret }), "api_key_expired");
		const error = await expectApiError(
			await admin("POST", rollPath(m, old.id)),
			"resource_conflict",
		);
		expect(error.message).toContain(`was already rolled to '${rolled.key.id}'`);
		expect(await keyRows(m.merchant.id)).toHaveLength(5);
	});

	it("two rolls racing make exactly one successor", async () => {
		const m = await createMerchant();
		const old = testSecretKey(m);
		const answers = await Promise.all(
			Array.from({ length: 4 }, () => admin("POST", rollPath(m, old.id), { expires_in: 60 })),
		);
		const statuses = answers.map((r) => r.status).sort();
		expect(statuses).toEqual([200, 409, 409, 409]);
		const winner = await json<{ key: ApiKeyJson }>(
			answers.find((r) => r.status === 200) as Response,
		);
		for (const loser of answers.filter((r) => r.status === 409)) {
			const error = await expectApiError(loser, "resource_conflict");
			expect(error.message).toContain(`already rolled to '${winner.key.id}'`);
		}
		const rows = await keyRows(m.merchant.id);
		expect(rows).toHaveLength(5);
		expect(rows.filter((r) => r.rolled_to !== null)).toEqual([
			expect.objectContaining({ id: old.id, rolled_to: winner.key.id }),
		]);
	});

	it("the database decides even when both rolls read the key before either writes", async () => {
		const m = await createMerchant();
		const old = testSecretKey(m);
		// Both calls run their read before any batch lands (same isolate, interleaved awaits).
		const results = await Promise.all([
			rollKey(env.DB, m.merchant.id, old.id, 60),
			rollKey(env.DB, m.merchant.id, old.id, 60),
		]);
		const won = results.filter((r) => r.ok);
		expect(won).toHaveLength(1);
		const successor = won[0]?.ok ? won[0].value.key.id : "";
		expect(results.filter((r) => !r.ok)).toEqual([
			{ ok: false, reason: "already_rolled", rolled_to: successor },
		]);
		const rows = await keyRows(m.merchant.id);
		expect(rows).toHaveLength(5);
		expect(rows.some((r) => r.id === successor)).toBe(true);
	});

	it("the dashboard offers no roll for a rolled key and refuses one with the same words", async () => {
		const m = await createMerchant();
		const old = testSecretKey(m);
		const rolled = await json<{ key: ApiKeyJson }>(
			await admin("POST", rollPath(m, old.id), { expires_in: 3600 }),
		);
		// An owner who has just confirmed it's them with a passkey (rolling a key asks for it).
		const owner = await person(m.merchant.id, "owner");
		const browser = owner.browser;
		expect((await stepUpWith(owner, await browser.csrf())).status).toBe(200);
		const page = await (await browser.get("/dashboard/keys")).text();
		expect(page).not.toContain(`/dashboard/keys/${old.id}/roll`);
		expect(page).toContain(`/dashboard/keys/${old.id}/revoke`);
		expect(page).toContain(`/dashboard/keys/${rolled.key.id}/roll`);
		const res = await browser.post(`/dashboard/keys/${old.id}/roll`, {
			csrf: await browser.csrf(),
			grace: "3600",
		});
		expect(res.status).toBe(409);
		expect(await res.text()).toContain(`already rolled to &#39;${rolled.key.id}&#39;`);
		expect(await keyRows(m.merchant.id)).toHaveLength(5);
	});
});
