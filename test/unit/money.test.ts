import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CURRENCIES } from "../../src/domain/currencies";
import {
	assertMinorUnits,
	currencyExponent,
	formatBaseUnits,
	formatMinorUnits,
	isSupportedCurrency,
	MAX_MINOR_UNITS,
	MoneyError,
	type MoneyErrorCode,
	parseBaseUnits,
	parseDecimal,
	U64_MAX,
} from "../../src/domain/money";

/** Runs fn and returns the MoneyError code it threw; fails if it threw anything else or nothing. */
function codeOf(fn: () => unknown): MoneyErrorCode {
	try {
		fn();
	} catch (error) {
		expect(error).toBeInstanceOf(MoneyError);
		return (error as MoneyError).code;
	}
	throw new Error("expected a MoneyError, nothing was thrown");
}

/** Test-only inverse of formatBaseUnits, written independently of the module under test. */
function decimalToBaseUnits(text: string, decimals: number): bigint {
	const [whole = "", fraction = ""] = text.split(".");
	return BigInt(whole) * 10n ** BigInt(decimals) + BigInt(fraction.padEnd(decimals, "0") || "0");
}

const codes = Object.keys(CURRENCIES);
const SAMPLE_MINOR_UNITS = [0, 1, 7, 10, 99, 100, 101, 1234, 100_000, 123_456_789];

describe("currency table", () => {
	it("has ISO minor units for the currencies with non-2 exponents", () => {
		const expected: Record<string, number> = {};
		const groups: [number, string][] = [
			[0, "bif clp djf gnf isk jpy kmf krw pyg rwf ugx vnd vuv xaf xof xpf"],
			[3, "bhd iqd jod kwd lyd omr tnd"],
			[4, "clf uyw"],
		];
		for (const [exponent, list] of groups) {
			for (const code of list.split(" ")) expected[code] = exponent;
		}
		const nonTwo = Object.fromEntries(
			Object.entries(CURRENCIES)
				.filter(([, info]) => info.exponent !== 2)
				.map(([code, info]) => [code, info.exponent]),
		);
		expect(nonTwo).toEqual(expected);
	});

	it("uses exponent 2 for common currencies", () => {
		for (const code of ["usd", "eur", "gbp", "cad", "aud", "chf", "cny", "inr", "brl", "mxn"]) {
			expect(currencyExponent(code)).toBe(2);
		}
	});

	it("covers the current list: 157 codes, all three lowercase letters with a name", () => {
		expect(codes).toHaveLength(157);
		for (const code of codes) {
			expect(code).toMatch(/^[a-z]{3}$/);
			expect(CURRENCIES[code]?.name.length).toBeGreaterThan(0);
		}
		for (const code of ["xcg", "zwg", "sle", "ves", "ved", "stn", "mru", "byn", "svc"]) {
			expect(isSupportedCurrency(code)).toBe(true);
		}
	});

	it("excludes withdrawn, fund, metal, unit-of-account and reserved codes", () => {
		const excluded = [
			...["ang", "bgn", "cuc", "hrk", "sll", "zwl", "vef", "mro", "std", "byr", "ltl", "lvl"],
			...["bov", "che", "chw", "cou", "mxv", "usn", "uss", "uyi", "xad"],
			...["xau", "xag", "xpd", "xpt", "xba", "xbb", "xbc", "xbd", "xdr", "xsu", "xua"],
			...["xts", "xxx"],
		];
		for (const code of excluded) expect(isSupportedCurrency(code)).toBe(false);
	});

	it("cannot be mutated", () => {
		expect(Object.isFrozen(CURRENCIES)).toBe(true);
	});
});

describe("isSupportedCurrency / currencyExponent", () => {
	it("returns the exponent", () => {
		expect(currencyExponent("jpy")).toBe(0);
		expect(currencyExponent("usd")).toBe(2);
		expect(currencyExponent("kwd")).toBe(3);
		expect(currencyExponent("clf")).toBe(4);
	});

	it("rejects uppercase, unknown, malformed and inherited names", () => {
		const bad = ["USD", "Usd", "uSD", "usd ", " usd", "us", "usdd", "", "abc", "zzz"];
		const inherited = ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf"];
		for (const code of [...bad, ...inherited]) {
			expect(isSupportedCurrency(code)).toBe(false);
			expect(codeOf(() => currencyExponent(code))).toBe("currency_invalid");
		}
	});

	it("rejects non-strings at runtime", () => {
		for (const code of [undefined, null, 840, {}, ["usd"]]) {
			expect(isSupportedCurrency(code as unknown as string)).toBe(false);
			expect(codeOf(() => currencyExponent(code as unknown as string))).toBe("currency_invalid");
		}
	});
});

describe("MoneyError", () => {
	it("is an Error carrying a code", () => {
		const error = new MoneyError("amount_negative", "nope");
		expect(error).toBeInstanceOf(Error);
		expect(error.name).toBe("MoneyError");
		expect(error.code).toBe("amount_negative");
		expect(error.message).toBe("nope");
	});
});

describe("assertMinorUnits", () => {
	it("keeps the limit where it is documented", () => {
		expect(MAX_MINOR_UNITS).toBe(999_999_999_999);
		expect(Number.isSafeInteger(MAX_MINOR_UNITS * 9000)).toBe(true);
	});

	it("accepts positive safe integers up to the maximum", () => {
		expect(assertMinorUnits(1)).toBe(1);
		expect(assertMinorUnits(1234)).toBe(1234);
		expect(assertMinorUnits(MAX_MINOR_UNITS)).toBe(MAX_MINOR_UNITS);
	});

	it("rejects zero unless allowed", () => {
		expect(codeOf(() => assertMinorUnits(0))).toBe("amount_invalid");
		expect(codeOf(() => assertMinorUnits(0, { allowZero: false }))).toBe("amount_invalid");
		expect(assertMinorUnits(0, { allowZero: true })).toBe(0);
		expect(Object.is(assertMinorUnits(-0, { allowZero: true }), 0)).toBe(true);
		expect(codeOf(() => assertMinorUnits(-0))).toBe("amount_invalid");
	});

	it("rejects amounts over the maximum", () => {
		expect(codeOf(() => assertMinorUnits(MAX_MINOR_UNITS + 1))).toBe("amount_too_large");
		expect(codeOf(() => assertMinorUnits(Number.MAX_SAFE_INTEGER))).toBe("amount_too_large");
		expect(codeOf(() => assertMinorUnits(2 ** 53))).toBe("amount_too_large");
		expect(codeOf(() => assertMinorUnits(1e21))).toBe("amount_too_large");
		expect(codeOf(() => assertMinorUnits(Number.MAX_VALUE))).toBe("amount_too_large");
	});

	it("rejects negatives", () => {
		expect(codeOf(() => assertMinorUnits(-1))).toBe("amount_negative");
		expect(codeOf(() => assertMinorUnits(-1, { allowZero: true }))).toBe("amount_negative");
		expect(codeOf(() => assertMinorUnits(-MAX_MINOR_UNITS - 1))).toBe("amount_negative");
	});

	it("rejects non-integers, NaN and infinities", () => {
		for (const value of [12.5, 0.1, 1e-7, -12.5, Number.EPSILON, NaN, Infinity, -Infinity]) {
			expect(codeOf(() => assertMinorUnits(value, { allowZero: true }))).toBe("amount_invalid");
		}
	});

	it("rejects anything that is not a number", () => {
		const strings = ["1234", "12.34", "", "0x10"];
		const values = [...strings, 1234n, true, null, undefined, {}, [1], new Number(5)];
		for (const value of values) {
			expect(codeOf(() => assertMinorUnits(value, { allowZero: true }))).toBe("amount_invalid");
		}
	});
});

describe("parseDecimal", () => {
	it("parses into minor units of the currency", () => {
		expect(parseDecimal("12.34", "usd")).toBe(1234n);
		expect(parseDecimal("12.3", "usd")).toBe(1230n);
		expect(parseDecimal("12", "usd")).toBe(1200n);
		expect(parseDecimal("0.05", "usd")).toBe(5n);
		expect(parseDecimal("0", "usd")).toBe(0n);
		expect(parseDecimal("0.00", "eur")).toBe(0n);
		expect(parseDecimal("1000", "jpy")).toBe(1000n);
		expect(parseDecimal("1.234", "kwd")).toBe(1234n);
		expect(parseDecimal("0.001", "bhd")).toBe(1n);
		expect(parseDecimal("1.0001", "clf")).toBe(10001n);
		expect(parseDecimal("0.5", "uyw")).toBe(5000n);
	});

	it("accepts exactly the maximum and rejects one minor unit more", () => {
		expect(parseDecimal("9999999999.99", "usd")).toBe(BigInt(MAX_MINOR_UNITS));
		expect(parseDecimal("999999999999", "jpy")).toBe(BigInt(MAX_MINOR_UNITS));
		expect(parseDecimal("999999999.999", "kwd")).toBe(BigInt(MAX_MINOR_UNITS));
		expect(parseDecimal("99999999.9999", "clf")).toBe(BigInt(MAX_MINOR_UNITS));
		expect(codeOf(() => parseDecimal("10000000000", "usd"))).toBe("amount_too_large");
		expect(codeOf(() => parseDecimal("10000000000.00", "usd"))).toBe("amount_too_large");
		expect(codeOf(() => parseDecimal("1000000000000", "jpy"))).toBe("amount_too_large");
		expect(codeOf(() => parseDecimal("1000000000", "kwd"))).toBe("amount_too_large");
		expect(codeOf(() => parseDecimal("9".repeat(100_000), "usd"))).toBe("amount_too_large");
	});

	it("rejects more fractional digits than the exponent, even zeros", () => {
		expect(codeOf(() => parseDecimal("12.345", "usd"))).toBe("precision_exceeded");
		expect(codeOf(() => parseDecimal("12.340", "usd"))).toBe("precision_exceeded");
		expect(codeOf(() => parseDecimal("1000.0", "jpy"))).toBe("precision_exceeded");
		expect(codeOf(() => parseDecimal("1.5", "jpy"))).toBe("precision_exceeded");
		expect(codeOf(() => parseDecimal("1.2345", "kwd"))).toBe("precision_exceeded");
		expect(codeOf(() => parseDecimal("1.00001", "clf"))).toBe("precision_exceeded");
	});

	it("reports negatives as amount_negative", () => {
		expect(codeOf(() => parseDecimal("-1", "usd"))).toBe("amount_negative");
		expect(codeOf(() => parseDecimal("-12.34", "usd"))).toBe("amount_negative");
		expect(codeOf(() => parseDecimal("-0", "usd"))).toBe("amount_negative");
		expect(codeOf(() => parseDecimal("-1.234", "usd"))).toBe("amount_negative");
	});

	it("rejects anything but a canonical plain decimal", () => {
		const bad = [
			...["", " ", "+1", "--1", "-", "+", "-+1", "1-", "."],
			...["1e3", "1E3", "1.5e2", "Infinity", "NaN", "0x10", "0b1", "0o7"],
			...[" 1", "1 ", "1\n", "\t1", "1 000", "1\u00a0000", "1,000", "1,00", "1_000"],
			...[".5", "5.", "1..2", "1.2.3", "01", "00", "00.5", "-01"],
			...["\u0661\u0662", "\uff11\uff12", "1O", "abc", "12.34usd", "$12"],
		];
		for (const value of bad) {
			const code = codeOf(() => parseDecimal(value, "usd"));
			expect(code, JSON.stringify(value)).toBe("amount_invalid");
		}
	});

	it("rejects non-strings at runtime", () => {
		for (const value of [12.34, 1234n, null, undefined, {}]) {
			expect(codeOf(() => parseDecimal(value as unknown as string, "usd"))).toBe("amount_invalid");
		}
	});

	it("checks the currency first", () => {
		expect(codeOf(() => parseDecimal("12.34", "USD"))).toBe("currency_invalid");
		expect(codeOf(() => parseDecimal("12.34", "xxx"))).toBe("currency_invalid");
		expect(codeOf(() => parseDecimal("garbage", "nope"))).toBe("currency_invalid");
	});
});

describe("formatMinorUnits", () => {
	it("formats with exactly the currency's exponent digits", () => {
		expect(formatMinorUnits(1234, "usd")).toBe("12.34");
		expect(formatMinorUnits(1200, "usd")).toBe("12.00");
		expect(formatMinorUnits(5, "usd")).toBe("0.05");
		expect(formatMinorUnits(0, "usd")).toBe("0.00");
		expect(formatMinorUnits(-5, "usd")).toBe("-0.05");
		expect(formatMinorUnits(-1234, "eur")).toBe("-12.34");
		expect(formatMinorUnits(1000, "jpy")).toBe("1000");
		expect(formatMinorUnits(0, "jpy")).toBe("0");
		expect(formatMinorUnits(-7, "krw")).toBe("-7");
		expect(formatMinorUnits(1, "kwd")).toBe("0.001");
		expect(formatMinorUnits(1234, "kwd")).toBe("1.234");
		expect(formatMinorUnits(1, "clf")).toBe("0.0001");
		expect(formatMinorUnits(MAX_MINOR_UNITS, "usd")).toBe("9999999999.99");
	});

	it("accepts bigints and -0", () => {
		expect(formatMinorUnits(1234n, "usd")).toBe("12.34");
		expect(formatMinorUnits(-5n, "usd")).toBe("-0.05");
		expect(formatMinorUnits(-0, "usd")).toBe("0.00");
	});

	it("is exact for bigints beyond 2^53", () => {
		expect(formatMinorUnits(2n ** 53n + 1n, "usd")).toBe("90071992547409.93");
		expect(formatMinorUnits(U64_MAX, "usd")).toBe("184467440737095516.15");
		expect(formatMinorUnits(-U64_MAX, "kwd")).toBe("-18446744073709551.615");
		expect(formatMinorUnits(10n ** 30n + 1n, "jpy")).toBe("1000000000000000000000000000001");
	});

	it("rejects numbers that are not safe integers", () => {
		for (const value of [12.5, NaN, Infinity, -Infinity, 2 ** 53, -(2 ** 53)]) {
			expect(codeOf(() => formatMinorUnits(value, "usd"))).toBe("amount_invalid");
		}
		expect(codeOf(() => formatMinorUnits("1234" as unknown as number, "usd"))).toBe(
			"amount_invalid",
		);
	});

	it("rejects unsupported currencies", () => {
		expect(codeOf(() => formatMinorUnits(1234, "USD"))).toBe("currency_invalid");
		expect(codeOf(() => formatMinorUnits(1234, "xau"))).toBe("currency_invalid");
	});

	it("round-trips with parseDecimal for every currency", () => {
		for (const code of codes) {
			for (const value of [...SAMPLE_MINOR_UNITS, MAX_MINOR_UNITS]) {
				const text = formatMinorUnits(value, code);
				expect(parseDecimal(text, code), `${code} ${value}`).toBe(BigInt(value));
			}
		}
	});

	it("round-trips decimal strings written in canonical form", () => {
		const cases: [string, string, string][] = [
			["12.34", "usd", "12.34"],
			["12.3", "usd", "12.30"],
			["12", "gbp", "12.00"],
			["0.01", "eur", "0.01"],
			["1000", "jpy", "1000"],
			["5", "vnd", "5"],
			["1.234", "kwd", "1.234"],
			["1.2", "tnd", "1.200"],
			["0.0001", "clf", "0.0001"],
			["9999999999.99", "chf", "9999999999.99"],
		];
		for (const [input, code, output] of cases) {
			expect(formatMinorUnits(parseDecimal(input, code), code)).toBe(output);
		}
	});

	it("round-trips any amount in any currency (property)", () => {
		fc.assert(
			fc.property(
				fc.constantFrom(...codes),
				fc.integer({ min: 0, max: MAX_MINOR_UNITS }),
				(code, value) => parseDecimal(formatMinorUnits(value, code), code) === BigInt(value),
			),
		);
	});
});

describe("parseBaseUnits", () => {
	it("parses unsigned decimal integers", () => {
		expect(parseBaseUnits("0")).toBe(0n);
		expect(parseBaseUnits("1")).toBe(1n);
		expect(parseBaseUnits("1500000")).toBe(1_500_000n);
		expect(parseBaseUnits("9007199254740993")).toBe(9_007_199_254_740_993n);
		expect(parseBaseUnits("18446744073709551615")).toBe(U64_MAX);
	});

	it("rejects values above U64_MAX", () => {
		expect(codeOf(() => parseBaseUnits("18446744073709551616"))).toBe("amount_too_large");
		expect(codeOf(() => parseBaseUnits((U64_MAX + 1n).toString()))).toBe("amount_too_large");
		expect(codeOf(() => parseBaseUnits("99999999999999999999"))).toBe("amount_too_large");
		expect(codeOf(() => parseBaseUnits("100000000000000000000"))).toBe("amount_too_large");
		expect(codeOf(() => parseBaseUnits("9".repeat(100_000)))).toBe("amount_too_large");
	});

	it("reports negatives as amount_negative", () => {
		expect(codeOf(() => parseBaseUnits("-1"))).toBe("amount_negative");
		expect(codeOf(() => parseBaseUnits("-0"))).toBe("amount_negative");
		expect(codeOf(() => parseBaseUnits("-18446744073709551616"))).toBe("amount_negative");
	});

	it("rejects anything but a canonical unsigned integer", () => {
		const bad = [
			...["", " ", "+1", "--1", "-", "1-", "00", "01", "007", "-01"],
			...["1e3", "1E3", "1.0", "1.5", ".5", "5.", "Infinity", "NaN", "0x10", "0b1"],
			...[" 1", "1 ", "1\n", "1 000", "1,000", "1_000", "\u0661", "\uff11", "abc"],
		];
		for (const value of bad) {
			const code = codeOf(() => parseBaseUnits(value));
			expect(code, JSON.stringify(value)).toBe("amount_invalid");
		}
	});

	it("rejects non-strings at runtime", () => {
		for (const value of [1, 1n, null, undefined, {}, ["1"]]) {
			expect(codeOf(() => parseBaseUnits(value as unknown as string))).toBe("amount_invalid");
		}
	});

	it("inverts String for every u64 (property)", () => {
		fc.assert(
			fc.property(fc.bigInt({ min: 0n, max: U64_MAX }), (n) => parseBaseUnits(String(n)) === n),
		);
	});
});

describe("formatBaseUnits", () => {
	it("formats with trailing zeros trimmed", () => {
		expect(formatBaseUnits(1_500_000n, 6)).toBe("1.5");
		expect(formatBaseUnits(1_000_000n, 6)).toBe("1");
		expect(formatBaseUnits(1_234_567n, 6)).toBe("1.234567");
		expect(formatBaseUnits(1n, 9)).toBe("0.000000001");
		expect(formatBaseUnits(10n, 9)).toBe("0.00000001");
		expect(formatBaseUnits(1_000_000_000n, 9)).toBe("1");
		expect(formatBaseUnits(100_000_000_000n, 9)).toBe("100");
		expect(formatBaseUnits(105_000_000_000n, 9)).toBe("105");
		expect(formatBaseUnits(0n, 0)).toBe("0");
		expect(formatBaseUnits(0n, 9)).toBe("0");
		expect(formatBaseUnits(0n, 18)).toBe("0");
		expect(formatBaseUnits(100n, 0)).toBe("100");
		expect(formatBaseUnits(1n, 18)).toBe("0.000000000000000001");
		expect(formatBaseUnits(U64_MAX, 0)).toBe("18446744073709551615");
		expect(formatBaseUnits(U64_MAX, 9)).toBe("18446744073.709551615");
		expect(formatBaseUnits(U64_MAX, 18)).toBe("18.446744073709551615");
	});

	it("rejects decimals outside 0..18", () => {
		for (const decimals of [-1, 19, 255, 1.5, NaN, Infinity]) {
			expect(codeOf(() => formatBaseUnits(1n, decimals))).toBe("amount_invalid");
		}
	});

	it("rejects amounts outside 0..U64_MAX and non-bigints", () => {
		expect(codeOf(() => formatBaseUnits(-1n, 6))).toBe("amount_negative");
		expect(codeOf(() => formatBaseUnits(U64_MAX + 1n, 6))).toBe("amount_too_large");
		expect(codeOf(() => formatBaseUnits(1 as unknown as bigint, 6))).toBe("amount_invalid");
		expect(codeOf(() => formatBaseUnits("1" as unknown as bigint, 6))).toBe("amount_invalid");
	});

	it("is canonical and parses back to the same amount (property)", () => {
		fc.assert(
			fc.property(
				fc.bigInt({ min: 0n, max: U64_MAX }),
				fc.integer({ min: 0, max: 18 }),
				(n, decimals) => {
					const text = formatBaseUnits(n, decimals);
					// No leading zeros, no trailing fractional zeros, no dangling point.
					expect(text).toMatch(/^(?:0|[1-9][0-9]*)(?:\.[0-9]*[1-9])?$/);
					expect((text.split(".")[1] ?? "").length).toBeLessThanOrEqual(decimals);
					expect(decimalToBaseUnits(text, decimals)).toBe(n);
					if (decimals === 0) expect(parseBaseUnits(text)).toBe(n);
				},
			),
			{ numRuns: 2000 },
		);
	});

	it("hits the edges of the property's range", () => {
		for (const decimals of [0, 1, 6, 9, 18]) {
			for (const n of [0n, 1n, 10n ** BigInt(decimals), U64_MAX - 1n, U64_MAX]) {
				expect(decimalToBaseUnits(formatBaseUnits(n, decimals), decimals)).toBe(n);
			}
		}
	});
});
