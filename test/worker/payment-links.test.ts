import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { CLIENT_ASSETS } from "../../src/generated/client-assets";
import worker from "../../src/index";
import { call, createMerchant, expectApiError, json, list, type PaymentJson } from "./helpers/api";

interface PaymentLinkJson {
	id: string;
	object: "payment_link";
	livemode: boolean;
	active: boolean;
	url: string;
	amount: number;
	currency: string;
	payment_method_types: string[];
	description: string | null;
	metadata: Record<string, string>;
	success_url: string | null;
	cancel_url: string | null;
	expires_in: number | null;
	solana: { token: string } | null;
	created: number;
}

const BASE = "http://127.0.0.1:8787";
/**
 * The pages' CSP: the checkout's strict policy with no script source at all, and styles allowed
 * only by the hash of the page's own inline stylesheet.
 */
async function expectStrictCsp(res: Response, html: string): Promise<void> {
	const css = /<style>([^<]*)<\/style>/.exec(html)?.[1] ?? "";
	const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(css));
	const hash = btoa(String.fromCharCode(...new Uint8Array(digest)));
	expect(res.headers.get("Content-Security-Policy")).toBe(
		`default-src 'none'; style-src 'sha256-${hash}'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'`,
	);
	expect(html).not.toContain("<script");
	expect(html).not.toMatch(/\son[a-z]+=/);
}

async function createLink(key: string, body: Record<string, unknown> = {}) {
	const res = await call("POST", "/v1/payment_links", {
		key,
		body: { amount: 2500, currency: "usd", ...body },
	});
	if (res.status !== 200) throw new Error(`link create failed: ${res.status} ${await res.text()}`);
	return json<PaymentLinkJson>(res);
}

/** Visits a link as a payer's browser would, without following the redirect. */
function visit(id: string, init: { method?: string; ip?: string } = {}) {
	return exports.default.fetch(
		new Request(`http://gateway.test/l/${id}`, {
			method: init.method ?? "GET",
			headers: init.ip ? { "CF-Connecting-IP": init.ip } : {},
			redirect: "manual",
		}),
	);
}

/** Calls the Worker with another rate limiter bound, as platform.test.ts does for the API. */
async function visitWith(limiter: RateLimit, id: string, ip: string): Promise<Response> {
	const ctx = createExecutionContext();
	const res = await worker.fetch(
		new Request(`http://gateway.test/l/${id}`, { headers: { "CF-Connecting-IP": ip } }),
		{ ...env, API_RATE_LIMITER: limiter, LINK_RATE_LIMITER: limiter },
		ctx,
	);
	await waitOnExecutionContext(ctx);
	return res;
}

function paymentIdFrom(location: string | null): string {
	const match = /^http:\/\/127\.0\.0\.1:8787\/checkout\/(pay_[0-9A-Z]{30})$/.exec(location ?? "");
	if (!match?.[1]) throw new Error(`expected a checkout URL, got ${String(location)}`);
	return match[1];
}

async function payments(key: string): Promise<PaymentJson[]> {
	return (await list<PaymentJson>(key, "/v1/payments?limit=100")).data;
}

describe("POST /v1/payment_links", () => {
	it("creates a link with every documented field", async () => {
		const m = await createMerchant();
		const before = Math.floor(Date.now() / 1000);
		const link = await createLink(m.sk, {
			amount: 1999,
			currency: "eur",
			payment_method_types: ["card"],
			description: "T-shirt, size M",
			metadata: { sku: "tee-m" },
			success_url: "https://shop.example/thanks",
			cancel_url: "https://shop.example/",
			expires_in: 900,
			active: true,
		});
		expect(link.id).toMatch(/^plink_[0-9A-HJKMNP-TV-Z]{30}$/);
		expect(link).toStrictEqual({
			id: link.id,
			object: "payment_link",
			livemode: false,
			active: true,
			url: `${BASE}/l/${link.id}`,
			amount: 1999,
			currency: "eur",
			payment_method_types: ["card"],
			description: "T-shirt, size M",
			metadata: { sku: "tee-m" },
			success_url: "https://shop.example/thanks",
			cancel_url: "https://shop.example/",
			expires_in: 900,
			solana: null,
			created: expect.any(Number),
		});
		expect(link.created).toBeGreaterThanOrEqual(before);
	});

	it("defaults to active, both methods, no metadata and the payments' default expiry", async () => {
		const m = await createMerchant();
		expect(await createLink(m.sk)).toMatchObject({
			active: true,
			payment_method_types: ["solana", "card"],
			description: null,
			metadata: {},
			success_url: null,
			cancel_url: null,
			expires_in: null,
			solana: null,
		});
	});

	it("creates live-mode links with a live key", async () => {
		const m = await createMerchant();
		expect((await createLink(m.skLive)).livemode).toBe(true);
	});

	it("validates like POST /v1/payments, in the house error shape", async () => {
		const m = await createMerchant();
		const post = (body: unknown) => call("POST", "/v1/payment_links", { key: m.sk, body });
		await expectApiError(await post({ currency: "usd" }), "parameter_missing", "amount");
		await expectApiError(
			await post({ amount: 10.5, currency: "usd" }),
			"parameter_invalid",
			"amount",
		);
		await expectApiError(
			await post({ amount: 100, currency: "USD" }),
			"parameter_invalid",
			"currency",
		);
		await expectApiError(
			await post({ amount: 100, currency: "usd", payment_method_types: ["cash"] }),
			"parameter_invalid",
			"payment_method_types[0]",
		);
		await expectApiError(
			await post({ amount: 100, currency: "usd", success_url: "ftp://shop.example/" }),
			"parameter_invalid",
			"success_url",
		);
		await expectApiError(
			await post({ amount: 100, currency: "usd", expires_in: 30 }),
			"parameter_invalid",
			"expires_in",
		);
		await expectApiError(
			await post({ amount: 100, currency: "usd", active: "yes" }),
			"parameter_invalid",
			"active",
		);
		await expectApiError(
			await post({ amount: 100, currency: "usd", customer: "cus_1" }),
			"parameter_invalid",
			"customer",
		);
	});

	it("keeps room for payment_link in the metadata of its payments (49 keys at most)", async () => {
		const m = await createMerchant();
		const metadata = (n: number) =>
			Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, "v"]));
		await createLink(m.sk, { metadata: metadata(49) });
		const error = await expectApiError(
			await call("POST", "/v1/payment_links", {
				key: m.sk,
				body: { amount: 100, currency: "usd", metadata: metadata(50) },
			}),
			"parameter_invalid",
			"metadata",
		);
		expect(error.message).toContain("49");
	});

	it("refuses a token the link could never be paid in, at creation", async () => {
		const m = await createMerchant();
		const post = (body: unknown) => call("POST", "/v1/payment_links", { key: m.sk, body });
		await expectApiError(
			await post({ amount: 100, currency: "usd", solana: { token: "DOGE" } }),
			"parameter_invalid",
			"solana[token]",
		);
		await expectApiError(
			await post({
				amount: 100,
				currency: "usd",
				payment_method_types: ["card"],
				solana: { token: "USDC" },
			}),
			"parameter_invalid",
			"solana",
		);
	});

	it("needs a secret key", async () => {
		const m = await createMerchant();
		const res = await call("POST", "/v1/payment_links", {
			key: m.pk,
			body: { amount: 100, currency: "usd" },
		});
		await expectApiError(res, "secret_key_required");
	});
});

describe("GET and update /v1/payment_links/:id", () => {
	it("retrieves a link", async () => {
		const m = await createMerchant();
		const link = await createLink(m.sk, { metadata: { sku: "mug" } });
		const res = await call("GET", `/v1/payment_links/${link.id}`, { key: m.sk });
		expect(res.status).toBe(200);
		expect(await json(res)).toStrictEqual(link);
	});

	it("updates active, description, metadata and the URLs; null clears", async () => {
		const m = await createMerchant();
		const link = await createLink(m.sk, {
			description: "Mug",
			metadata: { sku: "mug", color: "blue" },
			success_url: "https://shop.example/thanks",
		});
		const res = await call("POST", `/v1/payment_links/${link.id}`, {
			key: m.sk,
			body: {
				active: false,
				description: null,
				metadata: { sku: "mug-2" },
				success_url: null,
				cancel_url: "https://shop.example/cart",
			},
		});
		expect(res.status).toBe(200);
		const updated = await json<PaymentLinkJson>(res);
		expect(updated).toStrictEqual({
			...link,
			active: false,
			description: null,
			metadata: { sku: "mug-2" },
			success_url: null,
			cancel_url: "https://shop.example/cart",
		});
		const again = await call("GET", `/v1/payment_links/${link.id}`, { key: m.sk });
		expect(await json(again)).toStrictEqual(updated);
	});

	it("leaves fields that are not sent as they were", async () => {
		const m = await createMerchant();
		const link = await createLink(m.sk, { description: "Mug", metadata: { sku: "mug" } });
		const res = await call("POST", `/v1/payment_links/${link.id}`, { key: m.sk, body: {} });
		expect(await json(res)).toStrictEqual(link);
		const reactivated = await call("POST", `/v1/payment_links/${link.id}`, {
			key: m.sk,
			body: { active: true },
		});
		expect(await json(reactivated)).toStrictEqual(link);
	});

	it("keeps amount and currency fixed (a new price is a new link)", async () => {
		const m = await createMerchant();
		const link = await createLink(m.sk);
		const res = await call("POST", `/v1/payment_links/${link.id}`, {
			key: m.sk,
			body: { amount: 100 },
		});
		await expectApiError(res, "parameter_invalid", "amount");
	});

	it("answers 404 for another merchant's link, the other mode's, and unknown ids alike", async () => {
		const owner = await createMerchant("Owner");
		const other = await createMerchant("Other");
		const link = await createLink(owner.sk);
		const unknown = "plink_01JD4X7K3M9ZQ8W6V5T4S3R2P1N0M9";
		const cases: [string, string][] = [
			[other.sk, link.id],
			[owner.skLive, link.id],
			[owner.sk, unknown],
			[owner.sk, "plink_nope"],
			[owner.sk, "pay_01JD4X7K3M9ZQ8W6V5T4S3R2P1N0M9"],
		];
		for (const [key, id] of cases) {
			const get = await call("GET", `/v1/payment_links/${id}`, { key });
			const error = await expectApiError(get, "resource_missing", "id");
			expect(error.message).toBe(`No such payment link: '${id}'`);
			const update = await call("POST", `/v1/payment_links/${id}`, {
				key,
				body: { active: false },
			});
			await expectApiError(update, "resource_missing", "id");
		}
		const still = await call("GET", `/v1/payment_links/${link.id}`, { key: owner.sk });
		expect((await json<PaymentLinkJson>(still)).active).toBe(true);
	});
});

describe("GET /v1/payment_links", () => {
	it("lists the merchant's links of the key's mode, newest first, with cursors", async () => {
		const m = await createMerchant();
		const other = await createMerchant("Other");
		const links: PaymentLinkJson[] = [];
		for (let i = 0; i < 5; i++) links.push(await createLink(m.sk, { amount: 100 + i }));
		await createLink(m.skLive);
		await createLink(other.sk);
		const newest = [...links].reverse().map((l) => l.id);

		const all = await list<PaymentLinkJson>(m.sk, "/v1/payment_links");
		expect(all).toStrictEqual({
			object: "list",
			data: [...links].reverse(),
			has_more: false,
			url: "/v1/payment_links",
		});

		const first = await list<PaymentLinkJson>(m.sk, "/v1/payment_links?limit=2");
		expect(first.data.map((l) => l.id)).toEqual(newest.slice(0, 2));
		expect(first.has_more).toBe(true);
		const second = await list<PaymentLinkJson>(
			m.sk,
			`/v1/payment_links?limit=2&starting_after=${newest[1]}`,
		);
		expect(second.data.map((l) => l.id)).toEqual(newest.slice(2, 4));
		expect(second.has_more).toBe(true);
		const back = await list<PaymentLinkJson>(
			m.sk,
			`/v1/payment_links?limit=2&ending_before=${newest[2]}`,
		);
		expect(back.data.map((l) => l.id)).toEqual(newest.slice(0, 2));
		expect(back.has_more).toBe(false);

		const live = await list<PaymentLinkJson>(m.skLive, "/v1/payment_links");
		expect(live.data.map((l) => l.livemode)).toEqual([true]);
	});

	it("validates limit and cursors", async () => {
		const m = await createMerchant();
		const link = await createLink(m.sk);
		const get = (query: string) => call("GET", `/v1/payment_links?${query}`, { key: m.sk });
		await expectApiError(await get("limit=0"), "parameter_invalid", "limit");
		await expectApiError(await get("limit=101"), "parameter_invalid", "limit");
		await expectApiError(
			await get("starting_after=pay_01JD4X7K3M9ZQ8W6V5T4S3R2P1N0M9"),
			"parameter_invalid",
			"starting_after",
		);
		await expectApiError(
			await get(`starting_after=${link.id}&ending_before=${link.id}`),
			"parameter_invalid",
			"ending_before",
		);
	});
});

describe("GET /l/:id", () => {
	it("creates a fresh payment per visit and answers 303 to its checkout", async () => {
		const m = await createMerchant();
		const link = await createLink(m.sk, {
			amount: 4200,
			currency: "eur",
			payment_method_types: ["card"],
			description: "Concert ticket",
			metadata: { event: "spring-gala" },
			success_url: "https://shop.example/thanks",
			cancel_url: "https://shop.example/",
			expires_in: 600,
		});
		const first = await visit(link.id);
		expect(first.status).toBe(303);
		expect(first.headers.get("Cache-Control")).toBe("no-store");
		const second = await visit(link.id);
		expect(second.status).toBe(303);
		const ids = [
			paymentIdFrom(first.headers.get("Location")),
			paymentIdFrom(second.headers.get("Location")),
		];
		expect(ids[0]).not.toBe(ids[1]);
		for (const id of ids) {
			const res = await call("GET", `/v1/payments/${id}`, { key: m.sk });
			expect(res.status).toBe(200);
			const payment = await json<PaymentJson>(res);
			expect(payment).toMatchObject({
				status: "requires_payment",
				livemode: false,
				amount: 4200,
				currency: "eur",
				payment_method_types: ["card"],
				description: "Concert ticket",
				metadata: { event: "spring-gala", payment_link: link.id },
				success_url: "https://shop.example/thanks",
				cancel_url: "https://shop.example/",
				checkout_url: `${BASE}/checkout/${id}`,
			});
			expect(payment.expires_at - payment.created).toBe(600);
		}
		expect((await payments(m.sk)).map((p) => p.id).sort()).toEqual([...ids].sort());
	});

	it("creates live-mode payments from a live link, owned by the link's merchant", async () => {
		const m = await createMerchant();
		const link = await createLink(m.skLive);
		const id = paymentIdFrom((await visit(link.id)).headers.get("Location"));
		expect((await call("GET", `/v1/payments/${id}`, { key: m.skLive })).status).toBe(200);
		expect((await call("GET", `/v1/payments/${id}`, { key: m.sk })).status).toBe(404);
	});

	it("quotes each payment in the link's token", async () => {
		const m = await createMerchant();
		const link = await createLink(m.sk, { solana: { token: "USDC" } });
		expect(link.solana).toEqual({ token: "USDC" });
		const id = paymentIdFrom((await visit(link.id)).headers.get("Location"));
		const payment = await json<PaymentJson & { solana: { token: string; amount: string } }>(
			await call("GET", `/v1/payments/${id}`, { key: m.sk }),
		);
		expect(payment.solana.token).toBe("USDC");
		expect(BigInt(payment.solana.amount)).toBeGreaterThan(0n);
	});

	it("answers 410 for a deactivated link and creates no payment", async () => {
		const m = await createMerchant();
		const link = await createLink(m.sk, { active: false });
		const res = await visit(link.id);
		expect(res.status).toBe(410);
		expect(res.headers.get("Location")).toBeNull();
		expect(res.headers.get("Content-Type")).toMatch(/^text\/html/);
		expect(res.headers.get("Cache-Control")).toBe("no-store");
		const html = await res.text();
		await expectStrictCsp(res, html);
		expect(html).toContain('<html lang="en">');
		expect(html).toContain("no longer active");
		expect(await payments(m.sk)).toEqual([]);

		// Deactivating through the API stops a link that was working.
		const working = await createLink(m.sk);
		expect((await visit(working.id)).status).toBe(303);
		await call("POST", `/v1/payment_links/${working.id}`, { key: m.sk, body: { active: false } });
		expect((await visit(working.id)).status).toBe(410);
		expect(await payments(m.sk)).toHaveLength(1);
	});

	it("answers 404 with a page for unknown and malformed ids", async () => {
		for (const id of ["plink_01JD4X7K3M9ZQ8W6V5T4S3R2P1N0M9", "plink_nope", "pay_x"]) {
			const res = await visit(id);
			expect(res.status, id).toBe(404);
			const html = await res.text();
			await expectStrictCsp(res, html);
			expect(html).toContain('<html lang="en">');
			expect(html).toContain("Payment link not found");
		}
	});

	it("creates nothing on HEAD (link checkers, prefetchers)", async () => {
		const m = await createMerchant();
		const link = await createLink(m.sk);
		const res = await visit(link.id, { method: "HEAD" });
		expect(res.status).toBe(200);
		expect(res.headers.get("Location")).toBeNull();
		expect(await res.text()).toBe("");
		const inactive = await createLink(m.sk, { active: false });
		expect((await visit(inactive.id, { method: "HEAD" })).status).toBe(410);
		expect(await payments(m.sk)).toEqual([]);
	});

	it("answers 429 with Retry-After once the visitor's or the link's limit is spent", async () => {
		const m = await createMerchant();
		const link = await createLink(m.sk);
		const spent = { limit: async () => ({ success: false }) } as RateLimit;
		const res = await visitWith(spent, link.id, "203.0.113.7");
		expect(res.status).toBe(429);
		expect(res.headers.get("Retry-After")).toBe("60");
		expect(res.headers.get("Location")).toBeNull();
		expect(await res.text()).toContain("Too many requests");
		expect(await payments(m.sk)).toEqual([]);
	});

	it("counts visits per IP first, then per link", async () => {
		const m = await createMerchant();
		const link = await createLink(m.sk);
		const keys: string[] = [];
		const counting = (refuse: (key: string) => boolean) =>
			({
				limit: async ({ key }: { key: string }) => {
					keys.push(key);
					return { success: !refuse(key) };
				},
			}) as RateLimit;

		expect(
			(
				await visitWith(
					counting(() => false),
					link.id,
					"203.0.113.7",
				)
			).status,
		).toBe(303);
		expect(keys).toEqual(["203.0.113.7", `payment_link:${link.id}`]);

		// A spent IP does not spend the link's budget for everyone else.
		keys.length = 0;
		const ipSpent = counting((key) => !key.startsWith("payment_link:"));
		expect((await visitWith(ipSpent, link.id, "203.0.113.8")).status).toBe(429);
		expect(keys).toEqual(["203.0.113.8"]);

		keys.length = 0;
		const linkSpent = counting((key) => key === `payment_link:${link.id}`);
		const res = await visitWith(linkSpent, link.id, "203.0.113.9");
		expect(res.status).toBe(429);
		expect(res.headers.get("Retry-After")).toBe("60");
		expect(await payments(m.sk)).toHaveLength(1);
	});
});

describe("the pay button script", () => {
	const asset = CLIENT_ASSETS["pay-button.js"] as { code: string; hash: string };

	it("is served at the stable v1 path with a short cache, an ETag and open CORS", async () => {
		const res = await call("GET", "/js/v1/pay-button.js", {
			headers: { Origin: "https://shop.example" },
		});
		expect(res.status).toBe(200);
		expect(res.headers.get("Content-Type")).toBe("text/javascript; charset=utf-8");
		expect(res.headers.get("Cache-Control")).toBe("public, max-age=300");
		expect(res.headers.get("ETag")).toBe(`"${asset.hash}"`);
		expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
		expect(await res.text()).toBe(asset.code);
	});

	it("is the real button, under 4 KB minified", () => {
		expect(asset.code).toContain("data-payment-link");
		expect(new TextEncoder().encode(asset.code).length).toBeLessThan(4096);
	});

	it("is served immutable at its content-hashed URL", async () => {
		const res = await call("GET", `/js/v1/pay-button.${asset.hash}.js`);
		expect(res.status).toBe(200);
		expect(res.headers.get("Content-Type")).toBe("text/javascript; charset=utf-8");
		expect(res.headers.get("Cache-Control")).toBe("public, max-age=31536000, immutable");
		expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
		expect(await res.text()).toBe(asset.code);
	});

	it("answers 304 to a matching If-None-Match", async () => {
		for (const tag of [`"${asset.hash}"`, `W/"${asset.hash}"`, `"other", "${asset.hash}"`]) {
			const res = await call("GET", "/js/v1/pay-button.js", { headers: { "If-None-Match": tag } });
			expect(res.status, tag).toBe(304);
			expect(res.headers.get("ETag")).toBe(`"${asset.hash}"`);
			expect(await res.text()).toBe("");
		}
		const stale = await call("GET", "/js/v1/pay-button.js", {
			headers: { "If-None-Match": '"000000000000"' },
		});
		expect(stale.status).toBe(200);
	});

	it("answers 404 for another hash or file", async () => {
		for (const path of [
			"/js/v1/pay-button.000000000000.js",
			"/js/v1/checkout.js",
			"/js/v2/pay-button.js",
		]) {
			await expectApiError(await call("GET", path), "route_not_found");
		}
	});
});

describe("OpenAPI", () => {
	it("documents the payment links API", async () => {
		const doc = await json<{
			paths: Record<string, Record<string, unknown>>;
			components: { schemas: Record<string, unknown> };
		}>(await call("GET", "/v1/openapi.json"));
		expect(Object.keys(doc.paths["/v1/payment_links"] ?? {})).toEqual(
			expect.arrayContaining(["get", "post"]),
		);
		expect(Object.keys(doc.paths["/v1/payment_links/{id}"] ?? {})).toEqual(
			expect.arrayContaining(["get", "post"]),
		);
		expect(Object.keys(doc.components.schemas)).toEqual(
			expect.arrayContaining(["PaymentLink", "CreatePaymentLink", "UpdatePaymentLink"]),
		);
	});
});
