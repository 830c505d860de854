import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseJsonWithBigInts } from "../../src/lib/lossless-json";
import { strictJsonProblem } from "../../src/lib/strict-json";

describe("strictJsonProblem", () => {
	it("accepts ordinary objects, an empty body, and keys that only look alike", () => {
		expect(strictJsonProblem("")).toBeNull();
		expect(strictJsonProblem('{"a": 1, "b": {"a": [1, {"a": "x"}]}}')).toBeNull();
		expect(
			strictJsonProblem('{"metadata": {"__proto": "x", "k": "say \\"__proto__\\""}}'),
		).toBeNull();
		expect(strictJsonProblem('{"a": {"x": 1}, "b": {"x": 2}}')).toBeNull();
	});

	it("refuses a top level that is not an object", () => {
		for (const body of ["[]", "1", '"x"', "null", "true"]) {
			expect(strictJsonProblem(body)).toMatch(/must be a JSON object/);
		}
	});

	it("refuses prototype keys at any depth, however they are escaped", () => {
		expect(strictJsonProblem('{"__proto__": {"admin": true}}')).toMatch(/__proto__/);
		expect(strictJsonProblem('{"a": [{"constructor": {}}]}')).toMatch(/constructor/);
		expect(strictJsonProblem('{"\\u005f_proto__": 1}')).toMatch(/__proto__/);
		expect(strictJsonProblem('{"a": {"prototype": 1}}')).toMatch(/prototype/);
	});

	it("refuses a key given twice in one object", () => {
		expect(strictJsonProblem('{"amount": 1, "amount": 1000}')).toMatch(/'amount' appears twice/);
	});

	it("refuses nesting deeper than the limit, and allows it up to the limit", () => {
		expect(strictJsonProblem(`${"{".repeat(1)}"a":${"[".repeat(31)}${"]".repeat(31)}}`)).toBeNull();
		expect(strictJsonProblem(`{"a":${"[".repeat(32)}${"]".repeat(32)}}`)).toMatch(/32 levels/);
		expect(strictJsonProblem(`{"a":${"[".repeat(100_000)}`)).toMatch(/32 levels/);
	});
});

describe("parseJsonWithBigInts", () => {
	it("returns integers outside the safe range as bigint, at any depth", () => {
		expect(
			parseJsonWithBigInts(
				'{"value":18446744073709551615,"a":[[9007199254740993,{"b":[-9007199254740993]}]],"c":{"d":{"e":9007199254740992}}}',
			),
		).toEqual({
			value: 18_446_744_073_709_551_615n,
			a: [[9_007_199_254_740_993n, { b: [-9_007_199_254_740_993n] }]],
			c: { d: { e: 9_007_199_254_740_992n } },
		});
	});

	it("leaves safe integers, fractions, exponents and strings as JSON.parse does", () => {
		const text =
			'[9007199254740991,-9007199254740991,0,-0,1.5,-2.5e3,1e21,12345678901234567890.5,9007199254740993e0,"18446744073709551615","a 12345678901234567 b",true,false,null]';
		const parsed = parseJsonWithBigInts(text);
		expect(parsed).toEqual(JSON.parse(text));
		expect((parsed as unknown[]).some((v) => typeof v === "bigint")).toBe(false);
	});

	it("makes a __proto__ key an own property, as JSON.parse does", () => {
		const parsed = parseJsonWithBigInts('{"__proto__":{"admin":true},"n":12345678901234567890}');
		expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
		expect(Object.keys(parsed as object)).toEqual(["__proto__", "n"]);
		expect(({} as { admin?: boolean }).admin).toBeUndefined();
	});

	it.each(["", "[1,]", '{"a":1,}', '{"a" 1}', "01", "[1 2]", '"\\x"', "tru", '{"a":1} x', "[[["])(
		"rejects %j like JSON.parse, on either path",
		(text) => {
			expect(() => JSON.parse(text)).toThrow(SyntaxError);
			expect(() => parseJsonWithBigInts(text)).toThrow(SyntaxError);
			// A 16-digit integer in front takes the exact parser instead of JSON.parse.
			expect(() => parseJsonWithBigInts(`[9007199254740993,${text}]`)).toThrow(SyntaxError);
		},
	);

	it("accepts what JSON.parse accepts, deep nesting included", () => {
		const deep = `${"[".repeat(100_000)}9007199254740993${"]".repeat(100_000)}`;
		let value = parseJsonWithBigInts(deep);
		for (let i = 0; i < 100_000; i++) value = (value as unknown[])[0];
		expect(value).toBe(9_007_199_254_740_993n);
		expect(() => parseJsonWithBigInts(deep.slice(0, -1))).toThrow(SyntaxError);
	});

	it("agrees with JSON.parse on any JSON, but for the digits it no longer rounds", () => {
		const rounded = (value: unknown): unknown =>
			typeof value === "bigint"
				? Number(value)
				: Array.isArray(value)
					? value.map(rounded)
					: value !== null && typeof value === "object"
						? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rounded(v)]))
						: value;
		fc.assert(
			fc.property(fc.json(), (text) => {
				// Wrapped with an unsafe integer, so the exact parser runs, not the JSON.parse path.
				const parsed = parseJsonWithBigInts(`[${text},9007199254740993]`) as unknown[];
				expect(parsed[1]).toBe(9_007_199_254_740_993n);
				expect(rounded(parsed[0])).toEqual(rounded(JSON.parse(text)));
			}),
			{ numRuns: 500 },
		);
	});
});
