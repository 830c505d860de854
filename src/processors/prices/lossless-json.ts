/**
 * A JSON parser that keeps numbers as their source text. Providers that send rates as JSON
 * numbers (0.92593) would lose digits through JSON.parse's doubles; here a number becomes a
 * JsonNumber and is turned into an exact decimal with parseJsonDecimal.
 */

export class JsonNumber {
	constructor(readonly raw: string) {}
}

export type LosslessJson =
	| null
	| boolean
	| string
	| JsonNumber
	| LosslessJson[]
	| { [key: string]: LosslessJson };

/** value = mantissa × 10^expo, exactly as written. */
export interface JsonDecimal {
	mantissa: bigint;
	expo: number;
}

const WHITESPACE = /[ \t\n\r]*/y;
// Finds where a string ends; JSON.parse then decodes it and rejects bad escapes and raw controls.
const STRING = /"(?:[^"\\]|\\.)*"/y;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const MAX_DEPTH = 64;

export function parseLosslessJson(text: string): LosslessJson {
	let pos = 0;

	const fail = (what: string): never => {
		throw new SyntaxError(`${what} at position ${pos}`);
	};
	const skip = (): void => {
		WHITESPACE.lastIndex = pos;
		WHITESPACE.exec(text);
		pos = WHITESPACE.lastIndex;
	};
	const token = (re: RegExp): string | undefined => {
		re.lastIndex = pos;
		const m = re.exec(text);
		if (m === null) return undefined;
		pos = re.lastIndex;
		return m[0];
	};
	const expect = (ch: string): void => {
		skip();
		if (text[pos] !== ch) fail(`expected ${JSON.stringify(ch)}`);
		pos++;
	};
	const readString = (): string => {
		const raw = token(STRING);
		if (raw === undefined) return fail("invalid string");
		try {
			return JSON.parse(raw) as string;
		} catch {
			return fail("invalid string");
		}
	};

	const value = (depth: number): LosslessJson => {
		if (depth > MAX_DEPTH) fail("nesting too deep");
		skip();
		const ch = text[pos];
		if (ch === "{") {
			pos++;
			// No prototype: a "__proto__" key is an ordinary key, not a prototype change.
			const obj: { [key: string]: LosslessJson } = Object.create(null);
			skip();
			if (text[pos] === "}") {
				pos++;
				return obj;
			}
			for (;;) {
				skip();
				const key = readString();
				expect(":");
				obj[key] = value(depth + 1);
				skip();
				if (text[pos] === ",") pos++;
				else if (text[pos] === "}") {
					pos++;
					return obj;
				} else fail('expected "," or "}"');
			}
		}
		if (ch === "[") {
			pos++;
			const arr: LosslessJson[] = [];
			skip();
			if (text[pos] === "]") {
				pos++;
				return arr;
			}
			for (;;) {
				arr.push(value(depth + 1));
				skip();
				if (text[pos] === ",") pos++;
				else if (text[pos] === "]") {
					pos++;
					return arr;
				} else fail('expected "," or "]"');
			}
		}
		if (ch === '"') return readString();
		for (const [word, result] of [
			["true", true],
			["false", false],
			["null", null],
		] as const) {
			if (text.startsWith(word, pos)) {
				pos += word.length;
				return result;
			}
		}
		const num = token(NUMBER);
		return num === undefined ? fail("unexpected character") : new JsonNumber(num);
	};

	const result = value(0);
	skip();
	if (pos !== text.length) fail("unexpected trailing text");
	return result;
}

/** Longest digit string and exponent accepted: far past any rate, small enough to stay cheap. */
const MAX_DIGITS = 40;
const MAX_ABS_EXPONENT = 64;

/** Exact decimal of a JSON number's text: "0.92593" → 92593 × 10^-5, "1e-05" → 1 × 10^-5. */
export function parseJsonDecimal(num: JsonNumber): JsonDecimal {
	const m = /^(-?)(0|[1-9][0-9]*)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?$/.exec(num.raw);
	if (m === null) throw new SyntaxError(`not a JSON number: ${num.raw.slice(0, 40)}`);
	const fraction = m[3] ?? "";
	const digits = (m[2] ?? "") + fraction;
	const exponent = m[4] === undefined ? 0 : Number(m[4]);
	const expo = exponent - fraction.length;
	if (
		digits.length > MAX_DIGITS ||
		!Number.isSafeInteger(exponent) ||
		Math.abs(expo) > MAX_ABS_EXPONENT
	) {
		throw new RangeError(`number out of range: ${num.raw.slice(0, 40)}`);
	}
	const mantissa = BigInt(digits);
	return { mantissa: m[1] === "-" ? -mantissa : mantissa, expo };
}
