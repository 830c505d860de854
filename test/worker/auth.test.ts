import { describe, expect, it } from "vitest";
import {
	ADMIN_TOKEN,
	admin,
	call,
	createMerchant,
	createPayment,
	type EventJson,
	expectApiError,
	expectRequestId,
	json,
	list,
	type PaymentJson,
	unknownKey,
} from "./helpers/api";

interface KeyJson {
	id: string;
	type: "secret" | "publishable";
	livemode: boolean;
	secret?: string;
	expires_at: number | null;
	revoked_at: number | null;
}

async function roll(merchantId: string, keyId: string, body?: unknown) {
	const res = await admin("POST", `/admin/v1/merchants/${merchantId}/keys/${keyId}/roll`, body);
	expect(res.status, "roll").toBe(200);
	return json<{ key: KeyJson; previous: KeyJson }>(res);
}

function keyIdOf(m: Awaited<ReturnType<typeof createMerchant>>, secret: string): string {
	const key = m.keys.find((k) => k.secret === secret);
	if (!key) throw new Error("key not found");
	return key.id;
}

describe("API key authentication", () => {
	it("rejects a request without an Authorization header with 401 api_key_missing", async () => {
		const res = await call("GET", "/v1/payments");
		await expectApiError(res, "api_key_missing");
	});

	it("rejects a POST without an Authorization header before reading the body", async () => {
		const res = await call("POST", "/v1/payments", { body: { amount: 100, currency: "usd" } });
		await expectApiError(res, "api_key_missing");
	});

	it.each([
		["Basic x", "a non-Bearer scheme"],
		["Bearer", "Bearer without a token"],
		["Bearer a b", "a token with a space in it"],
		["sk_test_abc", "a bare key without the scheme"],
	])("rejects the Authorization header %j (%s) with 401 api_key_invalid", async (header) => {
		const res = await call("GET", "/v1/payments", { headers: { Authorization: header } });
		const error = await expectApiError(res, "api_key_invalid");
		expect(error.message).toBe("The Authorization header must be 'Bearer <API key>'.");
	});

	it("rejects a token that is not shaped like an API key with 401 api_key_invalid", async () => {
		const res = await call("GET", "/v1/payments", { key: "not_a_key_at_all_0000000000" });
		await expectApiError(res, "api_key_invalid");
	});

	it("rejects a well-formed unknown key with 401 api_key_invalid and masks the key in the message", async () => {
		for (const key of [unknownKey("sk_test"), unknownKey("sk_live")]) {
			const res = await call("GET", "/v1/payments", { key });
			const error = await expectApiError(res, "api_key_invalid");
			expect(error.message).not.toContain(key);
			// Neither the full key nor its secret middle is echoed; only the prefix and last 4.
			expect(error.message).not.toContain(key.slice(8, -4));
			expect(error.message).toBe(
				`Invalid API key provided: ${key.slice(0, 8)}${"*".repeat(key.length - 12)}${key.slice(-4)}`,
			);
		}
	});

	it("accepts the scheme case-insensitively ('bearer sk_…')", async () => {
		const m = await createMerchant();
		const res = await call("GET", "/v1/payments", { headers: { Authorization: `bearer ${m.sk}` } });
		expect(res.status).toBe(200);
	});

	it("rejects a revoked key with 401 api_key_invalid while the merchant's other keys keep working", async () => {
		const m = await createMerchant();
		expect((await call("GET", "/v1/payments", { key: m.sk })).status).toBe(200);
		const revoke = await admin(
			"POST",
			`/admin/v1/merchants/${m.merchant.id}/keys/${keyIdOf(m, m.sk)}/revoke`,
		);
		expect(revoke.status).toBe(200);
		await expectApiError(await call("GET", "/v1/payments", { key: m.sk }), "api_key_invalid");
		await expectApiError(
			await call("POST", "/v1/payments", { key: m.sk, body: { amount: 100, currency: "usd" } }),
			"api_key_invalid",
		);
		expect((await call("GET", "/v1/payments", { key: m.skLive })).status).toBe(200);
	});

	it("rejects a key rolled with expires_in 0 with 401 api_key_expired, and the new key works", async () => {
		const m = await createMerchant();
		const rolled = await roll(m.merchant.id, keyIdOf(m, m.sk), { expires_in: 0 });
		const fresh = rolled.key.secret as string;
		expect(fresh).toMatch(/^sk_test_[0-9A-Za-z]{32}$/);
		const error = await expectApiError(
			await call("GET", "/v1/payments", { key: m.sk }),
			"api_key_expired",
		);
		expect(error.message).not.toContain(m.sk);
		const p = await createPayment(fresh);
		expect(p.livemode).toBe(false);
		// The new key acts for the same merchant: it sees payments made with the old one's account.
		expect((await call("GET", `/v1/payments/${p.id}`, { key: fresh })).status).toBe(200);
	});

	it("keeps a key rolled with the default grace period working alongside the new key", async () => {
		const m = await createMerchant();
		const before = await createPayment(m.sk);
		const rolled = await roll(m.merchant.id, keyIdOf(m, m.sk));
		const now = Math.floor(Date.now() / 1000);
		expect(rolled.previous.expires_at).toBeGreaterThanOrEqual(now + 86400 - 60);
		expect(rolled.previous.expires_at).toBeLessThanOrEqual(now + 86400 + 60);
		const fresh = rolled.key.secret as string;
		const old = await call("GET", `/v1/payments/${before.id}`, { key: m.sk });
		expect(old.status).toBe(200);
		const viaNew = await call("GET", `/v1/payments/${before.id}`, { key: fresh });
		expect(viaNew.status).toBe(200);
		expect((await json<PaymentJson>(viaNew)).id).toBe(before.id);
	});

	it("refuses a publishable key on /v1/payments with 401 secret_key_required", async () => {
		const m = await createMerchant();
		await expectApiError(await call("GET", "/v1/payments", { key: m.pk }), "secret_key_required");
		await expectApiError(
			await call("POST", "/v1/payments", { key: m.pk, body: { amount: 100, currency: "usd" } }),
			"secret_key_required",
		);
		await expectApiError(await call("GET", "/v1/events", { key: m.pk }), "secret_key_required");
	});
});

describe("test and live mode isolation", () => {
	it("hides a live-mode payment from the test key and a test-mode payment from the live key", async () => {
		const m = await createMerchant();
		const live = await createPayment(m.skLive);
		const test = await createPayment(m.sk);
		expect(live.livemode).toBe(true);
		expect(test.livemode).toBe(false);

		const e1 = await expectApiError(
			await call("GET", `/v1/payments/${live.id}`, { key: m.sk }),
			"resource_missing",
			"id",
		);
		expect(e1.message).toBe(`No such payment: '${live.id}'`);
		await expectApiError(
			await call("GET", `/v1/payments/${test.id}`, { key: m.skLive }),
			"resource_missing",
			"id",
		);
		await expectApiError(
			await call("POST", `/v1/payments/${live.id}/cancel`, { key: m.sk }),
			"resource_missing",
			"id",
		);

		const testList = await list<PaymentJson>(m.sk, "/v1/payments");
		expect(testList.data.map((p) => p.id)).toEqual([test.id]);
		const liveList = await list<PaymentJson>(m.skLive, "/v1/payments");
		expect(liveList.data.map((p) => p.id)).toEqual([live.id]);
		const liveEvents = await list<EventJson>(m.skLive, "/v1/events");
		expect(liveEvents.data.map((e) => e.data.object.id)).toEqual([live.id]);
		expect(liveEvents.data.every((e) => e.livemode)).toBe(true);
	});
});

describe("merchant isolation", () => {
	it("answers 404 (not 403) to merchant B for merchant A's payment, on GET and on cancel", async () => {
		const a = await createMerchant("A");
		const b = await createMerchant("B");
		const p = await createPayment(a.sk);

		const get = await expectApiError(
			await call("GET", `/v1/payments/${p.id}`, { key: b.sk }),
			"resource_missing",
			"id",
		);
		// Exactly what an id that never existed gets: existence is not revealed.
		expect(get.message).toBe(`No such payment: '${p.id}'`);
		await expectApiError(
			await call("POST", `/v1/payments/${p.id}/cancel`, { key: b.sk }),
			"resource_missing",
			"id",
		);
		const after = await json<PaymentJson>(await call("GET", `/v1/payments/${p.id}`, { key: a.sk }));
		expect(after.status).toBe("requires_payment");
	});

	it("keeps A's payments and events out of B's lists", async () => {
		const a = await createMerchant("A");
		const b = await createMerchant("B");
		const pa = await createPayment(a.sk);
		const pb = await createPayment(b.sk);

		const bPayments = await list<PaymentJson>(b.sk, "/v1/payments?limit=100");
		expect(bPayments.data.map((p) => p.id)).toEqual([pb.id]);
		const bEvents = await list<EventJson>(b.sk, "/v1/events?limit=100");
		expect(bEvents.data.map((e) => e.data.object.id)).toEqual([pb.id]);
		const filtered = await list<EventJson>(b.sk, `/v1/events?object_id=${pa.id}`);
		expect(filtered.data).toEqual([]);

		const aEvents = await list<EventJson>(a.sk, "/v1/events?limit=100");
		expect(aEvents.data.map((e) => e.data.object.id)).toEqual([pa.id]);
		// B cannot fetch A's event by id either.
		const eventId = aEvents.data[0]?.id as string;
		await expectApiError(
			await call("GET", `/v1/events/${eventId}`, { key: b.sk }),
			"resource_missing",
			"id",
		);
	});
});

describe("admin authentication", () => {
	it("rejects admin endpoints without a token with 401 api_key_missing", async () => {
		await expectApiError(
			await call("POST", "/admin/v1/merchants", { body: { name: "x" } }),
			"api_key_missing",
		);
	});

	it("rejects admin endpoints with a merchant secret key or a wrong token with 401 api_key_invalid", async () => {
		const m = await createMerchant();
		for (const key of [m.sk, m.skLive, `${ADMIN_TOKEN}x`, "wrong-admin-token-0000"]) {
			await expectApiError(
				await call("POST", "/admin/v1/merchants", { key, body: { name: "x" } }),
				"api_key_invalid",
			);
			await expectApiError(
				await call("GET", `/admin/v1/merchants/${m.merchant.id}/keys`, { key }),
				"api_key_invalid",
			);
		}
	});

	it("does not accept the admin token as an API key", async () => {
		await expectApiError(
			await call("GET", "/v1/payments", { key: ADMIN_TOKEN }),
			"api_key_invalid",
		);
	});
});

describe("Request-Id", () => {
	it("is on every response, success or error, and unique per request", async () => {
		const m = await createMerchant();
		const p = await createPayment(m.sk);
		const idem = { "Idempotency-Key": crypto.randomUUID() };
		const responses = [
			await call("GET", "/health"),
			await call("GET", "/v1/openapi.json"),
			await call("GET", "/v1/payments", { key: m.sk }),
			await call("GET", `/v1/payments/${p.id}`, { key: m.sk }),
			await call("POST", "/v1/payments", {
				key: m.sk,
				body: { amount: 100, currency: "usd" },
				headers: idem,
			}),
			// A replay is a stored response, but still gets this request's id.
			await call("POST", "/v1/payments", {
				key: m.sk,
				body: { amount: 100, currency: "usd" },
				headers: idem,
			}),
			await admin("GET", `/admin/v1/merchants/${m.merchant.id}`),
			await call("GET", "/v1/payments"),
			await call("GET", "/v1/payments", { key: m.pk }),
			await call("GET", "/nowhere"),
			await call("POST", "/v1/payments", { key: m.sk, body: { currency: "usd" } }),
			await call("POST", "/v1/payments", {
				key: m.sk,
				rawBody: "x",
				headers: { "Content-Type": "text/plain" },
			}),
			await call("GET", "/admin/v1/merchants/mch_nope"),
		];
		expect(responses.map((r) => r.status)).toEqual([
			200, 200, 200, 200, 200, 200, 200, 401, 401, 404, 400, 400, 401,
		]);
		expect(responses[5]?.headers.get("Idempotent-Replayed")).toBe("true");
		const ids = responses.map(expectRequestId);
		expect(new Set(ids).size).toBe(ids.length);
	});
});
