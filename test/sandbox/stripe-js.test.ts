import { createHash } from "node:crypto";
import { runInNewContext } from "node:vm";
import type Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Sandbox, startSandbox } from "../../sandbox/server.js";
import { encodeForm } from "../../sandbox/stripe/js/browser/api.js";
import {
	cardBrand,
	formatCardNumber,
	formatExpiry,
	readCard,
	validateExpiry,
	validatePostalCode,
} from "../../sandbox/stripe/js/browser/card-fields.js";
import { NS } from "../../sandbox/stripe/js/browser/protocol.js";
import { stripeClient } from "../../sandbox/stripe/testing.js";

// The stand-in Stripe.js as Node sees it: what the emulator serves (bundle, card frame, CORS,
// the 3-D Secure page in a Stripe.js modal) and the frame's card-field rules. The browser side
// (frame, postMessage, modal) is exercised by test/e2e/card.test.ts.

let sandbox: Sandbox;
let stripe: Stripe;
let base: string;

beforeAll(async () => {
	sandbox = await startSandbox({
		solanaPort: 0,
		stripePort: 0,
		controlPort: 0,
		solana: { slotMs: 0 },
	});
	stripe = stripeClient(sandbox.urls.stripe, { maxNetworkRetries: 0 });
	base = sandbox.urls.stripe;
});
afterAll(() => sandbox.close());

const SHOP = "http://shop.test:8080";

function form(body: Record<string, string>): RequestInit {
	return {
		method: "POST",
		headers: { "content-type": "application/x-www-form-urlencoded" },
		body: new URLSearchParams(body).toString(),
	};
}

describe("GET /js/v3/", () => {
	it.each(["/js/v3/", "/js/v3"])("serves one browser script at %s", async (path) => {
		const res = await fetch(`${base}${path}`);
		expect(res.status).toBe(200);
		expect(res.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
		expect(res.headers.get("cache-control")).toBe("no-cache");
		expect(res.headers.get("x-content-type-options")).toBe("nosniff");
		const code = await res.text();
		expect(code.startsWith("/* StreamPayments sandbox: a stand-in for Stripe.js v3")).toBe(true);
		// Bundled: nothing left for a browser to resolve.
		expect(code).not.toMatch(/^\s*(import|export)\s/m);
	});

	it("answers a matching If-None-Match with 304", async () => {
		const first = await fetch(`${base}/js/v3/`);
		const etag = first.headers.get("etag");
		expect(etag).toMatch(/^"[\w-]{16}"$/);
		const again = await fetch(`${base}/js/v3/`, { headers: { "if-none-match": etag as string } });
		expect(again.status).toBe(304);
		expect(await again.text()).toBe("");
	});

	it("defines window.Stripe with Stripe.js's key checks and retrieves an intent with its client secret", async () => {
		const code = await (await fetch(`${base}/js/v3/`)).text();
		class HTMLScriptElement {
			constructor(readonly src: string) {}
		}
		const window: Record<string, unknown> = {};
		runInNewContext(code, {
			window,
			HTMLScriptElement,
			document: { currentScript: new HTMLScriptElement(`${base}/js/v3/`), scripts: [] },
			fetch,
			URL,
			URLSearchParams,
		});
		type Factory = (key: unknown) => {
			elements(options: { clientSecret?: string }): unknown;
			retrievePaymentIntent(secret: string): Promise<{ paymentIntent?: { id: string } }>;
			confirmPayment: unknown;
		};
		const factory = window.Stripe as Factory & { version: number };
		expect(factory.version).toBe(3);
		expect(() => factory("sk_test_123")).toThrow(
			"You should not use your secret key with Stripe.js.\nPlease pass a publishable key instead.",
		);
		expect(() => factory(undefined)).toThrow(
			"Invalid value for Stripe(): apiKey should be a string. You specified: undefined.",
		);
		const stripeJs = factory("pk_test_sandbox");
		expect(typeof stripeJs.confirmPayment).toBe("function");
		expect(() => stripeJs.elements({})).toThrow(/you must pass a clientSecret or mode/);
		expect(() => stripeJs.elements({ clientSecret: "pi_123" })).toThrow(/of the form/);

		const intent = await stripe.paymentIntents.create({
			amount: 1200,
			currency: "usd",
			allowed_payment_method_types: ["card"],
		});
		const result = await stripeJs.retrievePaymentIntent(intent.client_secret as string);
		expect(result.paymentIntent).toMatchObject({
			id: intent.id,
			status: "requires_payment_method",
		});
	});

	it("serves the card frame's script", async () => {
		const res = await fetch(`${base}/js/v3/elements-frame.js`);
		expect(res.status).toBe(200);
		expect(res.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
		expect(await res.text()).toContain("/v1/payment_methods");
	});
});

describe("GET /js/v3/elements-frame.html", () => {
	it("holds labelled card inputs with autocomplete tokens", async () => {
		const res = await fetch(`${base}/js/v3/elements-frame.html`);
		expect(res.status).toBe(200);
		expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
		expect(res.headers.get("x-frame-options")).toBeNull();
		const html = await res.text();
		for (const [id, label, autocomplete] of [
			["card-number", "Card number", "cc-number"],
			["card-expiry", "Expiration date", "cc-exp"],
			["card-cvc", "Security code", "cc-csc"],
			["postal-code", "ZIP code", "billing postal-code"],
		]) {
			expect(html).toContain(`<label for="${id}">${label}</label>`);
			expect(html).toMatch(new RegExp(`<input id="${id}"[^>]* autocomplete="${autocomplete}"`));
		}
		expect(html).toContain('<script src="elements-frame.js"></script>');
	});

	it("has a strict CSP whose style hash matches its only inline code", async () => {
		const res = await fetch(`${base}/js/v3/elements-frame.html`);
		const csp = res.headers.get("content-security-policy") ?? "";
		const style = /<style>([\s\S]*)<\/style>/.exec(await res.text())?.[1] ?? "";
		const hash = createHash("sha256").update(style).digest("base64");
		expect(csp.split("; ")).toEqual([
			"default-src 'none'",
			"script-src 'self'",
			`style-src 'sha256-${hash}'`,
			"connect-src 'self'",
			"base-uri 'none'",
			"form-action 'none'",
		]);
	});
});

describe("CORS", () => {
	it("answers a preflight for the API from any origin with the headers Stripe.js sends", async () => {
		const res = await fetch(`${base}/v1/payment_intents/pi_123/confirm`, {
			method: "OPTIONS",
			headers: {
				origin: SHOP,
				"access-control-request-method": "POST",
				"access-control-request-headers": "authorization,content-type,stripe-version",
			},
		});
		expect(res.status).toBe(204);
		expect(res.headers.get("access-control-allow-origin")).toBe("*");
		expect(res.headers.get("access-control-allow-methods")).toContain("POST");
		const allowed = (res.headers.get("access-control-allow-headers") ?? "").toLowerCase();
		for (const header of ["authorization", "content-type", "stripe-version"]) {
			expect(allowed.split(", ")).toContain(header);
		}
		expect(res.headers.get("access-control-max-age")).toBe("300");
	});

	it("answers preflights during an outage, and marks the refused request readable too", async () => {
		sandbox.stripe.setFaults({ outage: true });
		try {
			const preflight = await fetch(`${base}/v1/payment_methods`, {
				method: "OPTIONS",
				headers: { origin: SHOP, "access-control-request-method": "POST" },
			});
			expect(preflight.status).toBe(204);
			const res = await fetch(`${base}/v1/payment_methods`, {
				...form({ type: "card" }),
				headers: { authorization: "Bearer pk_test_sandbox", origin: SHOP },
			});
			expect(res.status).toBe(503);
			expect(res.headers.get("access-control-allow-origin")).toBe("*");
		} finally {
			sandbox.stripe.clearFaults();
		}
	});

	it("lets a pk_ key create a PaymentMethod cross-origin, with Request-Id exposed", async () => {
		const init = form({
			type: "card",
			"card[number]": "4242424242424242",
			"card[exp_month]": "12",
			"card[exp_year]": "2040",
			"card[cvc]": "123",
			"billing_details[address][postal_code]": "12345",
		});
		const res = await fetch(`${base}/v1/payment_methods`, {
			...init,
			headers: {
				...(init.headers as Record<string, string>),
				authorization: "Bearer pk_test_x",
				origin: SHOP,
			},
		});
		expect(res.status).toBe(200);
		expect(res.headers.get("access-control-allow-origin")).toBe("*");
		expect(res.headers.get("access-control-expose-headers")).toContain("Request-Id");
		const method = (await res.json()) as Stripe.PaymentMethod;
		expect(method.card?.last4).toBe("4242");
		expect(method.billing_details.address?.postal_code).toBe("12345");
	});

	it("still refuses a pk_ key on secret-key endpoints", async () => {
		const res = await fetch(`${base}/v1/payment_intents`, {
			headers: { authorization: "Bearer pk_test_x", origin: SHOP },
		});
		expect(res.status).toBe(401);
		expect(res.headers.get("access-control-allow-origin")).toBe("*");
	});

	it("leaves non-API paths alone", async () => {
		const res = await fetch(`${base}/health`, { headers: { origin: SHOP } });
		expect(res.headers.get("access-control-allow-origin")).toBeNull();
	});
});

describe("3-D Secure page inside the Stripe.js modal", () => {
	async function intentNeedingAction(): Promise<Stripe.PaymentIntent> {
		const intent = await stripe.paymentIntents.create({
			amount: 4200,
			currency: "usd",
			allowed_payment_method_types: ["card"],
			payment_method: "pm_card_authenticationRequiredOnSetup",
			confirm: true,
			return_url: `${SHOP}/checkout/pay_1`,
		});
		expect(intent.status).toBe("requires_action");
		return intent;
	}

	function challengeUrl(intent: Stripe.PaymentIntent, parentOrigin: string): string {
		const url = new URL(intent.next_action?.redirect_to_url?.url as string);
		url.searchParams.set("parent_origin", parentOrigin);
		return url.toString();
	}

	const script = (id: string, origin: string) =>
		`<script>window.parent.postMessage({"ns":"${NS}","type":"3ds-complete","payment_intent":"${id}"}, "${origin}");</script>`;

	it("carries parent_origin through the form and tells only that origin, without redirecting", async () => {
		const intent = await intentNeedingAction();
		const page = await (await fetch(challengeUrl(intent, SHOP))).text();
		expect(page).toContain(`<input type="hidden" name="parent_origin" value="${SHOP}">`);
		expect(page).not.toContain("<script>");
		const res = await fetch(`${base}/_test/3ds/${intent.id}`, {
			...form({
				client_secret: intent.client_secret as string,
				parent_origin: SHOP,
				outcome: "succeed",
			}),
			redirect: "manual",
		});
		expect(res.status).toBe(200);
		expect(res.headers.get("location")).toBeNull();
		const done = await res.text();
		expect(done).toContain("<p>Authentication complete.</p>");
		expect(done).toContain(script(intent.id, SHOP));
		expect((await stripe.paymentIntents.retrieve(intent.id)).status).toBe("succeeded");
	});

	it("reports a failed challenge the same way; the intent needs a new payment method", async () => {
		const intent = await intentNeedingAction();
		const res = await fetch(`${base}/_test/3ds/${intent.id}`, {
			...form({
				client_secret: intent.client_secret as string,
				parent_origin: SHOP,
				outcome: "fail",
			}),
			redirect: "manual",
		});
		expect(res.status).toBe(200);
		const done = await res.text();
		expect(done).toContain("<p>Authentication failed.</p>");
		expect(done).toContain(script(intent.id, SHOP));
		const after = await stripe.paymentIntents.retrieve(intent.id);
		expect(after.status).toBe("requires_payment_method");
		expect(after.last_payment_error?.code).toBe("payment_intent_authentication_failure");
	});

	it("tells the modal when there is nothing left to authenticate", async () => {
		const intent = await intentNeedingAction();
		await fetch(`${base}/_test/3ds/${intent.id}`, {
			...form({ client_secret: intent.client_secret as string, outcome: "succeed" }),
			redirect: "manual",
		});
		const res = await fetch(challengeUrl(intent, SHOP));
		expect(res.status).toBe(409);
		expect(await res.text()).toContain(script(intent.id, SHOP));
	});

	it.each([
		["a path", `${SHOP}/checkout`],
		["a script URL", "javascript:alert(1)"],
		["a non-URL", "shop"],
	])(
		"ignores a parent_origin that is %s and redirects to return_url as before",
		async (_what, origin) => {
			const intent = await intentNeedingAction();
			const page = await (await fetch(challengeUrl(intent, origin))).text();
			expect(page).not.toContain('name="parent_origin"');
			const res = await fetch(`${base}/_test/3ds/${intent.id}`, {
				...form({
					client_secret: intent.client_secret as string,
					parent_origin: origin,
					outcome: "succeed",
				}),
				redirect: "manual",
			});
			expect(res.status).toBe(303);
			const location = new URL(res.headers.get("location") as string);
			expect(location.origin + location.pathname).toBe(`${SHOP}/checkout/pay_1`);
			expect(location.searchParams.get("redirect_status")).toBe("succeeded");
		},
	);
});

describe("card fields", () => {
	const now = new Date(2026, 10, 25);

	it("formats numbers by brand and expiry as MM / YY", () => {
		expect(formatCardNumber("4242424242424242")).toBe("4242 4242 4242 4242");
		expect(formatCardNumber("378282246310005")).toBe("3782 822463 10005");
		expect(formatCardNumber("4242 4242 4242 4242 4242 99")).toBe("4242 4242 4242 4242 424");
		expect(formatExpiry("1234")).toBe("12 / 34");
		expect(formatExpiry("4")).toBe("04 / ");
		expect(formatExpiry("12 / ", true)).toBe("12");
		expect(cardBrand("5555 5555")).toBe("mastercard");
		expect(cardBrand("6011")).toBe("discover");
	});

	it("reads a complete card", () => {
		expect(
			readCard(
				{ number: "4242 4242 4242 4242", expiry: "12 / 34", cvc: "123", postalCode: "12345" },
				now,
			),
		).toEqual({
			card: {
				number: "4242424242424242",
				expMonth: 12,
				expYear: 2034,
				cvc: "123",
				postalCode: "12345",
				brand: "visa",
			},
			errors: [],
		});
	});

	it("reports each field with Stripe.js's codes and messages, in the form's order", () => {
		const { errors } = readCard({ number: "4242 4242", expiry: "", cvc: "1", postalCode: "" }, now);
		expect(errors.map(({ field, code, message }) => ({ field, code, message }))).toEqual([
			{ field: "number", code: "incomplete_number", message: "Your card number is incomplete." },
			{
				field: "expiry",
				code: "incomplete_expiry",
				message: "Your card's expiration date is incomplete.",
			},
			{ field: "cvc", code: "incomplete_cvc", message: "Your card's security code is incomplete." },
			{ field: "postalCode", code: "incomplete_zip", message: "Your ZIP is incomplete." },
		]);
		expect(
			readCard(
				{ number: "4242 4242 4242 4241", expiry: "12/34", cvc: "123", postalCode: "12345" },
				now,
			).errors[0]?.code,
		).toBe("invalid_number");
	});

	it("refuses past and impossible expiry dates", () => {
		expect(validateExpiry("11 / 26", now)).toBeNull();
		expect(validateExpiry("10 / 26", now)?.code).toBe("invalid_expiry_month_past");
		expect(validateExpiry("12 / 25", now)?.code).toBe("invalid_expiry_year_past");
		expect(validateExpiry("13 / 30", now)?.code).toBe("invalid_expiry_month");
		expect(validatePostalCode("12345-6789")).toBeNull();
		expect(validatePostalCode("ABCDE")?.code).toBe("invalid_zip");
	});

	it("encodes API parameters as Stripe.js does", () => {
		expect(
			encodeForm({
				type: "card",
				card: { number: "4242", exp_month: 12 },
				billing_details: { address: { postal_code: "12 345" } },
				return_url: undefined,
			}),
		).toBe(
			"type=card&card%5Bnumber%5D=4242&card%5Bexp_month%5D=12&billing_details%5Baddress%5D%5Bpostal_code%5D=12%20345",
		);
	});
});
