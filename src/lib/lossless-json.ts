/**
 * JSON parsers that keep numbers exact where JSON.parse's doubles would not:
 *
 * - parseLosslessJson keeps every number as its source text (a JsonNumber), for providers that
 *   send rates as JSON numbers (0.92593); parseJsonDecimal turns one into an exact decimal.
 * - parseJsonWithBigInts is JSON.parse, except that an integer literal outside the safe-integer
 *   range comes back as a bigint: Solana's u64 values (lamports, balances, fees) are written as
 *   bare integers and may pass 2^53.
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
const NUMBER = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
/** Rates nest a few levels; anything deeper from a price provider is not an answer. */
const MAX_RATE_DEPTH = 64;
/** No integer of 15 digits or fewer can leave the safe range (2^53 has 16). */
const LONG_DIGIT_RUN = /[0-9]{16}/;

interface ParseOptions<N> {
	/** The value a number literal becomes; `integer` is false for a fraction or exponent. */
	number: (raw: string, integer: boolean) => N;
	/** Objects without a prototype (a "__proto__" key is then an ordinary key). */
	nullPrototype: boolean;
	maxDepth: number;
}

type Container = { [key: string]: unknown } | unknown[];

/**
 * One JSON grammar for both parsers, without recursion so depth costs no stack. Objects and
 * arrays open a frame; a finished value is placed into the innermost frame, and a closing
 * bracket turns that frame into the value placed in the one around it.
 */
function parse<N>(text: string, options: ParseOptions<N>): unknown {
	let pos = 0;
	const fail = (what: string): never => {
		throw new SyntaxError(`${what} at position ${pos}`);
	};
	const skip = (): void => {
		WHITESPACE.lastIndex = pos;
		WHITESPACE.exec(text);
		pos = WHITESPACE.lastIndex;
	};
	const match = (re: RegExp): RegExpExecArray | null => {
		re.lastIndex = pos;
		const m = re.exec(text);
		if (m !== null) pos = re.lastIndex;
		return m;
	};
	const readString = (): string => {
		const m = match(STRING);
		if (m === null) return fail("invalid string");
		try {
			return JSON.parse(m[0]) as string;
		} catch {
			return fail("invalid string");
		}
	};
	const readKey = (): string => {
		skip();
		const key = readString();
		skip();
		if (text[pos] !== ":") fail('expected ":"');
		pos++;
		return key;
	};

	const stack: { container: Container; key: string }[] = [];
	for (;;) {
		skip();
		const ch = text[pos];
		let value: unknown;
		if (ch === "{" || ch === "[") {
			pos++;
			if (stack.length >= options.maxDepth) fail("nesting too deep");
			const container: Container =
				ch === "[" ? [] : options.nullPrototype ? Object.create(null) : {};
			skip();
			if (text[pos] !== (ch === "[" ? "]" : "}")) {
				stack.push({ container, key: ch === "{" ? readKey() : "" });
				continue;
			}
			pos++;
			value = container;
		} else if (ch === '"') {
			value = readString();
		} else if (text.startsWith("true", pos)) {
			pos += 4;
			value = true;
		} else if (text.startsWith("false", pos)) {
			pos += 5;
			value = false;
		} else if (text.startsWith("null", pos)) {
			pos += 4;
			value = null;
		} else {
			const m = match(NUMBER);
			if (m === null) return fail("unexpected character");
			value = options.number(m[0], m[1] === undefined && m[2] === undefined);
		}

		// Place the value; close every frame it completes.
		for (;;) {
			const frame = stack.at(-1);
			if (frame === undefined) {
				skip();
				if (pos !== text.length) fail("unexpected trailing text");
				return value;
			}
			const { container } = frame;
			if (Array.isArray(container)) {
				container.push(value);
			} else if (frame.key === "__proto__") {
				// An own property, as JSON.parse makes it, not a prototype change.
				Object.defineProperty(container, frame.key, {
					value,
					enumerable: true,
					writable: true,
					configurable: true,
				});
			} else {
				container[frame.key] = value;
			}
			skip();
			const next = text[pos++];
			if (next === ",") {
				if (!Array.isArray(container)) frame.key = readKey();
				break;
			}
			if (next !== (Array.isArray(container) ? "]" : "}")) {
				pos--;
				fail(Array.isArray(container) ? 'expected "," or "]"' : 'expected "," or "}"');
			}
			stack.pop();
			value = container;
		}
	}
}

/** Every number as its source text; objects have no prototype; at most 64 levels deep. */
export function parseLosslessJson(text: string): LosslessJson {
	return parse(text, {
		number: (raw) => new JsonNumber(raw),
		nullPrototype: true,
		maxDepth: MAX_RATE_DEPTH,
	}) as LosslessJson;
}

/**
 * JSON.parse, except that an integer literal outside ±(2^53 - 1) is an exact bigint. Safe
 * integers, fractions and exponents stay numbers, so readers of small values see no change;
 * a reader of u64 values takes `number | bigint` (BigInt() of either is exact).
 */
export function parseJsonWithBigInts(text: string): unknown {
	// Without a 16-digit run no integer can be unsafe, and JSON.parse gives the same answer.
	if (!LONG_DIGIT_RUN.test(text)) return JSON.parse(text);
	return parse(text, {
		number: (raw, integer) => {
			const value = Number(raw);
			return integer && !Number.isSafeInteger(value) ? BigInt(raw) : value;
		},
		nullPrototype: false,
		maxDepth: Number.POSITIVE_INFINITY,
	});
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
