import { describe, expect, it } from "vitest";
import { nonceOfProofMessage, payoutProofMessage } from "../../src/domain/payout-destination-proof";

const FIELDS = {
	domain: "pay.example.com",
	merchantId: "mch_01",
	merchantName: "Acme\nNonce: evil",
	livemode: true,
	address: "9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM",
	nonce: "abcDEF0123456789xyzXYZ",
	issuedAt: 1_800_000_000,
	expiresAt: 1_800_000_600,
};

describe("payoutProofMessage", () => {
	it("names the domain, address, purpose, merchant, mode, nonce and times, one per line", () => {
		const message = payoutProofMessage(FIELDS);
		expect(message.split("\n")).toEqual([
			"pay.example.com asks this wallet to receive payouts:",
			FIELDS.address,
			"",
			"Sign to add this wallet as a payout destination of Acme Nonce: evil. This sends no transaction and costs nothing.",
			"",
			"Purpose: add payout destination",
			"Merchant: mch_01",
			"Mode: live",
			"Nonce: abcDEF0123456789xyzXYZ",
			"Issued At: 2027-01-15T08:00:00.000Z",
			"Expiration Time: 2027-01-15T08:10:00.000Z",
		]);
	});

	it("keeps a merchant name from adding a line (a second nonce)", () => {
		expect(nonceOfProofMessage(payoutProofMessage(FIELDS))).toBe(FIELDS.nonce);
	});
});

describe("nonceOfProofMessage", () => {
	it("refuses a message with no nonce, two nonces or a malformed one", () => {
		expect(nonceOfProofMessage("hello")).toBeNull();
		expect(nonceOfProofMessage("Nonce: abcdefghijklmnop\nNonce: abcdefghijklmnoq")).toBeNull();
		expect(nonceOfProofMessage("Nonce: short")).toBeNull();
		expect(nonceOfProofMessage("Nonce: has spaces in it ok?")).toBeNull();
	});
});
