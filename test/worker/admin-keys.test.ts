import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
	ADMIN_TOKEN,
	type ApiKeyJson,
	admin,
	call,
	expectApiError,
	expectRequestId,
	json,
} from "./helpers/api";

interface MerchantJson {
	id: string;
	object: "merchant";
	name: string;
	email: string | null;
	metadata: Record<string, string>;
	created: number;
}

interface Created {
	merchant: MerchantJson;
	keys: ApiKeyJson[];
}

const KEY_FIELDS = [
	"created",
	"expires_at",
	"id",
	"last_used_at",
	"livemode",
	"object",
	"redacted",
	"revoked_at",
	"rolled_to",
	"type",
];

const KEY_ID = /^key_[0-9A-HJKMNP-TV-Z]{30}$/;

async function newMerchant(body: Record<string, unknown> = { name: "Keys Inc" }) {
	const res = await admin("POST", "/admin/v1/merchants", body);
	expect(res.status, "create merchant").toBe(201);
	return json<Created>(res);
}

async function listKeys(merchantId: string): Promise<ApiKeyJson[]> {
	const res = await admin("GET", `/admin/v1/merchants/${merchantId}/keys`);
	expect(res.status).toBe(200);
	const body = await json<{ object: string; data: ApiKeyJson[]; has_more: boolean }>(res);
	expect(Object.keys(body).sort()).toEqual(["data", "has_more", "object"]);
	expect(body.object).toBe("list");
	expect(body.has_more).toBe(false);
	return body.data;
}

const secretOf = (created: Created, prefix: string) =>
	created.keys.find((k) => k.secret?.startsWith(prefix)) as ApiKeyJson & { secret: string };

/** Every value in api_keys, as text. */
async function storedKeyValues(): Promise<string[]> {
	const { results } = await env.DB.prepare("SELECT * FROM api_keys").all<Record<string, unknown>>();
	expect(results.length).toBeGreaterThan(0);
	return results.flatMap((row) => Object.values(row).map((v) => String(v)));
}

describe("POST /admin/v1/merchants", () => {
	it("returns 201 with the merchant and four keys, each with its secret", async () => {
		const res = await admin("POST", "/admin/v1/merchants", {
			name: "Acme",
			email: "ops@acme.test",
			metadata: { plan: "pro" },
		});
		expect(res.status).toBe(201);
		expectRequestId(res);
		const body = await json<Created>(res);
		expect(Object.keys(body).sort()).toEqual(["keys", "merchant"]);
		expect(body.merchant).toStrictEqual({
			id: expect.stringMatching(/^mch_[0-9A-HJKMNP-TV-Z]{30}$/),
			object: "merchant",
			name: "Acme",
			email: "ops@acme.test",
			metadata: { plan: "pro" },
			settings: {},
			created: expect.any(Number),
		});

		expect(body.keys).toHaveLength(4);
		const byPrefix = Object.fromEntries(
			body.keys.map((k) => [(k.secret as string).slice(0, 8), k]),
		);
		expect(Object.keys(byPrefix).sort()).toEqual(["pk_live_", "pk_test_", "sk_live_", "sk_test_"]);
		for (const [prefix, type, livemode] of [
			["sk_test_", "secret", false],
			["pk_test_", "publishable", false],
			["sk_live_", "secret", true],
			["pk_live_", "publishable", true],
		] as const) {
			const key = byPrefix[prefix] as ApiKeyJson;
			expect(Object.keys(key).sort()).toEqual([...KEY_FIELDS, "secret"].sort());
			expect(key.secret).toMatch(new RegExp(`^${prefix}[0-9A-Za-z]{32}$`));
			expect(key).toMatchObject({
				object: "api_key",
				type,
				livemode,
				redacted: `${prefix}…${(key.secret as string).slice(-4)}`,
				expires_at: null,
				revoked_at: null,
				rolled_to: null,
				last_used_at: null,
			});
			expect(key.id).toMatch(KEY_ID);
		}
		expect(new Set(body.keys.map((k) => k.secret)).size).toBe(4);
	});

	it("trims the name and defaults email and metadata", async () => {
		const { merchant } = await newMerchant({ name: "  Spaced  " });
		expect(merchant.name).toBe("Spaced");
		expect(merchant.email).toBeNull();
		expect(merchant.metadata).toEqual({});
		const res = await admin("GET", `/admin/v1/merchants/${merchant.id}`);
		expect(res.status).toBe(200);
		expect(await json(res)).toStrictEqual(merchant);
	});

	it.each([[""], ["   "]])("rejects the name %j with 400 param name", async (name) => {
		const error = await expectApiError(
			await admin("POST", "/admin/v1/merchants", { name }),
			"parameter_invalid",
			"name",
		);
		expect(error.message).toBe("Invalid name: must not be empty");
	});

	it("rejects a missing name, a bad email and an unknown field", async () => {
		await expectApiError(
			await admin("POST", "/admin/v1/merchants", {}),
			"parameter_missing",
			"name",
		);
		await expectApiError(
			await admin("POST", "/admin/v1/merchants", { name: "x", email: "not-an-email" }),
			"parameter_invalid",
			"email",
		);
		await expectApiError(
			await admin("POST", "/admin/v1/merchants", { name: "x", plan: "pro" }),
			"parameter_invalid",
			"plan",
		);
	});
});

describe("GET /admin/v1/merchants/:id/keys", () => {
	it("lists the keys redacted, never with their secret", async () => {
		const created = await newMerchant();
		const listed = await listKeys(created.merchant.id);
		expect(listed).toHaveLength(4);
		for (const key of listed) {
			expect(Object.keys(key).sort()).toEqual(KEY_FIELDS);
			expect(key).not.toHaveProperty("secret");
			expect(key.redacted).toMatch(/^(sk|pk)_(test|live)_…[0-9A-Za-z]{4}$/);
			const original = created.keys.find((k) => k.id === key.id) as ApiKeyJson;
			const { secret, ...rest } = original;
			expect(key).toStrictEqual(rest);
			expect(key.redacted).toBe(
				`${(secret as string).slice(0, 8)}…${(secret as string).slice(-4)}`,
			);
			expect(JSON.stringify(key)).not.toContain(secret);
		}
		// Newest first, by id.
		const keyIds = listed.map((k) => k.id);
		expect(keyIds).toEqual([...keyIds].sort().reverse());
	});

	it("answers 404 for an unknown merchant", async () => {
		const id = "mch_01M8983BHYCGJ1TGZVJWZ2NAV28X74";
		const e1 = await expectApiError(
			await admin("GET", `/admin/v1/merchants/${id}/keys`),
			"resource_missing",
			"id",
		);
		expect(e1.message).toBe(`No such merchant: '${id}'`);
		await expectApiError(await admin("GET", `/admin/v1/merchants/${id}`), "resource_missing", "id");
		await expectApiError(
			await admin("POST", `/admin/v1/merchants/${id}/keys`, { type: "secret", livemode: false }),
			"resource_missing",
			"id",
		);
	});
});

describe("POST /admin/v1/merchants/:id/keys", () => {
	it("creates an extra key, returned with its secret once, and it authenticates", async () => {
		const created = await newMerchant();
		const res = await admin("POST", `/admin/v1/merchants/${created.merchant.id}/keys`, {
			type: "secret",
			livemode: true,
		});
		expect(res.status).toBe(201);
		const key = await json<ApiKeyJson>(res);
		expect(key.secret).toMatch(/^sk_live_[0-9A-Za-z]{32}$/);
		expect(key).toMatchObject({ object: "api_key", type: "secret", livemode: true });
		expect(key.id).toMatch(KEY_ID);

		const payments = await call("GET", "/v1/payments", { key: key.secret as string });
		expect(payments.status).toBe(200);

		const listed = await listKeys(created.merchant.id);
		expect(listed).toHaveLength(5);
		const stored = listed.find((k) => k.id === key.id);
		expect(stored).toBeDefined();
		expect(stored).not.toHaveProperty("secret");
	});

	it("creates a publishable key that cannot call secret-only endpoints", async () => {
		const created = await newMerchant();
		const res = await admin("POST", `/admin/v1/merchants/${created.merchant.id}/keys`, {
			type: "publishable",
			livemode: false,
		});
		expect(res.status).toBe(201);
		const key = await json<ApiKeyJson>(res);
		expect(key.secret).toMatch(/^pk_test_[0-9A-Za-z]{32}$/);
		await expectApiError(
			await call("GET", "/v1/payments", { key: key.secret as string }),
			"secret_key_required",
		);
	});

	it("validates type and livemode", async () => {
		const created = await newMerchant();
		const path = `/admin/v1/merchants/${created.merchant.id}/keys`;
		await expectApiError(
			await admin("POST", path, { type: "restricted", livemode: false }),
			"parameter_invalid",
			"type",
		);
		await expectApiError(
			await admin("POST", path, { type: "secret" }),
			"parameter_missing",
			"livemode",
		);
	});
});

describe("POST /admin/v1/merchants/:id/keys/:key/roll", () => {
	it("mints a new key of the same kind and gives the old one a default 24 h grace", async () => {
		const created = await newMerchant();
		const old = secretOf(created, "sk_live_");
		const res = await admin(
			"POST",
			`/admin/v1/merchants/${created.merchant.id}/keys/${old.id}/roll`,
		);
		expect(res.status).toBe(200);
		const body = await json<{ key: ApiKeyJson; previous: ApiKeyJson }>(res);
		expect(Object.keys(body).sort()).toEqual(["key", "previous"]);
		expect(body.key.secret).toMatch(/^sk_live_[0-9A-Za-z]{32}$/);
		expect(body.key).toMatchObject({
			type: "secret",
			livemode: true,
			rolled_to: null,
			expires_at: null,
		});
		expect(body.key.id).not.toBe(old.id);
		expect(body.previous).not.toHaveProperty("secret");
		expect(body.previous).toMatchObject({ id: old.id, rolled_to: body.key.id, revoked_at: null });
		const now = Math.floor(Date.now() / 1000);
		expect(body.previous.expires_at).toBeGreaterThanOrEqual(now + 86400 - 60);
		expect(body.previous.expires_at).toBeLessThanOrEqual(now + 86400 + 60);

		expect((await call("GET", "/v1/payments", { key: old.secret })).status).toBe(200);
		expect((await call("GET", "/v1/payments", { key: body.key.secret as string })).status).toBe(
			200,
		);

		const listed = await listKeys(created.merchant.id);
		expect(listed).toHaveLength(5);
		expect(listed.find((k) => k.id === old.id)).toMatchObject({
			rolled_to: body.key.id,
			expires_at: body.previous.expires_at,
		});
	});

	it("honours expires_in, and expires_in 0 ends the old key at once", async () => {
		const created = await newMerchant();
		const old = secretOf(created, "sk_test_");
		const path = `/admin/v1/merchants/${created.merchant.id}/keys/${old.id}/roll`;
		const hour = await json<{ previous: ApiKeyJson }>(
			await admin("POST", path, { expires_in: 3600 }),
		);
		const now = Math.floor(Date.now() / 1000);
		expect(hour.previous.expires_at).toBeGreaterThanOrEqual(now + 3600 - 60);
		expect(hour.previous.expires_at).toBeLessThanOrEqual(now + 3600 + 60);

		// A key is rolled once (see admin-keys-roll-once.test.ts): expires_in 0 on another key.
		const other = secretOf(created, "sk_live_");
		const zero = await json<{ key: ApiKeyJson; previous: ApiKeyJson }>(
			await admin("POST", `/admin/v1/merchants/${created.merchant.id}/keys/${other.id}/roll`, {
				expires_in: 0,
			}),
		);
		expect(zero.previous.expires_at).toBeLessThanOrEqual(now + 60);
		await expectApiError(
			await call("GET", "/v1/payments", { key: other.secret }),
			"api_key_expired",
		);
		expect((await call("GET", "/v1/payments", { key: zero.key.secret as string })).status).toBe(
			200,
		);
	});

	it.each([[-1], [604801], [1.5], ["60"]])(
		"rejects expires_in %j with param expires_in",
		async (expiresIn) => {
			const created = await newMerchant();
			const old = secretOf(created, "sk_test_");
			await expectApiError(
				await admin("POST", `/admin/v1/merchants/${created.merchant.id}/keys/${old.id}/roll`, {
					expires_in: expiresIn,
				}),
				"parameter_invalid",
				"expires_in",
			);
			expect((await call("GET", "/v1/payments", { key: old.secret })).status).toBe(200);
		},
	);

	it("refuses to roll a revoked key with 409 resource_conflict", async () => {
		const created = await newMerchant();
		const old = secretOf(created, "sk_test_");
		const base = `/admin/v1/merchants/${created.merchant.id}/keys/${old.id}`;
		expect((await admin("POST", `${base}/revoke`)).status).toBe(200);
		const error = await expectApiError(await admin("POST", `${base}/roll`), "resource_conflict");
		expect(error.message).toBe(`The API key '${old.id}' is revoked and cannot be rolled.`);
		expect(await listKeys(created.merchant.id)).toHaveLength(4);
	});

	it("answers 404 param key for an unknown key or another merchant's key", async () => {
		const a = await newMerchant();
		const b = await newMerchant();
		const bKey = secretOf(b, "sk_test_");
		for (const keyId of ["key_01M8983BHYCGJ1TGZVJWZ2NAV28X74", bKey.id]) {
			const error = await expectApiError(
				await admin("POST", `/admin/v1/merchants/${a.merchant.id}/keys/${keyId}/roll`),
				"resource_missing",
				"key",
			);
			expect(error.message).toBe(`No such API key: '${keyId}'`);
			await expectApiError(
				await admin("POST", `/admin/v1/merchants/${a.merchant.id}/keys/${keyId}/revoke`),
				"resource_missing",
				"key",
			);
		}
		expect((await call("GET", "/v1/payments", { key: bKey.secret })).status).toBe(200);
	});
});

describe("POST /admin/v1/merchants/:id/keys/:key/revoke", () => {
	it("revokes at once and is idempotent: revoking twice is 200 with the same revoked_at", async () => {
		const created = await newMerchant();
		const key = secretOf(created, "pk_live_");
		const path = `/admin/v1/merchants/${created.merchant.id}/keys/${key.id}/revoke`;
		const first = await admin("POST", path);
		expect(first.status).toBe(200);
		const revoked = await json<ApiKeyJson>(first);
		expect(revoked).not.toHaveProperty("secret");
		expect(revoked).toMatchObject({ id: key.id, type: "publishable", livemode: true });
		const now = Math.floor(Date.now() / 1000);
		expect(revoked.revoked_at).toBeGreaterThanOrEqual(now - 60);
		expect(revoked.revoked_at).toBeLessThanOrEqual(now + 60);

		const second = await admin("POST", path);
		expect(second.status).toBe(200);
		expect(await json(second)).toStrictEqual(revoked);

		const listed = await listKeys(created.merchant.id);
		expect(listed.find((k) => k.id === key.id)?.revoked_at).toBe(revoked.revoked_at);
	});
});

describe("key storage", () => {
	it("never holds a plaintext key in D1", async () => {
		const created = await newMerchant();
		const extra = await json<ApiKeyJson>(
			await admin("POST", `/admin/v1/merchants/${created.merchant.id}/keys`, {
				type: "secret",
				livemode: false,
			}),
		);
		const rolled = await json<{ key: ApiKeyJson }>(
			await admin(
				"POST",
				`/admin/v1/merchants/${created.merchant.id}/keys/${secretOf(created, "sk_live_").id}/roll`,
			),
		);
		const secrets = [...created.keys, extra, rolled.key].map((k) => k.secret as string);
		expect(secrets).toHaveLength(6);
		const values = await storedKeyValues();
		for (const secret of secrets) {
			expect(secret).toMatch(/^(sk|pk)_(test|live)_[0-9A-Za-z]{32}$/);
			for (const value of values) {
				expect(value).not.toBe(secret);
				expect(value).not.toContain(secret.slice(8));
			}
		}
	});

	// Fails today: the idempotency middleware stores the whole 201 body, secrets included, in
	// idempotency_keys.response_body for 24 h (src/middleware/idempotency.ts). See the report.
	it("never holds a plaintext key in D1, even when the request carried an Idempotency-Key", async () => {
		const res = await call("POST", "/admin/v1/merchants", {
			key: ADMIN_TOKEN,
			body: { name: "Idempotent Keys" },
			headers: { "Idempotency-Key": crypto.randomUUID() },
		});
		expect(res.status).toBe(201);
		const created = await json<Created>(res);
		const dump = JSON.stringify(
			await Promise.all(
				["api_keys", "idempotency_keys", "merchants"].map(
					async (table) => (await env.DB.prepare(`SELECT * FROM ${table}`).all()).results,
				),
			),
		);
		for (const key of created.keys) expect(dump).not.toContain((key.secret as string).slice(8));
	});
});
