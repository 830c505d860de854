import { describe, expect, it } from "vitest";
import {
	type PaymentLinkRecord,
	paymentParamsForLink,
	toApiPaymentLink,
} from "../../src/domain/payment-link";

const link: PaymentLinkRecord = {
	id: "plink_01JD4X7K3M9ZQ8W6V5T4S3R2P1N0M9",
	merchant_id: "mch_01JD4X7K3M9ZQ8W6V5T4S3R2P1N0M9",
	livemode: false,
	active: true,
	amount: 2500,
	currency: "usd",
	payment_method_types: ["solana", "card"],
	description: null,
	metadata: { sku: "tee-m" },
	success_url: null,
	cancel_url: null,
	expires_in: null,
	solana: null,
	created: 1_795_000_000,
};

describe("paymentParamsForLink", () => {
	it("carries the link's terms and adds payment_link to the metadata", () => {
		expect(paymentParamsForLink(link)).toStrictEqual({
			amount: 2500,
			currency: "usd",
			payment_method_types: ["solana", "card"],
			metadata: { sku: "tee-m", payment_link: link.id },
		});
	});

	it("passes optional terms only when the link sets them", () => {
		const full = {
			...link,
			description: "T-shirt",
			success_url: "https://shop.example/thanks",
			cancel_url: "https://shop.example/",
			expires_in: 900,
			solana: { token: "USDC" },
		};
		expect(paymentParamsForLink(full)).toStrictEqual({
			amount: 2500,
			currency: "usd",
			payment_method_types: ["solana", "card"],
			metadata: { sku: "tee-m", payment_link: link.id },
			description: "T-shirt",
			success_url: "https://shop.example/thanks",
			cancel_url: "https://shop.example/",
			expires_in: 900,
			solana: { token: "USDC" },
		});
	});

	it("names the link even when the merchant used the key payment_link", () => {
		const params = paymentParamsForLink({ ...link, metadata: { payment_link: "mine" } });
		expect(params.metadata).toEqual({ payment_link: link.id });
	});
});

describe("toApiPaymentLink", () => {
	it("hides the owner and points url at /l/:id under the public base URL", () => {
		const json = toApiPaymentLink(link, "https://pay.example.com");
		expect(json).toStrictEqual({
			id: link.id,
			object: "payment_link",
			livemode: false,
			active: true,
			url: `https://pay.example.com/l/${link.id}`,
			amount: 2500,
			currency: "usd",
			payment_method_types: ["solana", "card"],
			description: null,
			metadata: { sku: "tee-m" },
			success_url: null,
			cancel_url: null,
			expires_in: null,
			solana: null,
			created: 1_795_000_000,
		});
	});
});
