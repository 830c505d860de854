import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { createInvitation } from "../../scripts/lib/gateway-api";
import { screenshot } from "./helpers/checkout";
import { CHROMIUM_PATH } from "./helpers/chromium";
import { STEP_TIMEOUT_MS } from "./helpers/settings";
import { type StackMerchant, sharedStack } from "./helpers/stack";

// Team accounts in Chromium against wrangler dev, with the DevTools protocol's WebAuthn virtual
// authenticator standing in for a phone or laptop: register a passkey from the owner's invitation,
// sign in with it, invite a teammate as support, who registers and sees only what support may,
// and the owner confirms a key roll with the passkey (step-up) after a recovery-code sign-in.

const stack = sharedStack();
let merchant: StackMerchant;
let browser: Browser;

/** A browser context with a platform passkey authenticator (user verification always passes). */
async function personContext(): Promise<{ context: BrowserContext; page: Page }> {
	const context = await browser.newContext();
	const page = await context.newPage();
	const cdp = await context.newCDPSession(page);
	await cdp.send("WebAuthn.enable");
	await cdp.send("WebAuthn.addVirtualAuthenticator", {
		options: {
			protocol: "ctap2",
			transport: "internal",
			hasResidentKey: true,
			hasUserVerification: true,
			isUserVerified: true,
		},
	});
	return { context, page };
}

/** Registers a passkey from an invitation link; returns the recovery codes the page shows once. */
async function register(page: Page, url: string): Promise<string[]> {
	await page.goto(url);
	await page.click("#register-passkey");
	await page.waitForSelector("#recovery-codes-card:not([hidden])");
	const codes = ((await page.textContent("#recovery-codes")) ?? "").trim().split("\n");
	await page.click("#continue");
	return codes;
}

beforeAll(async () => {
	merchant = await stack.merchant("Passkey Roasters");
	browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true });
});

afterAll(async () => {
	await browser?.close();
});

describe("dashboard team accounts with passkeys", () => {
	test(
		"register, sign in, invite support, accept, see the role's limits, step up for a key roll",
		async () => {
			const invitation = await createInvitation(
				stack.gatewayUrl,
				inject("adminToken"),
				merchant.id,
				{ email: "owner@roasters.example" },
			);
			// WebAuthn needs a host name: the link is on localhost, not 127.0.0.1.
			expect(new URL(invitation.url).hostname).toBe("localhost");
			const origin = new URL(invitation.url).origin;
			const owner = await personContext();
			const codes = await register(owner.page, invitation.url);
			expect(codes).toHaveLength(10);
			await owner.page.waitForURL(`${origin}/dashboard`);
			expect(await owner.page.textContent("#who")).toContain("owner@roasters.example · owner");

			// Sign out, then back in with the passkey alone.
			await owner.page.click("form[action='/dashboard/sign-out'] button");
			await owner.page.waitForURL(/\/dashboard\/sign-in/);
			await owner.page.click("#passkey-sign-in-button");
			await owner.page.waitForURL(`${origin}/dashboard`);

			// Invite a teammate as support; the link is shown once.
			await owner.page.goto(`${origin}/dashboard/team`);
			await owner.page.fill("#invite-email", "help@roasters.example");
			await owner.page.selectOption("#invite-role", "support");
			await owner.page.click("#invite-submit");
			const link = ((await owner.page.textContent("#invitation-url")) ?? "").trim();
			expect(link).toMatch(/\/dashboard\/join\/inv_\w+#\w+$/);
			await screenshot(owner.page, "dashboard-team-invitation");

			const support = await personContext();
			await register(support.page, link);
			// Support lands on payments, sees no keys, and is refused them on the server.
			await support.page.waitForURL(`${origin}/dashboard/payments`);
			const nav = (await support.page.textContent("nav[aria-label=Dashboard]")) ?? "";
			expect(nav).toContain("Payments");
			expect(nav).not.toContain("API keys");
			const keys = await support.page.goto(`${origin}/dashboard/keys`);
			expect(keys?.status()).toBe(403);
			expect(await support.page.textContent("main")).toContain(
				"Your role (support) does not allow this",
			);
			await screenshot(support.page, "dashboard-support-refused");

			// The owner signs in with a recovery code (no passkey check), so a key roll asks for one.
			await owner.page.click("form[action='/dashboard/sign-out'] button");
			await owner.page.waitForURL(/\/dashboard\/sign-in/);
			await owner.page.click("#recovery summary");
			await owner.page.fill("#recovery-email", "owner@roasters.example");
			await owner.page.fill("#recovery-code", codes[0] as string);
			await owner.page.click("#recovery button[type=submit]");
			await owner.page.waitForURL(/\/dashboard\/account\?recovered=1/);
			await owner.page.goto(`${origin}/dashboard/keys`);
			await owner.page.click("tr[data-key] form[action$='/roll'] button");
			await owner.page.waitForSelector("#step-up");
			await screenshot(owner.page, "dashboard-step-up");
			await owner.page.click("#step-up-confirm");
			await owner.page.waitForSelector("#new-secret");
			expect(await owner.page.textContent("#new-secret")).toMatch(/^(sk|pk)_test_/);

			// The audit log names who did what.
			await owner.page.goto(`${origin}/dashboard/audit`);
			const audit = (await owner.page.textContent("#audit")) ?? "";
			expect(audit).toContain("invitation.accepted");
			expect(audit).toContain("api_key.rolled");
			expect(audit).toContain("(owner)");
			await owner.context.close();
			await support.context.close();
		},
		STEP_TIMEOUT_MS * 4,
	);
});
