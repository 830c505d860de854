import { describe, expect, it } from "vitest";
import { idTime, isId, lowestIdAt, newId, randomBase62 } from "../../src/domain/ids";

describe("ids", () => {
	it("carries its type prefix and 30 Crockford base32 characters", () => {
		expect(newId("payment")).toMatch(/^pay_[0-9A-HJKMNP-TV-Z]{30}$/);
		expect(newId("merchant")).toMatch(/^mch_/);
		expect(newId("event")).toMatch(/^evt_/);
		expect(newId("refund")).toMatch(/^re_/);
	});

	it("sorts by creation time", () => {
		const ids = [1_000, 1_001, 2_000_000, 1_795_000_000_000].map((t) => newId("payment", t));
		expect([...ids].sort()).toEqual(ids);
		expect(idTime(ids[3] as string)).toBe(1_795_000_000_000);
	});

	it("holds 100 random bits: 200,000 ids minted in one millisecond never collide", () => {
		const seen = new Set<string>();
		for (let i = 0; i < 200_000; i++) seen.add(newId("payment", 0));
		expect(seen.size).toBe(200_000);
	});

	it("recognises only well-formed ids of the right kind", () => {
		const id = newId("payment");
		expect(isId("payment", id)).toBe(true);
		expect(isId("event", id)).toBe(false);
		expect(isId("payment", `${id}x`)).toBe(false);
		expect(isId("payment", id.toLowerCase())).toBe(false);
		expect(isId("payment", "pay_../../etc")).toBe(false);
	});

	it("turns a time into the lowest id at that time", () => {
		const at = 1_795_000_000_000;
		expect(lowestIdAt("payment", at) <= newId("payment", at)).toBe(true);
		expect(lowestIdAt("payment", at + 1) > newId("payment", at)).toBe(true);
	});

	it("makes uniform base62 secrets of the requested length", () => {
		const s = randomBase62(32);
		expect(s).toMatch(/^[0-9A-Za-z]{32}$/);
		expect(randomBase62(32)).not.toBe(s);
	});
});
