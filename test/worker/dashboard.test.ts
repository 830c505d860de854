import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { call, createMerchant } from "./helpers/api";
import { BASE, Browser, signedIn } from "./helpers/dashboard";
import { person } from "./helpers/passkey";

// The dashboard's sign-in, session and security model: cookie flags, expiry, revocation (sign-out
// and key revocation), CSRF tokens and the Origin check, page headers, and API keys.

async function sessionKey(): Promise<Uint8Array> {
	const enc = new TextEncoder();
	const root = await crypto.subtle.importKey(
		"raw",
		enc.encode(env.SESSION_SECRET),
		{ name: "HMAC", hash: "SHA-256" },
		false,
		["sign"],
	);
	return new Uint8Array(
		await crypto.subtle.sign("HMAC", root, enc.encode("streampayments/dashboard-session/v1")),
	);
}

describe("sign-in", () => {
	it("exchanges a secret key for an HttpOnly, SameSite=Strict cookie scoped to /dashboard", async () => {
		const m = await createMerchant("Dash Coffee");
		const browser = new Browser();
		const res = await browser.signIn(m.sk);
		expect(res.status).toBe(303);
		expect(res.headers.get("Location")).toBe("/dashboard/payments");
		const cookie = res.headers.get("Set-Cookie") as string;
		expect(cookie).toMatch(/^sp_dashboard=[\w-]+\.[\w-]+\.[\w-]+;/);
		expect(cookie).toMatch(/; Max-Age=28800(;|$)/);
		expect(cookie).toMatch(/; Path=\/dashboard(;|$)/);
		expect(cookie).toMatch(/; HttpOnly(;|$)/);
		expect(cookie).toMatch(/; SameSite=Strict(;|$)/);
		// The gateway here is http: no Secure flag, which a browser would refuse to send back.
		expect(cookie).not.toMatch(/Secure/);
		// The key is not in the cookie (nor any part of it).
		const token = cookie.slice("sp_dashboard=".length, cookie.indexOf(";"));
		const payload = JSON.parse(atob(token.split(".")[1] as string));
		expect(JSON.stringify(payload)).not.toContain(m.sk.slice(8));
		expect(payload).toMatchObject({ sub: m.merchant.id, livemode: false, aud: "dashboard" });
		const page = await browser.get("/dashboard/payments");
		expect(page.status).toBe(200);
		const html = await page.text();
		expect(html).toContain("Test mode");
		expect(html).not.toContain(m.sk);
	});

	it("sets Secure when the gateway is served over https", async () => {
		const m = await createMerchant();
		const ctx = createExecutionContext();
		const res = await worker.fetch(
			new Request("https://pay.example.test/dashboard/sign-in", {
				method: "POST",
				headers: {
					"Content-Type": "application/x-www-form-urlencoded",
					Origin: "https://pay.example.test",
				},
				body: new URLSearchParams({ secret_key: m.sk }).toString(),
				redirect: "manual",
			}) as Request<unknown, IncomingRequestCfProperties>,
			env,
			ctx,
		);
		await waitOnExecutionContext(ctx);
		expect(res.status).toBe(303);
		expect(res.headers.get("Set-Cookie")).toMatch(/; Secure(;|$)/);
	});

	it("refuses a wrong, publishable, revoked or expired key with no cookie", async () => {
		const m = await createMerchant();
		const revokedKey = m.keys.find((k) => k.type === "secret" && !k.livemode)?.id as string;
		const cases: [string, RegExp][] = [
			[`sk_test_${"x".repeat(32)}`, /Invalid API key/],
			[m.pk, /publishable key/],
			["hello", /not a secret key/],
		];
		for (const [key, message] of cases) {
			const res = await new Browser().signIn(key);
			expect(res.status).toBe(401);
			expect(res.headers.get("Set-Cookie")).toBeNull();
			expect(await res.text()).toMatch(message);
		}
		// Rolled with no grace: the old key has expired.
		await call("POST", `/admin/v1/merchants/${m.merchant.id}/keys/${revokedKey}/roll`, {
			key: "test-admin-token",
			body: { expires_in: 0 },
		});
		const expired = await new Browser().signIn(m.sk);
		expect(expired.status).toBe(401);
		expect(await expired.text()).toMatch(/expired/);
		const other = await createMerchant();
		await call(
			"POST",
			`/admin/v1/merchants/${other.merchant.id}/keys/${other.keys[0]?.id}/revoke`,
			{
				key: "test-admin-token",
			},
		);
		const revoked = await new Browser().signIn(other.sk);
		expect(revoked.status).toBe(401);
		expect(await revoked.text()).toMatch(/Invalid API key/);
	});

	it("counts failed sign-ins against the auth-failure limit, per client IP", async () => {
		const keys: string[] = [];
		const spent = {
			limit: async ({ key }: { key: string }) => {
				keys.push(key);
				return { success: false };
			},
		} as RateLimit;
		const ctx = createExecutionContext();
		const res = await worker.fetch(
			new Request(`${BASE}/dashboard/sign-in`, {
				method: "POST",
				headers: {
					"Content-Type": "application/x-www-form-urlencoded",
					Origin: BASE,
					"CF-Connecting-IP": "198.51.100.7",
				},
				body: `secret_key=sk_test_${"y".repeat(32)}`,
			}) as Request<unknown, IncomingRequestCfProperties>,
			{ ...env, AUTH_FAILURE_RATE_LIMITER: spent },
			ctx,
		);
		await waitOnExecutionContext(ctx);
		expect(res.status).toBe(429);
		expect(res.headers.get("Retry-After")).toBe("60");
		expect(keys).toEqual(["198.51.100.7"]);
	});

	it("sends pages without a session to sign-in, remembering where they were going", async () => {
		const res = await new Browser().get("/dashboard/payments?status=succeeded");
		expect(res.status).toBe(303);
		expect(res.headers.get("Location")).toBe(
			`/dashboard/sign-in?next=${encodeURIComponent("/dashboard/payments?status=succeeded")}`,
		);
	});
});

describe("sessions", () => {
	it("sign-out revokes the session's id: the old cookie no longer works", async () => {
		const m = await createMerchant();
		const browser = await signedIn(m.sk);
		const stolen = browser.cookie;
		const out = await browser.post("/dashboard/sign-out", { csrf: await browser.csrf() });
		expect(out.status).toBe(303);
		expect(out.headers.get("Set-Cookie")).toMatch(/^sp_dashboard=;.*Max-Age=0/);
		const replay = new Browser();
		replay.cookie = stolen;
		expect((await replay.get("/dashboard/payments")).status).toBe(303);
	});

	it("an expired, forged or payer-session token is no session", async () => {
		const m = await createMerchant();
		const keyId = m.keys.find((k) => k.type === "secret" && !k.livemode)?.id as string;
		const now = Math.floor(Date.now() / 1000);
		const sign = (key: Uint8Array, exp: number, typ = "dashboard-session+jwt") =>
			new SignJWT({ livemode: false, key: keyId })
				.setProtectedHeader({ alg: "HS256", typ })
				.setSubject(m.merchant.id)
				.setIssuer(env.PUBLIC_BASE_URL)
				.setAudience("dashboard")
				.setIssuedAt(now - 100)
				.setExpirationTime(exp)
				.setJti(crypto.randomUUID())
				.sign(key);
		const valid = await sign(await sessionKey(), now + 600);
		const tokens = [
			await sign(await sessionKey(), now - 1),
			await sign(new TextEncoder().encode(env.SESSION_SECRET), now + 600),
			await sign(await sessionKey(), now + 600, "payer-session+jwt"),
		];
		const browser = new Browser();
		browser.cookie = `sp_dashboard=${valid}`;
		expect((await browser.get("/dashboard/payments")).status).toBe(200);
		for (const token of tokens) {
			browser.cookie = `sp_dashboard=${token}`;
			expect((await browser.get("/dashboard/payments")).status).toBe(303);
		}
	});

	it("revoking the key a session signed in with ends that session at the next request", async () => {
		const m = await createMerchant();
		const browser = await signedIn(m.sk);
		const owner = await person(m.merchant.id, "owner");
		const keyId = m.keys.find((k) => k.type === "secret" && !k.livemode)?.id as string;
		const res = await owner.browser.post(`/dashboard/keys/${keyId}/revoke`, {
			csrf: await owner.browser.csrf(),
		});
		expect(res.status).toBe(303);
		expect((await browser.get("/dashboard/keys")).status).toBe(303);
		expect((await call("GET", "/v1/payments", { key: m.sk })).status).toBe(401);
	});
});

describe("CSRF", () => {
	it("refuses a state-changing form without the session's token, or from another origin", async () => {
		const m = await createMerchant();
		const { browser } = await person(m.merchant.id, "owner");
		const keyId = m.keys.find((k) => k.type === "publishable" && !k.livemode)?.id as string;
		const csrf = await browser.csrf();
		const path = `/dashboard/keys/${keyId}/revoke`;
		const attempts = [
			await browser.post(path, {}),
			await browser.post(path, { csrf: `${csrf.slice(0, -2)}xx` }),
			await browser.post(path, { csrf }, { origin: "https://evil.example" }),
			await browser.post(path, { csrf }, { origin: null }),
			await browser.post(path, { csrf }, { origin: "null" }),
		];
		for (const res of attempts) {
			expect(res.status).toBe(403);
			expect(await res.text()).toMatch(/refused|expired/);
		}
		// Nothing changed; the same form from the page itself works.
		const keys = await browser.get("/dashboard/keys");
		expect(await keys.text()).not.toMatch(/revoked \d{4}/);
		expect((await browser.post(path, { csrf })).status).toBe(303);
		expect(await (await browser.get("/dashboard/keys")).text()).toMatch(/revoked \d{4}/);
	});

	it("a token from another session does not pass", async () => {
		const m = await createMerchant();
		const a = await signedIn(m.sk);
		const b = await signedIn(m.sk);
		const keyId = m.keys.find((k) => k.type === "publishable" && !k.livemode)?.id as string;
		const res = await a.post(`/dashboard/keys/${keyId}/revoke`, { csrf: await b.csrf() });
		expect(res.status).toBe(403);
	});

	it("refuses a cross-origin sign-in", async () => {
		const m = await createMerchant();
		const res = await new Browser().post(
			"/dashboard/sign-in",
			{ secret_key: m.sk },
			{ origin: "https://evil.example" },
		);
		expect(res.status).toBe(403);
		expect(res.headers.get("Set-Cookie")).toBeNull();
	});
});

describe("pages", () => {
	it("carry a strict CSP, no-store, and load their script and styles from hashed URLs", async () => {
		const m = await createMerchant();
		const browser = await signedIn(m.sk);
		for (const path of ["/dashboard/payments", "/dashboard/account"]) {
			const res = await browser.get(path);
			expect(res.status).toBe(200);
			const csp = res.headers.get("Content-Security-Policy") as string;
			expect(csp).toContain("default-src 'none'");
			expect(csp).toContain("script-src 'self'");
			expect(csp).toContain("style-src 'self'");
			expect(csp).toContain("form-action 'self'");
			expect(csp).toContain("frame-ancestors 'none'");
			expect(csp).not.toContain("unsafe-inline");
			expect(res.headers.get("X-Frame-Options")).toBe("DENY");
			expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
			expect(res.headers.get("Cache-Control")).toBe("no-store");
			const html = await res.text();
			// No inline script: only the external one and JSON data blocks.
			for (const tag of html.match(/<script[^>]*>/g) ?? []) {
				expect(tag).toMatch(
					/src="\/dashboard\/assets\/dashboard\.[0-9a-f]{12}\.js"|type="application\/json"/,
				);
			}
			const script = /src="(\/dashboard\/assets\/[^"]+\.js)"/.exec(html)?.[1] as string;
			const css = /href="(\/dashboard\/assets\/[^"]+\.css)"/.exec(html)?.[1] as string;
			const js = await browser.get(script);
			expect(js.headers.get("Content-Type")).toMatch(/^text\/javascript/);
			expect(js.headers.get("Cache-Control")).toBe("public, max-age=31536000, immutable");
			expect((await js.text()).length).toBeGreaterThan(10_000);
			const style = await browser.get(css);
			expect(style.headers.get("Content-Type")).toMatch(/^text\/css/);
			expect(await style.text()).toContain(".u-legend");
		}
		expect((await browser.get("/dashboard/assets/dashboard.000000000000.js")).status).toBe(404);
		const unknown = await browser.get("/dashboard/nowhere");
		expect(unknown.status).toBe(404);
		expect(unknown.headers.get("Content-Security-Policy")).toContain("default-src 'none'");
		expect(await unknown.text()).toContain("There is no such page in the dashboard.");
	});
});

describe("API keys", () => {
	it("rolls a key with a grace period and shows the new secret once, which then works", async () => {
		const m = await createMerchant();
		const owner = await person(m.merchant.id, "owner");
		const browser = owner.browser;
		const keyId = m.keys.find((k) => k.type === "secret" && !k.livemode)?.id as string;
		const before = Math.floor(Date.now() / 1000);
		const res = await browser.post(`/dashboard/keys/${keyId}/roll`, {
			csrf: await browser.csrf(),
			grace: "3600",
		});
		expect(res.status).toBe(200);
		expect(res.headers.get("Cache-Control")).toBe("no-store");
		const secret = /id="new-secret">([^<]+)</.exec(await res.text())?.[1] as string;
		expect(secret).toMatch(/^sk_test_[0-9A-Za-z]{32}$/);
		expect((await call("GET", "/v1/balances", { key: secret })).status).toBe(200);
		// The old key (and this session) last out the hour of grace.
		expect((await call("GET", "/v1/balances", { key: m.sk })).status).toBe(200);
		const row = await env.DB.prepare("SELECT expires_at, rolled_to FROM api_keys WHERE id = ?")
			.bind(keyId)
			.first<{ expires_at: number; rolled_to: string }>();
		expect(row?.expires_at).toBeGreaterThanOrEqual(before + 3600);
		expect(row?.expires_at).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 3600);
		const list = await (await browser.get("/dashboard/keys")).text();
		expect(list).not.toContain(secret);
		const audit = await env.DB.prepare(
			"SELECT action, actor_type, actor_id, actor_role FROM audit_log WHERE merchant_id = ? AND object_id = ?",
		)
			.bind(m.merchant.id, keyId)
			.all<{ action: string; actor_id: string }>();
		expect(audit.results).toContainEqual({
			action: "api_key.rolled",
			actor_type: "user",
			actor_id: owner.userId,
			actor_role: "owner",
		});
	});

	it("a live key revoked in the dashboard is refused by the API at once", async () => {
		const m = await createMerchant();
		const created = await call("POST", `/admin/v1/merchants/${m.merchant.id}/keys`, {
			key: "test-admin-token",
			body: { type: "secret", livemode: true },
		});
		const extra = (await created.json()) as { id: string; secret: string };
		// Authenticated once, so the gateway has the live key's lookup cached.
		expect((await call("GET", "/v1/balances", { key: extra.secret })).status).toBe(200);
		const { browser } = await person(m.merchant.id, "owner");
		await browser.post("/dashboard/mode", { csrf: await browser.csrf(), mode: "live" });
		const res = await browser.post(`/dashboard/keys/${extra.id}/revoke`, {
			csrf: await browser.csrf(),
		});
		expect(res.status).toBe(303);
		expect((await call("GET", "/v1/balances", { key: extra.secret })).status).toBe(401);
	});

	it("lists and changes only the session mode's keys of the session's merchant", async () => {
		const m = await createMerchant();
		const other = await createMerchant();
		const { browser } = await person(m.merchant.id, "owner");
		const html = await (await browser.get("/dashboard/keys")).text();
		const testKeys = m.keys.filter((k) => !k.livemode).map((k) => k.id);
		const liveKeys = m.keys.filter((k) => k.livemode).map((k) => k.id);
		for (const id of testKeys) expect(html).toContain(id);
		for (const id of liveKeys) expect(html).not.toContain(id);
		const csrf = await browser.csrf();
		for (const id of [liveKeys[0], other.keys[0]?.id]) {
			const res = await browser.post(`/dashboard/keys/${id}/revoke`, { csrf });
			expect(res.status).toBe(404);
		}
		const untouched = await env.DB.prepare(
			"SELECT COUNT(*) AS n FROM api_keys WHERE revoked_at IS NOT NULL AND merchant_id IN (?, ?)",
		)
			.bind(m.merchant.id, other.merchant.id)
			.first<{ n: number }>();
		expect(untouched?.n).toBe(0);
	});

	it("a live key never opens the dashboard; a person switches mode with a form", async () => {
		const m = await createMerchant();
		const refused = await new Browser().signIn(m.skLive);
		expect(refused.status).toBe(401);
		expect(refused.headers.get("Set-Cookie")).toBeNull();
		expect(await refused.text()).toMatch(/Live mode is opened with a passkey/);
		const { browser } = await person(m.merchant.id, "owner");
		const old = browser.cookie;
		const res = await browser.post("/dashboard/mode", { csrf: await browser.csrf(), mode: "live" });
		expect(res.status).toBe(303);
		const html = await (await browser.get("/dashboard/keys")).text();
		expect(html).toContain("Live mode");
		for (const k of m.keys.filter((k) => k.livemode)) expect(html).toContain(k.id);
		// The test-mode session was replaced, not kept alongside.
		const replay = new Browser();
		replay.cookie = old;
		expect((await replay.get("/dashboard/keys")).status).toBe(303);
		// A test secret key session cannot switch to live.
		const keyed = await signedIn(m.sk);
		const live = await keyed.post("/dashboard/mode", { csrf: await keyed.csrf(), mode: "live" });
		expect(live.status).toBe(403);
	});
});
