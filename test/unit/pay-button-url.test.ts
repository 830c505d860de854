import { describe, expect, it } from "vitest";
import { gatewayOrigin, payButtonTarget } from "../../src/client/pay-button-url";

const SCRIPT = "https://pay.example.com/js/v1/pay-button.js";
const LINK_ID = "plink_01JD4X7K3M9ZQ8W6V5T4S3R2P1N0M9";

describe("gatewayOrigin", () => {
	it("takes the origin of an https script URL, hashed or not", () => {
		expect(gatewayOrigin(SCRIPT)).toBe("https://pay.example.com");
		expect(gatewayOrigin("https://pay.example.com:8443/js/v1/pay-button.0123456789ab.js")).toBe(
			"https://pay.example.com:8443",
		);
	});

	it("accepts plain http only on loopback", () => {
		expect(gatewayOrigin("http://127.0.0.1:8787/js/v1/pay-button.js")).toBe(
			"http://127.0.0.1:8787",
		);
		expect(gatewayOrigin("http://localhost:8787/js/v1/pay-button.js")).toBe(
			"http://localhost:8787",
		);
		expect(gatewayOrigin("http://[::1]:8787/js/v1/pay-button.js")).toBe("http://[::1]:8787");
		expect(gatewayOrigin("http://pay.example.com/js/v1/pay-button.js")).toBeNull();
		expect(gatewayOrigin("http://127.0.0.1.evil.example/js/v1/pay-button.js")).toBeNull();
	});

	it("refuses other schemes and what is not a URL", () => {
		expect(gatewayOrigin("")).toBeNull();
		expect(gatewayOrigin("/js/v1/pay-button.js")).toBeNull();
		expect(gatewayOrigin("data:text/javascript,alert(1)")).toBeNull();
		expect(gatewayOrigin("file:///js/v1/pay-button.js")).toBeNull();
	});
});

describe("payButtonTarget", () => {
	it("sends a payment link button to the link's URL on the script's gateway", () => {
		expect(payButtonTarget(SCRIPT, { paymentLink: LINK_ID })).toEqual({
			ok: true,
			url: `https://pay.example.com/l/${LINK_ID}`,
		});
	});

	it("refuses a payment link id that is not one (no path tricks)", () => {
		for (const paymentLink of [
			"plink_short",
			`pay_${LINK_ID.slice(6)}`,
			`${LINK_ID}/../../admin`,
			`${LINK_ID.toLowerCase()}`,
		]) {
			expect(payButtonTarget(SCRIPT, { paymentLink }).ok, paymentLink).toBe(false);
		}
	});

	it("accepts a checkout URL on the gateway's own origin", () => {
		const checkoutUrl = "https://pay.example.com/checkout/pay_01JD4X7K3M9ZQ8W6V5T4S3R2P1N0M9";
		expect(payButtonTarget(SCRIPT, { checkoutUrl })).toEqual({ ok: true, url: checkoutUrl });
	});

	it("refuses a checkout URL anywhere else", () => {
		for (const checkoutUrl of [
			"https://evil.example/checkout/pay_1",
			"http://pay.example.com/checkout/pay_1",
			"https://pay.example.com.evil.example/checkout/pay_1",
			"https://pay.example.com:444/checkout/pay_1",
			"https://user:pass@pay.example.com/checkout/pay_1",
			"https://pay.example.com/admin/v1/merchants",
			"javascript:alert(1)//https://pay.example.com/checkout/",
			"/checkout/pay_1",
			"not a url",
		]) {
			expect(payButtonTarget(SCRIPT, { checkoutUrl }), checkoutUrl).toMatchObject({ ok: false });
		}
	});

	it("needs exactly one of the two attributes and a trustworthy script origin", () => {
		expect(payButtonTarget(SCRIPT, {})).toEqual({
			ok: false,
			error: "set data-payment-link or data-checkout-url",
		});
		expect(
			payButtonTarget(SCRIPT, {
				paymentLink: LINK_ID,
				checkoutUrl: "https://pay.example.com/checkout/pay_1",
			}),
		).toMatchObject({ ok: false, error: expect.stringContaining("not both") });
		expect(
			payButtonTarget("http://pay.example.com/js/v1/pay-button.js", { paymentLink: LINK_ID }),
		).toMatchObject({ ok: false, error: expect.stringContaining("https") });
	});
});
