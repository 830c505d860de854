import { describe, expect, it } from "vitest";
import { call, createMerchant, createPayment } from "./helpers/api";

// Every HTML page the gateway serves starts with a doctype: without one, browsers lay it out in
// quirks mode (document.compatMode "BackCompat").

describe("HTML pages", () => {
	it("checkout, payment-link, dashboard pages and the API reference start with <!DOCTYPE html>", async () => {
		const m = await createMerchant();
		const p = await createPayment(m.sk, { payment_method_types: ["solana"] });
		const pages = [`/checkout/${p.id}`, "/checkout/pay_00000000000000000000000000", "/docs"];
		const link = await call("POST", "/v1/payment_links", {
			key: m.sk,
			body: { amount: 1_000, currency: "usd" },
		});
		expect(link.status, await link.clone().text()).toBe(200);
		pages.push(new URL(((await link.json()) as { url: string }).url).pathname);
		pages.push("/l/plink_00000000000000000000000000", "/dashboard/sign-in");
		for (const path of pages) {
			const res = await call("GET", path);
			expect(res.headers.get("Content-Type"), path).toMatch(/^text\/html/);
			expect((await res.text()).slice(0, 15), path).toBe("<!DOCTYPE html>");
		}
	});
});
