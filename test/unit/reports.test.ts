import { describe, expect, it } from "vitest";
import {
	addDays,
	csvField,
	csvLine,
	dateStart,
	formatUnits,
	isoTime,
	periodBounds,
	periodDays,
	periodProblem,
	toCsv,
	toJsonText,
} from "../../src/domain/reports";

const at = (iso: string) => Date.parse(iso) / 1000;

describe("report CSV (RFC 4180)", () => {
	it("leaves plain fields as they are and writes empty cells for null", () => {
		expect(csvLine(["pay_1", 2500, 10n, true, null, undefined, "usd"])).toBe(
			"pay_1,2500,10,true,,,usd\r\n",
		);
	});

	it("quotes fields with a comma, a quote or a line break, doubling quotes", () => {
		expect(csvField("a,b")).toBe('"a,b"');
		expect(csvField('say "hi"')).toBe('"say ""hi"""');
		expect(csvField("line\nbreak")).toBe('"line\nbreak"');
		expect(csvField("cr\rlf")).toBe('"cr\rlf"');
		expect(csvField("")).toBe("");
	});

	it("ends every line with CRLF, header first", () => {
		expect(
			toCsv(
				["id", "note"],
				[
					["a", "x"],
					["b", "y,z"],
				],
			),
		).toBe('id,note\r\na,x\r\nb,"y,z"\r\n');
	});
});

describe("formula injection guard (OWASP CSV injection)", () => {
	it("prefixes text starting with = + - @ with a quote", () => {
		expect(csvField('=HYPERLINK("http://evil")')).toBe(`"'=HYPERLINK(""http://evil"")"`);
		expect(csvField("+1+2")).toBe("'+1+2");
		expect(csvField("-2+3")).toBe("'-2+3");
		expect(csvField("@SUM(A1)")).toBe("'@SUM(A1)");
	});

	it("prefixes text starting with a tab or carriage return, which spreadsheets strip", () => {
		expect(csvField("\t=1")).toBe("'\t=1");
		expect(csvField("\r=1")).toBe(`"'\r=1"`);
	});

	it("guards a formula with a comma: prefixed, then quoted", () => {
		expect(csvField("=SUM(A1,A2)")).toBe(`"'=SUM(A1,A2)"`);
	});

	it("keeps negative numbers numbers: amounts and decimals pass unchanged", () => {
		expect(csvField("-12.34")).toBe("-12.34");
		expect(csvField("-5")).toBe("-5");
		expect(csvField(-5)).toBe("-5");
		expect(csvField(-5n)).toBe("-5");
		expect(csvField("-1e5")).toBe("'-1e5");
		expect(csvField("-12.")).toBe("'-12.");
	});

	it("leaves text with = inside, not first, alone", () => {
		expect(csvField("a=b")).toBe("a=b");
	});
});

describe("amounts", () => {
	it("writes the currency's exponent digits exactly, sign kept", () => {
		expect(formatUnits(1234n, 2)).toBe("12.34");
		expect(formatUnits(5, 2)).toBe("0.05");
		expect(formatUnits("-5", 9)).toBe("-0.000000005");
		expect(formatUnits(1000n, 0)).toBe("1000");
		expect(formatUnits(-1000n, 0)).toBe("-1000");
		expect(formatUnits(1n, 3)).toBe("0.001");
		expect(formatUnits(0n, 2)).toBe("0.00");
		expect(formatUnits(18446744073709551615n, 9)).toBe("18446744073.709551615");
	});

	it("writes bigints in JSON as decimal strings", () => {
		expect(toJsonText({ a: 18446744073709551615n, b: 1 })).toBe(
			'{"a":"18446744073709551615","b":1}',
		);
	});
});

describe("report periods (UTC dates, inclusive)", () => {
	it("reads real dates only", () => {
		expect(dateStart("2026-11-24")).toBe(at("2026-11-24T00:00:00Z"));
		expect(dateStart("2026-02-30")).toBeNull();
		expect(dateStart("2026-13-01")).toBeNull();
		expect(dateStart("2026-1-01")).toBeNull();
		expect(dateStart("yesterday")).toBeNull();
		expect(dateStart("2024-02-29")).toBe(at("2024-02-29T00:00:00Z"));
	});

	it("bounds a period from the first day's midnight to the midnight after the last", () => {
		expect(periodBounds("2026-11-01", "2026-11-30")).toEqual({
			start: at("2026-11-01T00:00:00Z"),
			end: at("2026-12-01T00:00:00Z"),
		});
		expect(periodDays("2026-11-24", "2026-11-24")).toBe(1);
		expect(periodDays("2025-01-01", "2025-12-31")).toBe(365);
		expect(addDays("2026-03-01", -1)).toBe("2026-02-28");
		expect(addDays("2026-12-31", 1)).toBe("2027-01-01");
		expect(isoTime(at("2026-11-24T10:20:30Z"))).toBe("2026-11-24T10:20:30Z");
	});

	it("accepts from ≤ to, up to 366 days, ending today at the latest", () => {
		const now = at("2026-11-25T16:00:00Z");
		expect(periodProblem("2026-11-25", "2026-11-25", now)).toBeNull();
		expect(periodProblem("2025-11-25", "2026-11-25", now)).toBeNull(); // 366 days
		expect(periodProblem("2025-11-24", "2026-11-25", now)).toEqual({
			param: "to",
			message: "a report covers at most 366 days",
		});
		expect(periodProblem("2026-11-20", "2026-11-19", now)).toEqual({
			param: "to",
			message: "must not be before 'from'",
		});
		expect(periodProblem("2026-11-25", "2026-11-26", now)).toEqual({
			param: "to",
			message: "must not be in the future (UTC)",
		});
		expect(periodProblem("2026-02-30", "2026-03-01", now)?.param).toBe("from");
		expect(periodProblem("2026-03-01", "03/02/2026", now)?.param).toBe("to");
	});
});
