import { describe, expect, it } from "vitest";
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
