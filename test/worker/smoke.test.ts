import { describe, expect, it } from "vitest";
import { call, createMerchant, createPayment } from "./helpers/api";

describe("smoke", () => {
	it("creates and reads a payment", async () => {
		const m = await createMerchant();
		const p = await createPayment(m.sk);
		expect(p.status).toBe("requires_payment");
		const res = await call("GET", `/v1/payments/${p.id}`, { key: m.sk });
		expect(res.status).toBe(200);
	});
});
