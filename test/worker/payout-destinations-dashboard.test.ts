import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { getAddressDecoder } from "@solana/kit";
import { describe, expect, it } from "vitest";
import type { ApiPayoutDestination } from "../../src/domain/payout-destination";
import worker from "../../src/index";
import { call, createMerchant, json } from "./helpers/api";
import { field } from "./helpers/dashboard";
import { liveSessionCookie, type Person, person, stepUpWith } from "./helpers/passkey";

// The Payouts page's destinations: a wallet added with its signature (as the page's script does:
// ask for the message, have the wallet sign it, send the form), Stripe onboarding started, a
// default chosen, one removed; each behind a passkey check and recorded with the person.

interface Wallet {
	address: string;
	sign(message: Uint8Array): Promise<Uint8Array>;
}

async function newWallet(): Promise<Wallet> {
	const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
		"sign",
		"verify",
	])) as CryptoKeyPair;
	const raw = new Uint8Array((await crypto.subtle.exportKey("raw", pair.publicKey)) as ArrayBuffer);
	return {
		address: getAddressDecoder().decode(raw),
		sign: async (message) =>
			new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, pair.privateKey, message)),
	};
}

const base64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));

/** What the page's script sends: the challenge's message, signed by the wallet, in the form. */
async function walletForm(p: Person, wallet: Wallet): Promise<Record<string, string>> {
	const html = await (await p.browser.get("/dashboard/payouts")).text();
	expect(html).toContain('id="wallet-form"');
	const csrf = field(html, "csrf");
	const formToken = /id="wallet-form"[\s\S]*?name="form_token" value="(\w+)"/.exec(html)?.[1];
	const res = await p.browser.post("/dashboard/payouts/destinations/challenge", {
		csrf,
		address: wallet.address,
	});
	expect(res.status, await res.clone().text()).toBe(200);
	const { message } = await json<{ message: string }>(res);
	const signature = base64(await wallet.sign(new TextEncoder().encode(message)));
	return {
		csrf,
		form_token: formToken as string,
		address: wallet.address,
		message,
		signature,
	};
}

async function destinations(sk: string): Promise<ApiPayoutDestination[]> {
	const res = await call("GET", "/v1/payout_destinations", { key: sk });
	return (await json<{ data: ApiPayoutDestination[] }>(res)).data;
}

describe("payout destinations on the dashboard", () => {
	it("an owner adds a wallet with its signature; the page lists it, the log names the person", async () => {
		const m = await createMerchant("Dash Payouts");
		const owner = await person(m.merchant.id, "owner");
		const wallet = await newWallet();
		const form = await walletForm(owner, wallet);
		// As a browser sends it: the message's line breaks as CRLF.
		const sent = { ...form, message: (form.message as string).replace(/\n/g, "\r\n") };
		const res = await owner.browser.post("/dashboard/payouts/destinations/wallet", sent);
		expect(res.status, await res.clone().text()).toBe(303);
		expect(res.headers.get("Location")).toBe("/dashboard/payouts?added=wallet");
		const [added, ...more] = await destinations(m.sk);
		expect(more).toHaveLength(0);
		expect(added).toMatchObject({ address: wallet.address, default: true, status: "active" });
		const page = await (await owner.browser.get("/dashboard/payouts?added=wallet")).text();
		expect(page).toContain(`data-destination="${added?.id}"`);
		expect(page).toContain(wallet.address);
		expect(page).toContain('id="payouts-notice"');
		// The same form again (a double submit) adds nothing more.
		const again = await owner.browser.post("/dashboard/payouts/destinations/wallet", sent);
		expect(again.status).toBe(303);
		expect(await destinations(m.sk)).toHaveLength(1);
		const audit = await json<{ data: { object_id: string; actor: Record<string, string> }[] }>(
			await call("GET", "/v1/audit_log?action=payout_destination.created", { key: m.sk }),
		);
		expect(audit.data).toEqual([
			expect.objectContaining({
				object_id: added?.id,
				actor: { type: "user", id: owner.userId, role: "owner" },
			}),
		]);
	});

	it("needs a step-up: without one the proof comes back behind a passkey check, then goes through", async () => {
		const m = await createMerchant();
		const owner = await person(m.merchant.id, "owner");
		const wallet = await newWallet();
		const form = await walletForm(owner, wallet);
		await env.DB.prepare("DELETE FROM session_step_ups").run();
		const res = await owner.browser.post("/dashboard/payouts/destinations/wallet", form);
		expect(res.status).toBe(403);
		const html = await res.text();
		expect(html).toMatch(/Confirm it('|&#39;)s you/);
		expect(html).toContain(`name="signature" value="${form.signature}"`);
		expect(await destinations(m.sk)).toHaveLength(0);
		expect((await stepUpWith(owner, form.csrf as string)).status).toBe(200);
		const through = await owner.browser.post("/dashboard/payouts/destinations/wallet", form);
		expect(through.status).toBe(303);
		expect(await destinations(m.sk)).toHaveLength(1);
	});

	it("shows the gateway's refusal beside the destinations: another wallet's signature", async () => {
		const m = await createMerchant();
		const admin = await person(m.merchant.id, "admin");
		const wallet = await newWallet();
		const form = await walletForm(admin, wallet);
		const forged = base64(
			await (await newWallet()).sign(new TextEncoder().encode(form.message as string)),
		);
		const res = await admin.browser.post("/dashboard/payouts/destinations/wallet", {
			...form,
			signature: forged,
		});
		expect(res.status).toBe(400);
		const html = await res.text();
		expect(html).toContain('id="destination-error"');
		expect(html).toContain("was not made by");
		expect(await destinations(m.sk)).toHaveLength(0);
	});

	it("an analyst sees the destinations but no forms, and may not add one", async () => {
		const m = await createMerchant();
		const owner = await person(m.merchant.id, "owner");
		const form = await walletForm(owner, await newWallet());
		const analyst = await person(m.merchant.id, "analyst");
		const page = await (await analyst.browser.get("/dashboard/payouts")).text();
		expect(page).toContain('id="destinations"');
		expect(page).not.toContain('id="wallet-form"');
		const csrf = await analyst.browser.csrf("/dashboard/payouts");
		const res = await analyst.browser.post("/dashboard/payouts/destinations/wallet", {
			...form,
			csrf,
		});
		expect(res.status).toBe(403);
		expect(await destinations(m.sk)).toHaveLength(0);
	});

	it("makes another wallet the default and removes one, refusing while a payout to it is pending", async () => {
		const m = await createMerchant();
		const owner = await person(m.merchant.id, "owner");
		for (const _ of [1, 2]) {
			const form = await walletForm(owner, await newWallet());
			expect(
				(await owner.browser.post("/dashboard/payouts/destinations/wallet", form)).status,
			).toBe(303);
		}
		const [second, first] = (await destinations(m.sk)) as [
			ApiPayoutDestination,
			ApiPayoutDestination,
		];
		expect(first.default).toBe(true);
		const csrf = await owner.browser.csrf("/dashboard/payouts");
		const made = await owner.browser.post(`/dashboard/payouts/destinations/${second.id}/default`, {
			csrf,
		});
		expect(made.status).toBe(303);
		const after = await destinations(m.sk);
		expect(after.find((d) => d.id === second.id)?.default).toBe(true);
		expect(after.find((d) => d.id === first.id)?.default).toBe(false);

		const now = Math.floor(Date.now() / 1000);
		await env.DB.prepare(
			`INSERT INTO payouts (id, merchant_id, livemode, amount, currency, destination_id, method, status, automatic, created, updated)
			 VALUES ('po_0000000000000000000000000009', ?, 0, '5', 'sol', ?, 'solana', 'in_transit', 0, ?, ?)`,
		)
			.bind(m.merchant.id, first.id, now, now)
			.run();
		const refused = await owner.browser.post(`/dashboard/payouts/destinations/${first.id}/remove`, {
			csrf,
		});
		expect(refused.status).toBe(409);
		expect(await refused.text()).toMatch(/pending or in-transit payout/);
		const removed = await owner.browser.post(
			`/dashboard/payouts/destinations/${second.id}/remove`,
			{ csrf },
		);
		expect(removed.status).toBe(303);
		expect((await destinations(m.sk)).map((d) => d.id)).toEqual([first.id]);
	});

	it("starts Stripe onboarding: the account is created once, the browser is sent to Stripe", async () => {
		const m = await createMerchant();
		const owner = await person(m.merchant.id, "owner");
		const html = await (await owner.browser.get("/dashboard/payouts")).text();
		const csrf = field(html, "csrf");
		const formToken = /id="stripe-form"[\s\S]*?name="form_token" value="(\w+)"/.exec(html)?.[1];
		const form = { csrf, form_token: formToken as string };
		const res = await owner.browser.post("/dashboard/payouts/destinations/stripe", form);
		expect(res.status, await res.clone().text()).toBe(303);
		const [created] = await destinations(m.sk);
		expect(created).toMatchObject({ type: "stripe_account", status: "onboarding" });
		expect(res.headers.get("Location")).toBe(
			`/dashboard/payouts/destinations/${created?.id}/onboard`,
		);
		const again = await owner.browser.post("/dashboard/payouts/destinations/stripe", form);
		expect(again.headers.get("Location")).toBe(res.headers.get("Location"));
		expect(await destinations(m.sk)).toHaveLength(1);
		const onboard = await owner.browser.get(res.headers.get("Location") as string);
		expect(onboard.status).toBe(303);
		expect(onboard.headers.get("Location")).toMatch(/\/_test\/connect\/onboarding\//);
		const page = await (await owner.browser.get("/dashboard/payouts")).text();
		expect(page).toContain(`id="onboard-${created?.id}"`);
	});

	it("offers the Sandbox Wallet on the test-mode page in local development only", async () => {
		const SANDBOX = "http://127.0.0.1:8890";
		const m = await createMerchant();
		const owner = await person(m.merchant.id, "owner");
		const live = await liveSessionCookie(m.merchant.id);
		const page = async (cookie: string, vars: Record<string, string>) => {
			const ctx = createExecutionContext();
			const res = await worker.fetch(
				new Request("http://gateway.test/dashboard/payouts", { headers: { Cookie: cookie } }),
				{ ...env, ...vars } as typeof env,
				ctx,
			);
			await waitOnExecutionContext(ctx);
			return { html: await res.text(), csp: res.headers.get("Content-Security-Policy") ?? "" };
		};
		const dev = { ENVIRONMENT: "development", SANDBOX_WALLET_URL: SANDBOX };
		const test = await page(owner.browser.cookie as string, dev);
		expect(test.html).toContain(`<script src="${SANDBOX}/wallet/wallet.js" defer></script>`);
		expect(test.csp).toMatch(new RegExp(`script-src 'self' ${SANDBOX.replace(/\./g, "\\.")}`));
		for (const [cookie, vars] of [
			[live, dev],
			[owner.browser.cookie as string, { SANDBOX_WALLET_URL: SANDBOX }],
		] as const) {
			const other = await page(cookie, vars);
			expect(other.html).toContain('id="destinations"');
			expect(other.html).not.toContain("/wallet/wallet.js");
			expect(other.csp).not.toContain(SANDBOX);
		}
	});
});
