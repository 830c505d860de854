import { describe, expect, it } from "vitest";
import { redact } from "../../src/lib/log";

describe("redact", () => {
	it("hides keys, secrets, tokens, card numbers and emails, keeping the rest of the line", () => {
		const line = JSON.stringify({
			error: "Invalid API key sk_test_4eC39HqLyjWDarjtT1zdp7dc from ops@acme.example",
			secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLSYf",
			client_secret: "pi_3Mtw_secret_YrKJUKribcBjcG8HVhfZluoGH",
			token: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJwYXlfMSJ9.c2lnbmF0dXJlc2lnbmF0dXJl",
			card: "4242 4242 4242 4242",
			card2: "4000002500003155",
			request_id: "req_01JD4X7K3M9ZQ8W6V5T4S3R2P1",
			created: 1764083000,
		});
		const out = redact(line);
		expect(() => JSON.parse(out)).not.toThrow();
		for (const leak of [
			"4eC39HqLyjWDarjtT1zdp7dc",
			"ops@acme.example",
			"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLSYf",
			"YrKJUKribcBjcG8HVhfZluoGH",
			"eyJzdWIiOiJwYXlfMSJ9",
			"4242 4242",
			"4000002500003155",
		]) {
			expect(out).not.toContain(leak);
		}
		expect(out).toContain("sk_test_[redacted]");
		expect(out).toContain("req_01JD4X7K3M9ZQ8W6V5T4S3R2P1");
		expect(out).toContain("1764083000");
	});

	it("leaves long numbers that are not card numbers, such as base-unit amounts", () => {
		expect(redact("25125000 1764083000123 4242424242424241")).toBe(
			"25125000 1764083000123 4242424242424241",
		);
	});
});
