import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { decrypt, loadKeyring, lookupHash } from "../../src/lib/encryption";
import { admin, call, createMerchant, expectApiError, json, type ListJson } from "./helpers/api";
import { createEndpoint } from "./helpers/webhooks";

const ORIGINAL_KEYS = env.ENCRYPTION_KEYS as string;
const NEW_KEY = `rot2:${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))}`;

/** The Worker reads ENCRYPTION_KEYS from the same env object on each request. */
function setKeys(value: string) {
	(env as { ENCRYPTION_KEYS: string }).ENCRYPTION_KEYS = value;
}

afterEach(() => setKeys(ORIGINAL_KEYS));

interface CustomerJson {
	id: string;
	email: string | null;
}

interface Rotation {
	table: string;
	scanned: number;
	rotated: number;
	next_cursor: string | null;
	done: boolean;
	current_key: string;
}

async function createCustomer(key: string, email: string): Promise<CustomerJson> {
	const res = await call("POST", "/v1/customers", { key, body: { email } });
	expect(res.status, await res.clone().text()).toBe(200);
	return json<CustomerJson>(res);
}

async function customerRow(id: string) {
	return env.DB.prepare("SELECT email, email_hash FROM customers WHERE id = ?")
		.bind(id)
		.first<{ email: string | null; email_hash: string | null }>();
}

/** Runs the rotation to the end in small batches, as `npm run keys:rotate` does. */
async function rotateAll(limit = 2): Promise<Rotation[]> {
	const batches: Rotation[] = [];
	let cursor: string | undefined;
	for (let i = 0; i < 10_000; i++) {
		const res = await admin("POST", "/admin/v1/encryption/rotate", { limit, cursor });
		expect(res.status, await res.clone().text()).toBe(200);
		const batch = await json<Rotation>(res);
		batches.push(batch);
		if (batch.done) return batches;
		cursor = batch.next_cursor ?? undefined;
	}
	throw new Error("rotation did not finish");
}

async function sha256Hex(text: string): Promise<string> {
	const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
	return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

describe("encryption at rest", () => {
	it("stores customer emails and webhook secrets as envelopes, never in plaintext", async () => {
		const m = await createMerchant();
		const c = await createCustomer(m.sk, "Jenny.Rosen@example.com");
		const endpoint = await createEndpoint(m.sk, { url: "https://example.com/hooks" });
		const row = await customerRow(c.id);
		expect(row?.email).toMatch(/^ev1\.test1\./);
		expect(row?.email).not.toMatch(/jenny|example/i);
		expect(row?.email_hash).toMatch(/^hk1\.test1\.[0-9a-f]{64}$/);
		// A keyed hash: hashing a guessed address without the key finds nothing.
		expect(row?.email_hash).not.toContain(await sha256Hex("jenny.rosen@example.com"));
		const secretRow = await env.DB.prepare("SELECT secret FROM webhook_endpoints WHERE id = ?")
			.bind(endpoint.id)
			.first<{ secret: string }>();
		expect(secretRow?.secret).toMatch(/^ev1\.test1\./);
		expect(secretRow?.secret).not.toContain(endpoint.secret.slice(6));
		// An envelope moved to another row does not open there.
		const keyring = await loadKeyring(ORIGINAL_KEYS);
		await expect(
			decrypt(keyring, row?.email as string, `customer:cus_other:email`),
		).rejects.toThrow();
	});

	it("seals stored idempotent responses, and replays them opened", async () => {
		const m = await createMerchant();
		const request = {
			key: m.sk,
			body: { email: "replay.me@example.com" },
			headers: { "Idempotency-Key": "customer-replay-1" },
		};
		const first = await json<CustomerJson>(await call("POST", "/v1/customers", request));
		const stored = await env.DB.prepare(
			"SELECT response_body FROM idempotency_keys WHERE merchant_id = ? AND key = ?",
		)
			.bind(m.merchant.id, "customer-replay-1")
			.first<{ response_body: string }>();
		expect(stored?.response_body).toMatch(/^ev1\.test1\./);
		expect(stored?.response_body).not.toContain("replay.me");
		const again = await call("POST", "/v1/customers", request);
		expect(again.headers.get("Idempotent-Replayed")).toBe("true");
		expect(await json<CustomerJson>(again)).toEqual(first);
		// A response stored before this release (plaintext) still replays.
		await env.DB.prepare(
			"UPDATE idempotency_keys SET response_body = ? WHERE merchant_id = ? AND key = ?",
		)
			.bind(JSON.stringify(first), m.merchant.id, "customer-replay-1")
			.run();
		expect(await json<CustomerJson>(await call("POST", "/v1/customers", request))).toEqual(first);
	});

	it("reads and finds a customer written before emails were encrypted, then seals it on rotation", async () => {
		const m = await createMerchant();
		const c = await createCustomer(m.sk, "placeholder@example.com");
		// As a row from before this release: plaintext beside an unkeyed SHA-256.
		await env.DB.prepare("UPDATE customers SET email = ?, email_hash = ? WHERE id = ?")
			.bind("Legacy@Example.com", await sha256Hex("legacy@example.com"), c.id)
			.run();
		const read = await json<CustomerJson>(
			await call("GET", `/v1/customers/${c.id}`, { key: m.sk }),
		);
		expect(read.email).toBe("Legacy@Example.com");
		const found = await json<ListJson<CustomerJson>>(
			await call("GET", "/v1/customers?email=legacy@example.com", { key: m.sk }),
		);
		expect(found.data.map((x) => x.id)).toEqual([c.id]);

		await rotateAll();
		const row = await customerRow(c.id);
		expect(row?.email).toMatch(/^ev1\.test1\./);
		expect(row?.email_hash).toMatch(/^hk1\.test1\./);
		const after = await json<ListJson<CustomerJson>>(
			await call("GET", "/v1/customers?email=LEGACY@example.com", { key: m.sk }),
		);
		expect(after.data.map((x) => [x.id, x.email])).toEqual([[c.id, "Legacy@Example.com"]]);
	});

	it("rotates to a new first key in bounded, resumable batches; the old key can then go", async () => {
		const m = await createMerchant();
		const customers = await Promise.all(
			["a@example.com", "b@example.com", "c@example.com"].map((e) => createCustomer(m.sk, e)),
		);
		const endpoint = await createEndpoint(m.sk, { url: "https://example.com/rotate" });
		await call("POST", `/v1/webhook_endpoints/${endpoint.id}/roll_secret`, {
			key: m.sk,
			body: { expires_in: 3600 },
		});

		// Step 1: the new key goes first; the old one stays so existing envelopes still open.
		setKeys(`${NEW_KEY},${ORIGINAL_KEYS}`);
		const before = await json<CustomerJson>(
			await call("GET", `/v1/customers/${customers[0]?.id}`, { key: m.sk }),
		);
		expect(before.email).toBe("a@example.com");
		const byOldHash = await json<ListJson<CustomerJson>>(
			await call("GET", "/v1/customers?email=b@example.com", { key: m.sk }),
		);
		expect(byOldHash.data.map((x) => x.id)).toEqual([customers[1]?.id]);

		// Step 2: rotate. Every batch reads at most `limit` rows; a second run rotates nothing.
		const batches = await rotateAll(2);
		for (const b of batches) expect(b.scanned).toBeLessThanOrEqual(2);
		expect(batches.every((b) => b.current_key === "rot2")).toBe(true);
		expect(batches.reduce((n, b) => n + b.rotated, 0)).toBeGreaterThanOrEqual(4);
		const again = await rotateAll(50);
		expect(again.reduce((n, b) => n + b.rotated, 0)).toBe(0);

		for (const c of customers) expect((await customerRow(c.id))?.email).toMatch(/^ev1\.rot2\./);
		const endpointRow = await env.DB.prepare(
			"SELECT secret, previous_secret FROM webhook_endpoints WHERE id = ?",
		)
			.bind(endpoint.id)
			.first<{ secret: string; previous_secret: string }>();
		expect(endpointRow?.secret).toMatch(/^ev1\.rot2\./);
		expect(endpointRow?.previous_secret).toMatch(/^ev1\.rot2\./);

		// Step 3: the old key is removed; everything still opens and the filter still finds rows.
		setKeys(NEW_KEY);
		const newOnly = await loadKeyring(NEW_KEY);
		expect((await customerRow(customers[2]?.id as string))?.email_hash).toBe(
			await lookupHash(newOnly, "c@example.com"),
		);
		expect(await decrypt(newOnly, endpointRow?.previous_secret as string, endpoint.id)).toBe(
			endpoint.secret,
		);
		const read = await json<CustomerJson>(
			await call("GET", `/v1/customers/${customers[2]?.id}`, { key: m.sk }),
		);
		expect(read.email).toBe("c@example.com");
		const found = await json<ListJson<CustomerJson>>(
			await call("GET", "/v1/customers?email=a@example.com", { key: m.sk }),
		);
		expect(found.data.map((x) => x.id)).toEqual([customers[0]?.id]);
	});

	it("resumes from a cursor, and refuses one it does not know", async () => {
		// Rows of the previous test are under rot2: without it the job stops and says why.
		const stuck = await admin("POST", "/admin/v1/encryption/rotate", {});
		const error = await expectApiError(stuck, "resource_conflict");
		expect(error.message).toContain("'rot2'");
		setKeys(`${NEW_KEY},${ORIGINAL_KEYS}`);
		const first = await json<Rotation>(
			await admin("POST", "/admin/v1/encryption/rotate", { limit: 1 }),
		);
		expect(first.table).toBe("webhook_endpoints");
		expect(first.next_cursor).toMatch(/^(webhook_endpoints|customers):/);
		const next = await admin("POST", "/admin/v1/encryption/rotate", {
			limit: 1,
			cursor: first.next_cursor,
		});
		expect(next.status).toBe(200);
		await expectApiError(
			await admin("POST", "/admin/v1/encryption/rotate", { cursor: "idempotency_keys:x" }),
			"parameter_invalid",
			"cursor",
		);
		await expectApiError(
			await admin("POST", "/admin/v1/encryption/rotate", { cursor: "payments:x" }),
			"parameter_invalid",
			"cursor",
		);
		await expectApiError(
			await call("POST", "/admin/v1/encryption/rotate", { body: {} }),
			"api_key_missing",
		);
	});
});
