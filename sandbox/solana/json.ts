// JSON as a validator reads and writes it: u64 values (lamports, token supplies, rentEpoch)
// travel as bare integer literals, exact past 2^53. Integers JavaScript numbers cannot hold
// exactly become bigint on the way in, and bigint is written back as its digits.

/** serde_json's default recursion limit: a validator refuses anything nested deeper. */
const MAX_DEPTH = 128;
const WHITESPACE = /[ \t\n\r]*/y;
// Finds where a string ends; JSON.parse then decodes it and rejects bad escapes and raw controls.
const STRING = /"(?:[^"\\]|\\.)*"/y;
const NUMBER = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;

/** Like JSON.parse, except that integer literals past ±(2^53 - 1) come back as exact bigints. */
export function parseJson(text: string): unknown {
	let pos = 0;
	const fail = (what: string): never => {
		throw new SyntaxError(`${what} at position ${pos}`);
	};
	const skip = () => {
		WHITESPACE.lastIndex = pos;
		WHITESPACE.exec(text);
		pos = WHITESPACE.lastIndex;
	};
	const match = (re: RegExp): RegExpExecArray | null => {
		re.lastIndex = pos;
		const m = re.exec(text);
		if (m) pos = re.lastIndex;
		return m;
	};
	const string = (): string => {
		const m = match(STRING);
		if (!m) return fail("invalid string");
		try {
			return JSON.parse(m[0]) as string;
		} catch {
			return fail("invalid string");
		}
	};
	const value = (depth: number): unknown => {
		if (depth > MAX_DEPTH) fail("recursion limit exceeded");
		skip();
		const ch = text[pos];
		if (ch === "{" || ch === "[") {
			pos++;
			const close = ch === "{" ? "}" : "]";
			const object: Record<string, unknown> = {};
			const array: unknown[] = [];
			skip();
			if (text[pos] === close) {
				pos++;
				return ch === "{" ? object : array;
			}
			for (;;) {
				skip();
				if (ch === "[") {
					array.push(value(depth + 1));
				} else {
					const key = string();
					skip();
					if (text[pos++] !== ":") fail('expected ":"');
					// An own property even for "__proto__", as JSON.parse makes it.
					Object.defineProperty(object, key, {
						value: value(depth + 1),
						enumerable: true,
						writable: true,
						configurable: true,
					});
				}
				skip();
				const next = text[pos++];
				if (next === close) return ch === "{" ? object : array;
				if (next !== ",") fail(`expected "," or "${close}"`);
			}
		}
		if (ch === '"') return string();
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
		const m = match(NUMBER);
		if (!m) return fail("unexpected character");
		const number = Number(m[0]);
		const integer = m[1] === undefined && m[2] === undefined;
		return integer && !Number.isSafeInteger(number) ? BigInt(m[0]) : number;
	};
	const result = value(0);
	skip();
	if (pos !== text.length) fail("unexpected trailing text");
	return result;
}

/** JSON.stringify with bigint written as an exact integer literal, as a validator writes u64. */
export function stringifyJson(value: unknown): string {
	if (typeof value === "bigint") return value.toString();
	if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
	if (Array.isArray(value)) {
		return `[${value.map((item) => (item === undefined ? "null" : stringifyJson(item))).join(",")}]`;
	}
	const parts: string[] = [];
	for (const [key, item] of Object.entries(value)) {
		if (item === undefined || typeof item === "function") continue;
		parts.push(`${JSON.stringify(key)}:${stringifyJson(item)}`);
	}
	return `{${parts.join(",")}}`;
}
