import { describe, expect, it } from "vitest";
import { qrSvg } from "../../src/checkout/qr";
import {
	checkoutView,
	formatCountdown,
	formatTokenAmount,
	walletErrorKind,
} from "../../src/domain/checkout";
import { newPaymentRecord } from "../../src/domain/payment";

describe("formatTokenAmount", () => {
	it("places the decimal point and trims trailing zeros", () => {
		expect(formatTokenAmount("10050000", 6)).toBe("10.05");
		expect(formatTokenAmount("1000000000", 9)).toBe("1");
		expect(formatTokenAmount("1", 9)).toBe("0.000000001");
		expect(formatTokenAmount("0", 6)).toBe("0");
		expect(formatTokenAmount("123", 0)).toBe("123");
		expect(formatTokenAmount("18446744073709551615", 9)).toBe("18446744073.709551615");
	});
});

describe("formatCountdown", () => {
	it("shows m:ss, h:mm:ss, and never goes negative", () => {
		expect(formatCountdown(900)).toBe("15:00");
		expect(formatCountdown(61)).toBe("1:01");
		expect(formatCountdown(3661)).toBe("1:01:01");
		expect(formatCountdown(0)).toBe("0:00");
		expect(formatCountdown(-5)).toBe("0:00");
	});
});

describe("walletErrorKind", () => {
	it("sorts the usual wallet errors into what a payer can act on", () => {
		const rejected = Object.assign(new Error("User rejected the request."), { code: 4001 });
		expect(walletErrorKind(rejected).kind).toBe("declined");
		expect(
			walletErrorKind(new Error("Transaction simulation failed: insufficient lamports")).kind,
		).toBe("funds");
		expect(walletErrorKind(new Error("Blockhash not found")).kind).toBe("expired");
		expect(walletErrorKind(Object.assign(new Error("x"), { code: 4100 })).kind).toBe(
			"unauthorized",
		);
		expect(walletErrorKind(new Error("boom"))).toEqual({ kind: "other", message: "boom" });
		expect(walletErrorKind(undefined)).toEqual({ kind: "other", message: "" });
	});
});

describe("checkoutView", () => {
	const record = newPaymentRecord({
		id: "pay_01JD4X7K3M9ZQ8W6V5T4S3R2P1",
		merchant_id: "mch_secret",
		livemode: false,
		amount: 2500,
		currency: "usd",
		payment_method_types: ["solana"],
		description: "Order 42",
		metadata: { internal: "do-not-show" },
		success_url: "myapp://paid/{PAYMENT_ID}",
		cancel_url: null,
		checkout_url: "https://pay.example.com/checkout/pay_01JD4X7K3M9ZQ8W6V5T4S3R2P1",
		expires_at: 2_000_000_000,
		created: 1_900_000_000,
	});

	it("shows the payer what they need and nothing of the merchant's", () => {
		const view = checkoutView(record);
		expect(JSON.stringify(view)).not.toContain("do-not-show");
		expect(JSON.stringify(view)).not.toContain("mch_secret");
		expect(view).toMatchObject({ amount: 2500, currency: "usd", description: "Order 42" });
	});

	it("fills {PAYMENT_ID} into success_url, custom app schemes included", () => {
		expect(checkoutView(record).success_url).toBe("myapp://paid/pay_01JD4X7K3M9ZQ8W6V5T4S3R2P1");
	});
});

describe("qrSvg", () => {
	it("renders one compact path with a quiet zone and an accessible label", () => {
		const svg = qrSvg(
			"solana:FfhRJjMahc9vwPHH7W9hea1FoKgrGfkc9xvFnMN35w5F?amount=1",
			'Pay "now" <here>',
		);
		expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" viewBox="0 0 (\d+) \1"/);
		expect(svg).toContain('role="img"');
		expect(svg).toContain('aria-label="Pay &#34;now&#34; &#60;here&#62;"');
		expect(svg.match(/<path /g)).toHaveLength(1);
		// Four modules of quiet zone: nothing is drawn in the first four rows or columns.
		const d = /d="([^"]+)"/.exec(svg)?.[1] ?? "";
		for (const [, x, y] of d.matchAll(/M(\d+) (\d+)/g)) {
			expect(Number(x)).toBeGreaterThanOrEqual(4);
			expect(Number(y)).toBeGreaterThanOrEqual(4);
		}
	});
});
