import { env } from "cloudflare:workers";
import { getAddressDecoder } from "@solana/kit";
import { beforeAll, describe, expect, it } from "vitest";
import {
	call,
	createMerchant,
	createPayment,
	expectApiError,
	json,
	type ListJson,
	list,
	type PaymentJson,
} from "./helpers/api";
import { paymentObject } from "./helpers/objects";

interface CustomerJson {
	id: string;
	object: "customer";
	livemode: boolean;
	email: string | null;
	name: string | null;
	preferred_token: string | null;
	wallets: { address: string; verified_at: number | null; added_at: number }[];
	metadata: Record<string, string>;
	created: number;
}

type Merchant = Awaited<ReturnType<typeof createMerchant>>;

/** A random, well-formed wallet address (32 random bytes in base58). */
function walletAddress(): string {
	return getAddressDecoder().decode(crypto.getRandomValues(new Uint8Array(32)));
}

async function createCustomer(key: string, body: Record<string, unknown> = {}) {
	const res = await call("POST", "/v1/customers", { key, body });
	if (res.status !== 200)
		throw new Error(`customer create failed: ${res.status} ${await res.text()}`);
	return json<CustomerJson>(res);
}

let m: Merchant;
let other: Merchant;

beforeAll(async () => {
	m = await createMerchant("Customers");
	other = await createMerchant("Other");
});

describe("POST /v1/customers", () => {
	it("creates a customer with every field, wallets unverified", async () => {
		const wallets = [walletAddress(), walletAddress()];
		const before = Math.floor(Date.now() / 1000);
		const c = await createCustomer(m.sk, {
			email: "Jenny.Rosen@Example.com",
			name: "Jenny Rosen",
			preferred_token: "USDC",
			wallets,
			metadata: { crm_id: "42" },
		});
		expect(c.id).toMatch(/^cus_[0-9A-HJKMNP-TV-Z]{30}$/);
		expect(c.created).toBeGreaterThanOrEqual(before);
		expect(c).toStrictEqual({
			id: c.id,
			object: "customer",
			livemode: false,
			email: "Jenny.Rosen@Example.com",
			name: "Jenny Rosen",
			preferred_token: "USDC",
			// In the order they were added; wallets added together, by address.
			wallets: [...wallets]
				.sort()
				.map((address) => ({ address, verified_at: null, added_at: c.created })),
			metadata: { crm_id: "42" },
			created: c.created,
		});
		const res = await call("GET", `/v1/customers/${c.id}`, { key: m.sk });
		expect(res.status).toBe(200);
		expect(await json(res)).toStrictEqual(c);
	});

	it("creates an empty customer with defaults", async () => {
		const c = await createCustomer(m.sk);
		expect(c).toMatchObject({
			email: null,
			name: null,
			preferred_token: null,
			wallets: [],
			metadata: {},
		});
	});

	it("creates live-mode customers with a live key", async () => {
		expect((await createCustomer(m.skLive)).livemode).toBe(true);
	});

	it("accepts a configured token's symbol as preferred_token", async () => {
		expect((await createCustomer(m.sk, { preferred_token: "PYUSD" })).preferred_token).toBe(
			"PYUSD",
		);
	});

	it("stores the email encrypted, beside a keyed hash of the lowercased address for the filter", async () => {
		const c = await createCustomer(m.sk, { email: "Case@Example.com" });
		const row = await env.DB.prepare("SELECT email, email_hash FROM customers WHERE id = ?")
			.bind(c.id)
			.first<{ email: string; email_hash: string }>();
		const digest = await crypto.subtle.digest(
			"SHA-256",
			new TextEncoder().encode("case@example.com"),
		);
		const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
		expect(row?.email).toMatch(/^ev1\.test1\./);
		expect(row?.email).not.toContain("Example");
		expect(row?.email_hash).toMatch(/^hk1\.test1\.[0-9a-f]{64}$/);
		expect(row?.email_hash).not.toContain(hex);
		expect(c.email).toBe("Case@Example.com");
	});

	describe("validation", () => {
		const refused: [string, Record<string, unknown>, string][] = [
			["an invalid email", { email: "not-an-email" }, "email"],
			["an unknown token", { preferred_token: "DOGE" }, "preferred_token"],
			[
				"a token given by mint",
				{ preferred_token: "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v" },
				"preferred_token",
			],
			["a wallet that is not base58", { wallets: ["0OIl"] }, "wallets[0]"],
			["a wallet of the wrong length", { wallets: ["11111111"] }, "wallets[0]"],
			["an empty name", { name: "  " }, "name"],
			["an unknown parameter", { phone: "+1" }, "phone"],
			["metadata values that are too long", { metadata: { k: "v".repeat(501) } }, "metadata[k]"],
		];
		for (const [what, body, param] of refused) {
			it(`refuses ${what}`, async () => {
				await expectApiError(
					await call("POST", "/v1/customers", { key: m.sk, body }),
					"parameter_invalid",
					param,
				);
			});
		}

		it("refuses more than 10 wallets and repeated wallets", async () => {
			const eleven = Array.from({ length: 11 }, walletAddress);
			await expectApiError(
				await call("POST", "/v1/customers", { key: m.sk, body: { wallets: eleven } }),
				"parameter_invalid",
				"wallets",
			);
			const w = walletAddress();
			await expectApiError(
				await call("POST", "/v1/customers", { key: m.sk, body: { wallets: [w, w] } }),
				"parameter_invalid",
				"wallets",
			);
			expect((await createCustomer(m.sk, { wallets: eleven.slice(0, 10) })).wallets).toHaveLength(
				10,
			);
		});

		it("refuses a wallet that belongs to another customer of the merchant in that mode", async () => {
			const w = walletAddress();
			await createCustomer(m.sk, { wallets: [w] });
			const error = await expectApiError(
				await call("POST", "/v1/customers", {
					key: m.sk,
					body: { wallets: [walletAddress(), w] },
				}),
				"resource_conflict",
				"wallets[1]",
			);
			expect(error.message).toContain(w);
			// The same wallet is free for another merchant, and in the other mode.
			expect((await createCustomer(other.sk, { wallets: [w] })).wallets[0]?.address).toBe(w);
			expect((await createCustomer(m.skLive, { wallets: [w] })).wallets[0]?.address).toBe(w);
		});

		it("requires a secret key", async () => {
			await expectApiError(
				await call("POST", "/v1/customers", { key: m.pk, body: {} }),
				"secret_key_required",
			);
		});
	});
});

describe("POST /v1/customers/:id", () => {
	it("updates fields, clears with null and leaves the rest", async () => {
		const c = await createCustomer(m.sk, { email: "a@example.com", name: "A" });
		const res = await call("POST", `/v1/customers/${c.id}`, {
			key: m.sk,
			body: { name: null, preferred_token: "SOL" },
		});
		expect(res.status).toBe(200);
		expect(await json(res)).toStrictEqual({
			...c,
			name: null,
			preferred_token: "SOL",
		});
	});

	it("merges metadata; an empty value removes the key", async () => {
		const c = await createCustomer(m.sk, { metadata: { a: "1", b: "2" } });
		const res = await call("POST", `/v1/customers/${c.id}`, {
			key: m.sk,
			body: { metadata: { b: "", c: "3" } },
		});
		expect((await json<CustomerJson>(res)).metadata).toEqual({ a: "1", c: "3" });
	});

	it("replaces the wallet list, keeping the wallets that stay as they were", async () => {
		const [w1, w2, w3] = [walletAddress(), walletAddress(), walletAddress()];
		const c = await createCustomer(m.sk, { wallets: [w1, w2] });
		await env.DB.prepare(
			"UPDATE customer_wallets SET verified_at = 5, added_at = 1 WHERE address = ?",
		)
			.bind(w1)
			.run();
		const res = await call("POST", `/v1/customers/${c.id}`, {
			key: m.sk,
			body: { wallets: [w3, w1] },
		});
		const updated = await json<CustomerJson>(res);
		expect(updated.wallets).toEqual([
			{ address: w1, verified_at: 5, added_at: 1 },
			{ address: w3, verified_at: null, added_at: expect.any(Number) },
		]);
		// The removed wallet is free again.
		expect((await createCustomer(m.sk, { wallets: [w2] })).wallets[0]?.address).toBe(w2);
	});

	it("refuses taking another customer's wallet", async () => {
		const w = walletAddress();
		await createCustomer(m.sk, { wallets: [w] });
		const c = await createCustomer(m.sk);
		await expectApiError(
			await call("POST", `/v1/customers/${c.id}`, { key: m.sk, body: { wallets: [w] } }),
			"resource_conflict",
			"wallets[0]",
		);
	});

	it("updates the email and its filter together", async () => {
		const c = await createCustomer(m.sk, { email: "before@example.com" });
		await call("POST", `/v1/customers/${c.id}`, {
			key: m.sk,
			body: { email: "after@example.com" },
		});
		expect(ids(await list<CustomerJson>(m.sk, "/v1/customers?email=before@example.com"))).toEqual(
			[],
		);
		expect(ids(await list<CustomerJson>(m.sk, "/v1/customers?email=after@example.com"))).toEqual([
			c.id,
		]);
	});
});

describe("DELETE /v1/customers/:id", () => {
	it("deletes the customer Stripe-style and frees its wallets", async () => {
		const w = walletAddress();
		const c = await createCustomer(m.sk, { wallets: [w] });
		const res = await call("DELETE", `/v1/customers/${c.id}`, { key: m.sk });
		expect(res.status).toBe(200);
		expect(await json(res)).toStrictEqual({ id: c.id, object: "customer", deleted: true });
		await expectApiError(
			await call("GET", `/v1/customers/${c.id}`, { key: m.sk }),
			"resource_missing",
			"id",
		);
		await expectApiError(
			await call("DELETE", `/v1/customers/${c.id}`, { key: m.sk }),
			"resource_missing",
			"id",
		);
		expect((await createCustomer(m.sk, { wallets: [w] })).wallets[0]?.address).toBe(w);
	});
});

describe("isolation", () => {
	it("reports another merchant's or mode's customer exactly like an unknown id", async () => {
		const c = await createCustomer(m.sk, { name: "Mine" });
		for (const key of [other.sk, m.skLive]) {
			for (const [method, body] of [
				["GET", undefined],
				["POST", { name: "Stolen" }],
				["DELETE", undefined],
			] as const) {
				const error = await expectApiError(
					await call(method, `/v1/customers/${c.id}`, { key, body }),
					"resource_missing",
					"id",
				);
				expect(error.message).toBe(`No such customer: '${c.id}'`);
			}
		}
		for (const id of ["cus_nope", "pay_01JD4X7K3M9ZQ8W6V5T4S3R2P1"]) {
			await expectApiError(
				await call("GET", `/v1/customers/${id}`, { key: m.sk }),
				"resource_missing",
				"id",
			);
		}
		const still = await json<CustomerJson>(
			await call("GET", `/v1/customers/${c.id}`, { key: m.sk }),
		);
		expect(still.name).toBe("Mine");
	});
});

const ids = (l: ListJson<{ id: string }>) => l.data.map((c) => c.id);

describe("GET /v1/customers", () => {
	it("lists newest first with cursors, only this merchant's customers in this mode", async () => {
		const mine = await createMerchant("Lister");
		const created: CustomerJson[] = [];
		for (let i = 0; i < 5; i++) created.push(await createCustomer(mine.sk, { name: `C${i}` }));
		await createCustomer(mine.skLive);
		await createCustomer(other.sk);
		const newest = created.map((c) => c.id).reverse();

		const all = await list<CustomerJson>(mine.sk, "/v1/customers");
		expect(all).toMatchObject({ object: "list", has_more: false, url: "/v1/customers" });
		expect(ids(all)).toEqual(newest);
		expect(all.data[0]).toStrictEqual(created[4]);

		const first = await list<CustomerJson>(mine.sk, "/v1/customers?limit=2");
		expect(ids(first)).toEqual(newest.slice(0, 2));
		expect(first.has_more).toBe(true);
		const second = await list<CustomerJson>(
			mine.sk,
			`/v1/customers?limit=2&starting_after=${newest[1]}`,
		);
		expect(ids(second)).toEqual(newest.slice(2, 4));
		const back = await list<CustomerJson>(
			mine.sk,
			`/v1/customers?limit=2&ending_before=${newest[4]}`,
		);
		expect(ids(back)).toEqual(newest.slice(2, 4));
	});

	it("filters by email, case-insensitively", async () => {
		const mine = await createMerchant("Emails");
		const a = await createCustomer(mine.sk, { email: "Pat@Example.com" });
		await createCustomer(mine.sk, { email: "someone@example.com" });
		const b = await createCustomer(mine.sk, { email: "pat@example.com" });
		await createCustomer(other.sk, { email: "pat@example.com" });
		const found = await list<CustomerJson>(mine.sk, "/v1/customers?email=PAT%40example.com");
		expect(ids(found)).toEqual([b.id, a.id]);
	});

	it("refuses a malformed cursor", async () => {
		await expectApiError(
			await call("GET", "/v1/customers?starting_after=pay_x", { key: m.sk }),
			"parameter_invalid",
			"starting_after",
		);
	});

	it("uses the email index for the filter", async () => {
		const { results } = await env.DB.prepare(
			"EXPLAIN QUERY PLAN SELECT * FROM customers WHERE merchant_id = ? AND livemode = ? AND email_hash = ? ORDER BY id DESC LIMIT 11",
		)
			.bind("mch_x", 0, "h")
			.all<{ detail: string }>();
		expect(results.map((r) => r.detail).join(" ")).toContain("customers_email_idx");
	});
});

describe("customer on payments", () => {
	it("records the customer on the payment, its projection and the list filter", async () => {
		const mine = await createMerchant("Paying");
		const c = await createCustomer(mine.sk);
		const p = await createPayment(mine.sk, { customer: c.id });
		expect(p.customer).toBe(c.id);
		const read = await json<PaymentJson>(
			await call("GET", `/v1/payments/${p.id}`, { key: mine.sk }),
		);
		expect(read).toEqual(p);
		const plain = await createPayment(mine.sk);
		expect(plain.customer).toBeNull();

		const filtered = await list<PaymentJson>(mine.sk, `/v1/payments?customer=${c.id}`);
		expect(filtered.data.map((x) => x.id)).toEqual([p.id]);
		expect(filtered.data[0]).toEqual(p);
		const everything = await list<PaymentJson>(mine.sk, "/v1/payments");
		expect(everything.data.map((x) => x.id)).toEqual([plain.id, p.id]);
	});

	it("refuses an unknown customer, another merchant's, the other mode's and a deleted one", async () => {
		const mine = await createMerchant("Refusing");
		const theirs = await createCustomer(other.sk);
		const live = await createCustomer(mine.skLive);
		const deleted = await createCustomer(mine.sk);
		await call("DELETE", `/v1/customers/${deleted.id}`, { key: mine.sk });
		for (const customer of [
			"cus_01JD4X7K3M9ZQ8W6V5T4S3R2P1N0M9",
			"not-an-id",
			theirs.id,
			live.id,
			deleted.id,
		]) {
			const error = await expectApiError(
				await call("POST", "/v1/payments", {
					key: mine.sk,
					body: { amount: 100, currency: "usd", customer },
				}),
				"parameter_invalid",
				"customer",
			);
			expect(error.message).toBe(`No such customer: '${customer}'.`);
		}
		expect((await list<PaymentJson>(mine.sk, "/v1/payments")).data).toEqual([]);
	});

	it("serves the customer filter from an index of the projection", async () => {
		const { results } = await env.DB.prepare(
			"EXPLAIN QUERY PLAN SELECT * FROM payments WHERE merchant_id = ? AND livemode = ? AND customer_id = ? ORDER BY id DESC LIMIT 11",
		)
			.bind("mch_x", 0, "cus_x")
			.all<{ detail: string }>();
		expect(results.map((r) => r.detail).join(" ")).toContain("payments_merchant_customer_idx");
	});

	it("refuses a customer filter that is not a customer id", async () => {
		await expectApiError(
			await call("GET", "/v1/payments?customer=pay_1", { key: m.sk }),
			"parameter_invalid",
			"customer",
		);
	});

	it("reads a payment stored before customers existed as customer: null", async () => {
		const p = await createPayment(m.sk);
		// Rewrite the stored record and its projection as they were before this field existed.
		const { runInDurableObject } = await import("cloudflare:test");
		await runInDurableObject(paymentObject(p.id), (_i, state) => {
			const row = state.storage.sql
				.exec<{ record: string }>("SELECT record FROM payment WHERE id = 1")
				.one();
			const { customer: _c, ...old } = JSON.parse(row.record) as Record<string, unknown>;
			state.storage.sql.exec("UPDATE payment SET record = ? WHERE id = 1", JSON.stringify(old));
		});
		const { customer: _c, ...oldApi } = p;
		await env.DB.prepare("UPDATE payments SET data = ?, customer_id = NULL WHERE id = ?")
			.bind(JSON.stringify(oldApi), p.id)
			.run();
		const read = await json<PaymentJson>(await call("GET", `/v1/payments/${p.id}`, { key: m.sk }));
		expect(read).toEqual({ ...p, customer: null });
		const listed = await list<PaymentJson>(m.sk, "/v1/payments?limit=100");
		expect(listed.data.find((x) => x.id === p.id)).toEqual({ ...p, customer: null });
		// A later change carries the field again.
		const canceled = await json<PaymentJson>(
			await call("POST", `/v1/payments/${p.id}/cancel`, { key: m.sk }),
		);
		expect(canceled.customer).toBeNull();
	});
});
